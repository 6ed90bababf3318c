/* ALBM: albmd's proxy data plane — listeners, connections, the splice relay */
#ifndef ALBM_DISTRIBUTOR_PROXY_H
#define ALBM_DISTRIBUTOR_PROXY_H

#include "distributor/worker.h"

/* One listening socket of a listener set, owned by one worker. */
struct albmd_listener {
	struct evl_io io;            /* first: the io callback gets this pointer */
	struct albmd_lset *set;
	struct albmd_worker *w;
	int fd;
	bool queued, registered, closing;
	struct albmd_listener *next;       /* worker's registered list */
	struct albmd_listener *inbox_next; /* worker's inbox */
};

/* The sockets of one listen address, one per worker (SO_REUSEPORT when > 1). */
struct albmd_lset {
	struct albm_addr addr;
	struct albmd_service *svc;   /* the owner (referenced), NULL before start */
	bool installed, closing;
	unsigned n, pending;         /* listeners not yet released by their worker */
	struct albmd_listener **l;   /* n of them, one per worker */
};

/* Worker side: a listener's inbox entry is processed (lock held). */
void albmd_listener_process(struct albmd_worker *w, struct albmd_listener *l);
/* Worker side: connections. */
void albmd_proxy_accept(struct evl *loop, struct evl_io *io, uint32_t revents);
void albmd_proxy_sweep(struct albmd_worker *w);
void albmd_proxy_after_batch(struct albmd_worker *w);
void albmd_proxy_close_all(struct albmd_worker *w);
void albmd_proxy_pause(struct albmd_worker *w, bool pause);
/* The queue timer: expire waiting clients, dispatch, re-arm while any wait. */
void albmd_proxy_queue_tick(struct albmd_worker *w);

#endif
