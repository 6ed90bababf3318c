/* ALBM: albmd's proxy workers — threads, their loops, the listener inbox, pools
 *
 * Worker 0 is the main thread (its loop also runs control, agents and health
 * checks); `workers N` adds N-1 threads, each with its own epoll loop and its own
 * SO_REUSEPORT socket per service, so that the kernel spreads new connections.
 * Listener changes (start, reload, stop) are posted to a worker's inbox under the
 * daemon lock and applied by the worker itself after an eventfd wakeup, so that a
 * listener is only ever touched by the thread that polls it.  Each worker also owns
 * the queue of its clients waiting for a server (proxy.c) and the timer that polls it.
 */
#define LOG_COMPONENT "worker"
#include "distributor/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy.h"

#define PIPE_POOL_MAX 128
#define SWEEP_MS 250

static void worker_wake(struct evl *loop, void *arg)
{
	struct albmd_worker *w = arg;
	struct albmd *d = w->d;

	albmd_lock(d);
	while (w->inbox) {
		struct albmd_listener *l = w->inbox;
		w->inbox = l->inbox_next;
		l->inbox_next = NULL;
		l->queued = false;
		albmd_listener_process(w, l);
	}
	if (w->stop)
		evl_stop(loop);
	albmd_unlock(d);
}

static void worker_before_sleep(struct evl *loop, void *arg)
{
	(void)loop;
	albmd_proxy_after_batch(arg);
}

static void worker_sweep(struct evl *loop, struct evl_timer *t)
{
	struct albmd_worker *w = (struct albmd_worker *)((char *)t - offsetof(struct albmd_worker, sweep));

	albmd_proxy_sweep(w);
	evl_timer_start(loop, t, SWEEP_MS, worker_sweep);
}

static void worker_queue_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_worker *w = (struct albmd_worker *)((char *)t - offsetof(struct albmd_worker, qtimer));

	(void)loop;
	albmd_proxy_queue_tick(w);
}

void albmd_worker_queue_arm(struct albmd_worker *w)
{
	if (!evl_timer_armed(&w->qtimer))
		evl_timer_start(w->loop, &w->qtimer, ALBMD_QUEUE_POLL_MS, worker_queue_timer);
}

void albmd_worker_post(struct albmd_worker *w, struct albmd_listener *l)
{
	if (!l->queued) {
		l->queued = true;
		l->inbox_next = w->inbox;
		w->inbox = l;
	}
	evl_wakeup(w->loop);
}

int albmd_worker_pipe_get(struct albmd_worker *w, int p[2])
{
	if (w->npipes) {
		w->npipes--;
		p[0] = w->pipes[w->npipes][0];
		p[1] = w->pipes[w->npipes][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* bigger pipes: fewer splice() calls per MiB (kept at 64 KiB if refused) */
	fcntl(p[1], F_SETPIPE_SZ, ALBMD_PIPE_SIZE);
	return 0;
}

void albmd_worker_pipe_put(struct albmd_worker *w, int p[2], bool empty)
{
	if (p[0] < 0)
		return;
	if (empty && w->npipes < PIPE_POOL_MAX) {
		w->pipes[w->npipes][0] = p[0];
		w->pipes[w->npipes][1] = p[1];
		w->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

static struct albmd_worker *worker_new(struct albmd *d, unsigned id, char *err, size_t errlen)
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
	w->threaded = id != 0;
	w->pipes = xcalloc(PIPE_POOL_MAX, sizeof(*w->pipes));
	w->scratch = xmalloc(ALBMD_SCRATCH_SIZE);
	evl_timer_init(&w->sweep);
	evl_timer_init(&w->qtimer);
	evl_set_wake_cb(w->loop, worker_wake, w);
	evl_set_before_sleep(w->loop, worker_before_sleep, w);
	if (id != 0)
		evl_set_data(w->loop, d);
	evl_timer_start(w->loop, &w->sweep, SWEEP_MS, worker_sweep);
	return w;
}

int albmd_workers_create(struct albmd *d, unsigned nworkers, char *err, size_t errlen)
{
	d->workers = xcalloc(nworkers, sizeof(*d->workers));
	for (unsigned i = 0; i < nworkers; i++) {
		d->workers[i] = worker_new(d, i, err, errlen);
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
	for (unsigned i = 1; i < d->nworkers; i++)
		if (rc)
			d->workers[i]->threaded = false;
	return rc;
}

static void worker_free(struct albmd *d, struct albmd_worker *w)
{
	albmd_proxy_close_all(w);
	albmd_proxy_after_batch(w);
	while (w->free_conns) {
		struct albmd_conn *c = w->free_conns;
		w->free_conns = *(struct albmd_conn **)c; /* first word links free objects */
		free(c);
	}
	for (size_t i = 0; i < w->npipes; i++) {
		close(w->pipes[i][0]);
		close(w->pipes[i][1]);
	}
	evl_timer_stop(w->loop, &w->sweep);
	evl_timer_stop(w->loop, &w->qtimer);
	if (w->id != 0)
		evl_destroy(w->loop);
	(void)d;
	free(w->pipes);
	free(w->scratch);
	free(w);
}

void albmd_workers_destroy(struct albmd *d)
{
	albmd_lock(d);
	for (unsigned i = 1; i < d->nworkers; i++) {
		d->workers[i]->stop = true;
		evl_wakeup(d->workers[i]->loop);
	}
	albmd_unlock(d);
	for (unsigned i = 1; i < d->nworkers; i++)
		if (d->workers[i]->threaded)
			pthread_join(d->workers[i]->thread, NULL);
	/* the threads are gone: the remaining inbox entries are processed here */
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct albmd_worker *w = d->workers[i];
		albmd_lock(d);
		while (w->inbox) {
			struct albmd_listener *l = w->inbox;
			w->inbox = l->inbox_next;
			l->queued = false;
			albmd_listener_process(w, l);
		}
		albmd_unlock(d);
	}
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_free(d, d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	d->nworkers = 0;
}
