/* ALBM: unit tests for albmd's worker runtime (src/distributor/worker.c) — real threads
 * and event loops, a data plane of the test's own registered through the hooks */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/worker.h"

/* The test plane's state in one worker. */
struct tplane {
	struct albmd_worker *w;
	unsigned after_batch, sweeps, close_all; /* atomic */
	bool *detached;
};

static bool detached[8];

static void *tp_attach(struct albmd_worker *w)
{
	struct tplane *tp = calloc(1, sizeof(*tp));

	tp->w = w;
	tp->detached = &detached[w->id];
	return tp;
}

static void tp_after_batch(struct albmd_worker *w, void *state)
{
	struct tplane *tp = state;

	assert_ptr_equal(tp->w, w);
	__atomic_fetch_add(&tp->after_batch, 1, __ATOMIC_RELAXED);
}

static void tp_sweep(struct albmd_worker *w, void *state)
{
	struct tplane *tp = state;

	(void)w;
	__atomic_fetch_add(&tp->sweeps, 1, __ATOMIC_RELAXED);
}

static void tp_close_all(struct albmd_worker *w, void *state)
{
	struct tplane *tp = state;

	(void)w;
	tp->close_all++;
	assert_false(*tp->detached); /* close_all before detach */
}

static void tp_detach(struct albmd_worker *w, void *state)
{
	struct tplane *tp = state;

	(void)w;
	assert_int_equal(tp->close_all, 1);
	*tp->detached = true;
	free(tp);
}

static const struct albmd_worker_plane tplane = {
	.name = "test",
	.attach = tp_attach,
	.after_batch = tp_after_batch,
	.sweep = tp_sweep,
	.close_all = tp_close_all,
	.detach = tp_detach,
};

/* A piece of work: records where and with what it ran. */
struct job {
	struct albmd_work work;
	pthread_t ran_on;
	unsigned ops, calls; /* atomic: read by the test's thread */
};

static void job_run(struct albmd_worker *w, struct albmd_work *work, unsigned ops)
{
	struct job *j = (struct job *)work;

	(void)w;
	j->ran_on = pthread_self();
	__atomic_fetch_or(&j->ops, ops, __ATOMIC_RELAXED);
	__atomic_fetch_add(&j->calls, 1, __ATOMIC_RELEASE);
}

static bool wait_for(unsigned *v, unsigned min)
{
	for (int i = 0; i < 500; i++) { /* 5 s */
		if (__atomic_load_n(v, __ATOMIC_ACQUIRE) >= min)
			return true;
		usleep(10000);
	}
	return false;
}

static void setup_daemon(struct albmd *d, unsigned n)
{
	const struct albmd_worker_plane *planes[] = { &tplane };
	char err[256];

	memset(d, 0, sizeof(*d));
	memset(detached, 0, sizeof(detached));
	d->loop = evl_create(err, sizeof(err));
	assert_non_null(d->loop);
	assert_int_equal(albmd_workers_create(d, n, planes, 1, err, sizeof(err)), 0);
	assert_int_equal(d->nworkers, n);
	assert_int_equal(albmd_workers_start(d, err, sizeof(err)), 0);
}

/* Work posted from the main thread runs in the worker's own thread, and the plane's
 * hooks run there too (after each batch, on the sweep timer). */
static void test_post_runs_in_worker(void **state)
{
	struct albmd d;
	struct job j[3];

	(void)state;
	setup_daemon(&d, 3);
	memset(j, 0, sizeof(j));
	for (unsigned i = 1; i < 3; i++) {
		j[i].work.fn = job_run;
		albmd_worker_post(d.workers[i], &j[i].work, 1u << i);
	}
	for (unsigned i = 1; i < 3; i++) {
		struct tplane *tp = albmd_worker_state(d.workers[i], &tplane);
		assert_non_null(tp);
		assert_true(wait_for(&j[i].calls, 1));
		assert_true(pthread_equal(j[i].ran_on, d.workers[i]->thread));
		assert_int_equal(j[i].ops, 1u << i);
		assert_true(wait_for(&tp->after_batch, 1));
		assert_true(wait_for(&tp->sweeps, 1)); /* ALBMD_WORKER_SWEEP_MS */
	}
	assert_null(albmd_worker_state(d.workers[0], NULL));
	albmd_workers_destroy(&d);
	for (unsigned i = 0; i < 3; i++)
		assert_true(detached[i]);
	assert_null(d.workers);
	evl_destroy(d.loop);
}

/* Work posted twice before the worker takes it runs once with both ops; what is
 * still in an inbox at shutdown is applied by albmd_workers_destroy(). */
static void test_post_merges_and_drains(void **state)
{
	struct albmd d;
	struct job j;

	(void)state;
	setup_daemon(&d, 2);
	memset(&j, 0, sizeof(j));
	j.work.fn = job_run;
	/* worker 0 is the main loop, which this test does not run */
	albmd_worker_post(d.workers[0], &j.work, 1);
	albmd_worker_post(d.workers[0], &j.work, 4);
	assert_int_equal(j.calls, 0);
	albmd_workers_destroy(&d);
	assert_int_equal(j.calls, 1);
	assert_int_equal(j.ops, 5);
	assert_true(pthread_equal(j.ran_on, pthread_self()));
	evl_destroy(d.loop);
}

/* Reposting from inside the work function (the object stays in use) runs it again. */
static void job_repost(struct albmd_worker *w, struct albmd_work *work, unsigned ops)
{
	struct job *j = (struct job *)work;

	job_run(w, work, ops);
	if (__atomic_load_n(&j->calls, __ATOMIC_RELAXED) < 3)
		albmd_worker_post(w, work, ops << 1);
}

static void test_repost(void **state)
{
	struct albmd d;
	struct job j;

	(void)state;
	setup_daemon(&d, 2);
	memset(&j, 0, sizeof(j));
	j.work.fn = job_repost;
	albmd_worker_post(d.workers[1], &j.work, 1);
	assert_true(wait_for(&j.calls, 3));
	albmd_workers_destroy(&d);
	assert_int_equal(j.calls, 3);
	assert_int_equal(j.ops, 7);
	evl_destroy(d.loop);
}

static void test_too_many_planes(void **state)
{
	const struct albmd_worker_plane *planes[ALBMD_WORKER_PLANES_MAX + 1];
	struct albmd d;
	char err[256];

	(void)state;
	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < ARRAY_SIZE(planes); i++)
		planes[i] = &tplane;
	assert_int_equal(albmd_workers_create(&d, 1, planes, ARRAY_SIZE(planes), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "planes"));
	assert_int_equal(d.nworkers, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_runs_in_worker),
		cmocka_unit_test(test_post_merges_and_drains),
		cmocka_unit_test(test_repost),
		cmocka_unit_test(test_too_many_planes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
