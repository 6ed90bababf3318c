/* ALBM: unit tests for albmd's lock domains (src/distributor/lock.c): the control
 * plane's albmd_lock() holds every service's lock, a service created or retired
 * inside it is released correctly, a worker's service lock excludes the control plane */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distributor/service.h"

static struct albmd_cfg_server servers[2];

static void service_cfg(struct albmd_cfg_service *cs, const char *name, const char *listen)
{
	char err[256];

	memset(cs, 0, sizeof(*cs));
	snprintf(cs->name, sizeof(cs->name), "%s", name);
	assert_int_equal(albm_addr_parse(listen, &cs->listen, err, sizeof(err)), 0);
	cs->has_listen = true;
	snprintf(cs->scheduler, sizeof(cs->scheduler), "rr");
	for (int i = 0; i < 2; i++) {
		memset(&servers[i], 0, sizeof(servers[i]));
		snprintf(servers[i].name, sizeof(servers[i].name), "s%d", i + 1);
		assert_int_equal(albm_addr_parse(i ? "127.0.0.1:9002" : "127.0.0.1:9001",
						 &servers[i].addr, err, sizeof(err)),
				 0);
		servers[i].has_port = true;
		servers[i].weight = 1;
	}
	cs->servers = servers;
	cs->nservers = 2;
}

/* A daemon with services "a" and "b" in its list (no data plane, no workers). */
static void setup(struct albmd *d)
{
	struct albmd_cfg_service cs;
	char err[256];

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->services = calloc(4, sizeof(*d->services));
	for (int i = 0; i < 2; i++) {
		service_cfg(&cs, i ? "b" : "a", i ? "127.0.0.1:8002" : "127.0.0.1:8001");
		d->services[i] = albmd_service_new(d, &cs, err, sizeof(err));
		assert_non_null(d->services[i]);
		d->services[i]->dp = NULL;
	}
	d->nservices = 2;
}

static void teardown(struct albmd *d)
{
	albmd_lock(d);
	for (size_t i = 0; i < d->nservices; i++)
		albmd_service_retire(d, d->services[i]);
	d->nservices = 0;
	albmd_unlock(d);
	free(d->services);
	albmd_lock_done(d);
	pthread_mutex_destroy(&d->lock);
}

static void test_lock_holds_every_service(void **state)
{
	struct albmd d;

	(void)state;
	setup(&d);
	albmd_lock(&d);
	for (size_t i = 0; i < d.nservices; i++)
		assert_int_equal(pthread_mutex_trylock(&d.services[i]->lock), EBUSY);
	albmd_unlock(&d);
	for (size_t i = 0; i < d.nservices; i++) {
		assert_int_equal(pthread_mutex_trylock(&d.services[i]->lock), 0);
		albmd_service_unlock(d.services[i]);
	}
	teardown(&d);
}

/* A reload's moves: a service created inside the section is held with the others
 * (it may already be visible to a worker), a retired one is unlocked and freed at
 * the end (ASan checks the order). */
static void test_adopt_and_retire(void **state)
{
	struct albmd_cfg_service cs;
	struct albmd_service *c;
	struct albmd d;
	char err[256];

	(void)state;
	setup(&d);
	albmd_lock(&d);
	service_cfg(&cs, "c", "127.0.0.1:8003");
	c = albmd_service_new(&d, &cs, err, sizeof(err));
	assert_non_null(c);
	c->dp = NULL;
	assert_int_equal(pthread_mutex_trylock(&c->lock), EBUSY);
	albmd_service_retire(&d, d.services[0]);
	d.services[0] = c;
	albmd_unlock(&d);
	assert_int_equal(d.held.n, 0);
	assert_int_equal(pthread_mutex_trylock(&c->lock), 0);
	albmd_service_unlock(c);
	teardown(&d);
}

/* Created outside albmd_lock() (start-up, tests): not held. */
static void test_no_adopt_outside(void **state)
{
	struct albmd d;

	(void)state;
	setup(&d);
	assert_int_equal(d.held.n, 0);
	assert_int_equal(pthread_mutex_trylock(&d.services[1]->lock), 0);
	albmd_service_unlock(d.services[1]);
	teardown(&d);
}

/* A worker's section on one service excludes the control plane until it ends. */
struct worker_arg {
	struct albmd_service *svc;
	unsigned step; /* atomic: 1 = holds the lock, 2 = may release it */
};

static void *worker_holds(void *p)
{
	struct worker_arg *a = p;

	albmd_service_lock(a->svc);
	__atomic_store_n(&a->step, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&a->step, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	albmd_service_unlock(a->svc);
	return NULL;
}

static void test_worker_excludes_control(void **state)
{
	struct worker_arg a = { 0 };
	struct albmd d;
	pthread_t t;

	(void)state;
	setup(&d);
	a.svc = d.services[1];
	assert_int_equal(pthread_create(&t, NULL, worker_holds, &a), 0);
	while (__atomic_load_n(&a.step, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	/* the daemon lock alone is free (no worker takes it) ... */
	assert_int_equal(pthread_mutex_trylock(&d.lock), 0);
	pthread_mutex_unlock(&d.lock);
	/* ... the other service too, but not this one */
	assert_int_equal(pthread_mutex_trylock(&d.services[0]->lock), 0);
	albmd_service_unlock(d.services[0]);
	assert_int_equal(pthread_mutex_trylock(&a.svc->lock), EBUSY);
	__atomic_store_n(&a.step, 2, __ATOMIC_RELEASE);
	albmd_lock(&d); /* waits for the worker's section */
	assert_int_equal(pthread_mutex_trylock(&a.svc->lock), EBUSY);
	albmd_unlock(&d);
	pthread_join(t, NULL);
	teardown(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_holds_every_service),
		cmocka_unit_test(test_adopt_and_retire),
		cmocka_unit_test(test_no_adopt_outside),
		cmocka_unit_test(test_worker_excludes_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
