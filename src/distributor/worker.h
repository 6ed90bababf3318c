/* ALBM: albmd's proxy workers — one event loop per thread, listener inbox, pools */
#ifndef ALBM_DISTRIBUTOR_WORKER_H
#define ALBM_DISTRIBUTOR_WORKER_H

#include <pthread.h>

#include "distributor/daemon.h"

struct albmd_conn;
struct albmd_listener;

#define ALBMD_SCRATCH_SIZE (64 * 1024) /* one read/write in copy mode */
#define ALBMD_PIPE_SIZE (256 * 1024)   /* splice pipes (F_SETPIPE_SZ) */

struct albmd_worker {
	struct albmd *d;
	unsigned id;
	struct evl *loop;
	pthread_t thread;
	bool threaded;                 /* false for worker 0 (the main thread) */
	bool stop;                     /* under d->lock */
	bool paused;                   /* listeners off: global maxconn reached */
	struct albmd_listener *inbox;  /* listeners to register or close (d->lock) */
	struct albmd_listener *listeners; /* registered here (worker's thread only) */
	struct albmd_conn *conns;      /* live connections (doubly linked) */
	size_t nconns;
	struct albmd_conn *free_conns; /* recycled connection objects */
	size_t nfree;
	struct albmd_conn *dead;       /* closed in this batch; recycled after it */
	struct albmd_conn *retry;      /* connect failed; reconnect after this batch */
	struct albmd_conn *qhead, *qtail; /* waiting for a server, oldest first (proxy.c) */
	bool released;                 /* a connection gave a server back in this batch */
	struct evl_timer qtimer;       /* armed while the queue is not empty */
	int (*pipes)[2];               /* pool of empty pipes */
	size_t npipes;
	char *scratch;                 /* ALBMD_SCRATCH_SIZE bytes for copy mode */
	struct evl_timer sweep;
};

/* Create nworkers workers; worker 0 uses the main loop d->loop.  0 or -errno. */
int albmd_workers_create(struct albmd *d, unsigned nworkers, char *err, size_t errlen);
/* Start the threads of workers 1..N-1. */
int albmd_workers_start(struct albmd *d, char *err, size_t errlen);
/* Stop and join the threads, close every connection, free the workers. */
void albmd_workers_destroy(struct albmd *d);
/* Queue a listener for registration or closing in its worker (lock held). */
void albmd_worker_post(struct albmd_worker *w, struct albmd_listener *l);

/* Arm the queue timer (ALBMD_QUEUE_POLL_MS) unless it is armed: it calls
 * albmd_proxy_queue_tick(), which re-arms it while connections wait. */
#define ALBMD_QUEUE_POLL_MS 10
void albmd_worker_queue_arm(struct albmd_worker *w);

/* Pipe pool: get an empty non-blocking pipe (0 or -errno), give one back. */
int albmd_worker_pipe_get(struct albmd_worker *w, int p[2]);
void albmd_worker_pipe_put(struct albmd_worker *w, int p[2], bool empty);

#endif
