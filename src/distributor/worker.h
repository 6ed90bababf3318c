/* ALBM: albmd's workers — threads with an event loop, an inbox and data-plane hooks */
#ifndef ALBM_DISTRIBUTOR_WORKER_H
#define ALBM_DISTRIBUTOR_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "distributor/daemon.h"

/*
 * A worker is a generic runtime: a thread (worker 0 is the main thread), its event
 * loop, an inbox through which other threads hand it work, and the hooks of the data
 * planes that run in it.  It knows nothing of what a plane does: a plane registers a
 * struct albmd_worker_plane (attach gives each worker the plane's own state) and
 * posts its objects (embedding a struct albmd_work) to the worker that owns them, so
 * that such an object is only ever touched by one thread.
 */

struct albmd_worker;
struct albmd_work;

/* Apply posted work in the worker's thread; ops are the bits posted since the last call. */
typedef void (*albmd_work_fn)(struct albmd_worker *w, struct albmd_work *work, unsigned ops);

/* An inbox entry, embedded in the object it is about.  Posting it again before the
 * worker took it only adds bits to ops: an object is in one inbox at most once. */
struct albmd_work {
	albmd_work_fn fn;
	struct albmd_work *next; /* the inbox (inbox_lock) */
	unsigned ops;            /* posted, not yet taken (inbox_lock) */
	bool queued;             /* in the inbox (inbox_lock) */
};

/* A data plane that runs in the workers.  attach is called for each worker at
 * creation, close_all and detach at destruction (from the main thread, once the
 * threads are joined); the others in the worker's thread. */
struct albmd_worker_plane {
	const char *name;
	void *(*attach)(struct albmd_worker *w);                  /* the plane's state */
	void (*after_batch)(struct albmd_worker *w, void *state); /* after events and timers */
	void (*sweep)(struct albmd_worker *w, void *state);       /* every ALBMD_WORKER_SWEEP_MS */
	void (*close_all)(struct albmd_worker *w, void *state);   /* shutdown: close everything */
	void (*detach)(struct albmd_worker *w, void *state);      /* free the state */
};

#define ALBMD_WORKER_PLANES_MAX 4
#define ALBMD_WORKER_SWEEP_MS   250

struct albmd_worker {
	struct albmd *d;
	unsigned id;
	struct evl *loop; /* worker 0: the main loop d->loop */
	pthread_t thread;
	bool threaded;              /* false for worker 0 (the main thread) */
	pthread_mutex_t inbox_lock; /* a leaf lock: nothing is taken under it */
	struct albmd_work *inbox, **inbox_tail;
	bool stop; /* inbox_lock */
	const struct albmd_worker_plane *planes[ALBMD_WORKER_PLANES_MAX];
	void *state[ALBMD_WORKER_PLANES_MAX];
	unsigned nplanes;
	struct evl_timer sweep;
};

/* Create nworkers workers running the given planes; worker 0 uses the main loop
 * d->loop.  0 or -errno with err. */
int albmd_workers_create(struct albmd *d, unsigned nworkers,
			 const struct albmd_worker_plane *const *planes, unsigned nplanes,
			 char *err, size_t errlen);
/* Start the threads of workers 1..N-1. */
int albmd_workers_start(struct albmd *d, char *err, size_t errlen);
/* Stop and join the threads, apply what is left in the inboxes, close everything
 * (close_all), free the planes' states and the workers. */
void albmd_workers_destroy(struct albmd *d);
/* Hand work to w (any thread; takes only w's inbox lock): work->fn(w, work, ops) runs
 * soon in w's thread. */
void albmd_worker_post(struct albmd_worker *w, struct albmd_work *work, unsigned ops);
/* The state plane p attached to w, NULL if p does not run there. */
void *albmd_worker_state(const struct albmd_worker *w, const struct albmd_worker_plane *p);

#endif
