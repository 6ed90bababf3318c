/* ALBM: albmd's workers — threads, their loops, the inbox, the data planes' hooks
 *
 * Worker 0 is the main thread (its loop also runs control, agents and health
 * checks); `workers N` adds N-1 threads, each with its own epoll loop.  Work for a
 * worker (a data plane registering or closing a listening socket, say) is posted to
 * its inbox under the worker's own inbox lock and applied by the worker itself after
 * an eventfd wakeup, so that an object is only ever touched by the thread that polls
 * it and no worker waits for the daemon lock.  The data planes (the proxy's, in
 * proxy/) bring their own per-worker state and are called through their hooks after
 * each batch of events, on a periodic sweep and at shutdown: this file does not know
 * what they are.
 */
#define LOG_COMPONENT "worker"
#include "distributor/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Take the inbox (and the stop flag) under the lock, then apply it without. */
static void worker_drain_inbox(struct albmd_worker *w, bool *stop)
{
	struct albmd_work *list, *next;

	pthread_mutex_lock(&w->inbox_lock);
	list = w->inbox;
	w->inbox = NULL;
	w->inbox_tail = &w->inbox;
	if (stop)
		*stop = w->stop;
	pthread_mutex_unlock(&w->inbox_lock);
	for (struct albmd_work *wk = list; wk; wk = next) {
		unsigned ops;
		pthread_mutex_lock(&w->inbox_lock);
		/* until taken here it counts as queued: a post meanwhile only adds ops */
		next = wk->next;
		ops = wk->ops;
		wk->ops = 0;
		wk->queued = false;
		pthread_mutex_unlock(&w->inbox_lock);
		if (ops)
			wk->fn(w, wk, ops);
	}
}

static void worker_wake(struct evl *loop, void *arg)
{
	struct albmd_worker *w = arg;
	bool stop = false;

	worker_drain_inbox(w, &stop);
	if (stop)
		evl_stop(loop);
}

static void worker_before_sleep(struct evl *loop, void *arg)
{
	struct albmd_worker *w = arg;

	(void)loop;
	for (unsigned i = 0; i < w->nplanes; i++)
		if (w->planes[i]->after_batch)
			w->planes[i]->after_batch(w, w->state[i]);
}

static void worker_sweep(struct evl *loop, struct evl_timer *t)
{
	struct albmd_worker *w =
		(struct albmd_worker *)((char *)t - offsetof(struct albmd_worker, sweep));

	for (unsigned i = 0; i < w->nplanes; i++)
		if (w->planes[i]->sweep)
			w->planes[i]->sweep(w, w->state[i]);
	evl_timer_start(loop, t, ALBMD_WORKER_SWEEP_MS, worker_sweep);
}

void albmd_worker_post(struct albmd_worker *w, struct albmd_work *work, unsigned ops)
{
	pthread_mutex_lock(&w->inbox_lock);
	work->ops |= ops;
	if (!work->queued) {
		work->queued = true;
		work->next = NULL;
		*w->inbox_tail = work;
		w->inbox_tail = &work->next;
	}
	pthread_mutex_unlock(&w->inbox_lock);
	evl_wakeup(w->loop);
}

void *albmd_worker_state(const struct albmd_worker *w, const struct albmd_worker_plane *p)
{
	for (unsigned i = 0; i < w->nplanes; i++)
		if (w->planes[i] == p)
			return w->state[i];
	return NULL;
}

static struct albmd_worker *worker_new(struct albmd *d, unsigned id,
				       const struct albmd_worker_plane *const *planes,
				       unsigned nplanes, char *err, size_t errlen)
{
	struct albmd_worker *w = xcalloc(1, sizeof(*w));

	w->d = d;
	w->id = id;
	if (id == 0) {
		w->loop = d->loop;
	} else if (!(w->loop = evl_create(err, errlen))) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->inbox_lock, NULL);
	w->inbox_tail = &w->inbox;
	evl_timer_init(&w->sweep);
	evl_set_wake_cb(w->loop, worker_wake, w);
	evl_set_before_sleep(w->loop, worker_before_sleep, w);
	if (id != 0)
		evl_set_data(w->loop, d);
	for (unsigned i = 0; i < nplanes && i < ALBMD_WORKER_PLANES_MAX; i++) {
		w->planes[i] = planes[i];
		w->state[i] = planes[i]->attach ? planes[i]->attach(w) : NULL;
		w->nplanes = i + 1;
	}
	evl_timer_start(w->loop, &w->sweep, ALBMD_WORKER_SWEEP_MS, worker_sweep);
	return w;
}

int albmd_workers_create(struct albmd *d, unsigned nworkers,
			 const struct albmd_worker_plane *const *planes, unsigned nplanes,
			 char *err, size_t errlen)
{
	if (nplanes > ALBMD_WORKER_PLANES_MAX) {
		albm_seterr(err, errlen, "%u worker planes (at most %d)", nplanes,
			    ALBMD_WORKER_PLANES_MAX);
		return -EINVAL;
	}
	d->workers = xcalloc(nworkers, sizeof(*d->workers));
	for (unsigned i = 0; i < nworkers; i++) {
		d->workers[i] = worker_new(d, i, planes, nplanes, err, errlen);
		if (!d->workers[i])
			return -ENOMEM;
		d->nworkers = i + 1;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct albmd_worker *w = arg;

	evl_run(w->loop);
	return NULL;
}

int albmd_workers_start(struct albmd *d, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc = 0;

	/* signals belong to the main thread (signalfd): block them in the workers */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 1; i < d->nworkers && !rc; i++) {
		rc = -pthread_create(&d->workers[i]->thread, NULL, worker_main, d->workers[i]);
		if (rc)
			albm_seterr(err, errlen, "pthread_create: %s", strerror(-rc));
		else
			d->workers[i]->threaded = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void worker_free(struct albmd_worker *w)
{
	for (unsigned i = 0; i < w->nplanes; i++) {
		if (w->planes[i]->close_all)
			w->planes[i]->close_all(w, w->state[i]);
		if (w->planes[i]->detach)
			w->planes[i]->detach(w, w->state[i]);
	}
	evl_timer_stop(w->loop, &w->sweep);
	if (w->id != 0)
		evl_destroy(w->loop);
	pthread_mutex_destroy(&w->inbox_lock);
	free(w);
}

void albmd_workers_destroy(struct albmd *d)
{
	for (unsigned i = 1; i < d->nworkers; i++) {
		struct albmd_worker *w = d->workers[i];
		pthread_mutex_lock(&w->inbox_lock);
		w->stop = true;
		pthread_mutex_unlock(&w->inbox_lock);
		evl_wakeup(w->loop);
	}
	for (unsigned i = 1; i < d->nworkers; i++)
		if (d->workers[i]->threaded)
			pthread_join(d->workers[i]->thread, NULL);
	/* the threads are gone: what is left in the inboxes is applied here */
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_drain_inbox(d->workers[i], NULL);
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_free(d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	d->nworkers = 0;
}
