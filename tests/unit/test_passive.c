/* ALBM: unit tests for albmd's passive measurements (src/distributor/passive.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "distributor/passive.h"
#include "distributor/service.h"

/* The EWMA takes the first sample whole, then ALBMD_PASSIVE_ALPHA of each change. */
static void test_ewma(void **state)
{
	struct albmd_passive p;
	double want = 1000.0;

	(void)state;
	albmd_passive_init(&p);
	albmd_passive_sample(&p, ALBMD_PASSIVE_TTFB, 1000);
	assert_true(p.fig[ALBMD_PASSIVE_TTFB].ewma_us == 1000.0);
	for (int i = 0; i < 5; i++) {
		albmd_passive_sample(&p, ALBMD_PASSIVE_TTFB, 6000);
		want += ALBMD_PASSIVE_ALPHA * (6000.0 - want);
	}
	assert_true(p.fig[ALBMD_PASSIVE_TTFB].ewma_us > want - 1e-9 &&
		    p.fig[ALBMD_PASSIVE_TTFB].ewma_us < want + 1e-9);
	assert_int_equal(p.fig[ALBMD_PASSIVE_TTFB].samples, 6);
	assert_int_equal(p.fig[ALBMD_PASSIVE_CONNECT].samples, 0); /* figures are apart */
	albmd_passive_sample(&p, ALBMD_PASSIVE_NFIG, 5);           /* out of range: ignored */
	albmd_passive_sample(&p, ALBMD_PASSIVE_DURATION, (uint64_t)1 << 40); /* saturates */
	assert_int_equal(p.fig[ALBMD_PASSIVE_DURATION].us[0], UINT32_MAX);
	assert_true(p.dirty);
	albmd_passive_error(&p);
	assert_int_equal(p.errors, 1);
	albmd_passive_destroy(&p);
}

/* The p90 is the nearest-rank one over the samples of the window, the ring wraps. */
static void test_p90_window(void **state)
{
	struct albmd_passive_ring r;
	uint32_t p90 = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(albmd_passive_p90(&r, 1000, 10000, &p90)); /* nothing yet */
	/* 1..10 ms at t = 1000: ceil(0.9 * 10) = 9th smallest */
	for (uint32_t i = 0; i < 10; i++) {
		r.us[i] = (10 - i) * 1000; /* out of order on purpose */
		r.ms[i] = 1000;
	}
	r.samples = 10;
	r.head = 10;
	assert_true(albmd_passive_p90(&r, 1000, 10000, &p90));
	assert_int_equal(p90, 9000);
	/* the four largest are old: 1..6 ms remain, ceil(5.4) = 6th */
	for (int i = 0; i < 4; i++)
		r.ms[i] = 0;
	assert_true(albmd_passive_p90(&r, 20000, 19500, &p90));
	assert_int_equal(p90, 6000);
	/* all old: no figure */
	assert_false(albmd_passive_p90(&r, 60000, 10000, &p90));
	/* the ms clock wraps: a sample 5 ms before the wrap is 10 ms old after it (the
	 * others, taken "after" now, count as old) */
	for (int i = 0; i < 4; i++)
		r.ms[i] = 100;
	r.ms[4] = UINT32_MAX - 4;
	assert_true(albmd_passive_p90(&r, 5, 20, &p90));
	assert_int_equal(p90, 6000);
	/* a full ring keeps only the latest ALBMD_PASSIVE_WINDOW samples */
	struct albmd_passive p;
	albmd_passive_init(&p);
	for (uint32_t i = 1; i <= ALBMD_PASSIVE_WINDOW + 36; i++)
		albmd_passive_sample(&p, ALBMD_PASSIVE_CONNECT, i);
	assert_true(albmd_passive_p90(&p.fig[ALBMD_PASSIVE_CONNECT], (uint32_t)albm_now_ms(),
				      ALBMD_PASSIVE_WINDOW_MS, &p90));
	/* samples 37..100 kept: ceil(0.9 * 64) = 58th of them = 94 */
	assert_int_equal(p90, 94);
	albmd_passive_destroy(&p);
}

/* The tick publishes the figures into the scheduler's view of the server. */
static void test_publish(void **state)
{
	const char *text = "service web { listen 127.0.0.1:8080; scheduler prequal;\n"
			   "  server s1 127.0.0.1:9001; server s2 127.0.0.1:9002; }\n";
	struct albmd d;
	struct albmd_config cfg;
	struct albmd_service *svc;
	struct albmd_server *s1, *s2;
	char err[512];

	(void)state;
	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.lock, NULL);
	assert_int_equal(albmd_config_parse("t.conf", text, strlen(text), &cfg, err, sizeof(err)),
			 0);
	svc = albmd_service_new(&d, &cfg.services[0], err, sizeof(err));
	assert_non_null(svc);
	s1 = albmd_server_find(svc, "s1");
	s2 = albmd_server_find(svc, "s2");
	albmd_passive_sample(&s1->passive, ALBMD_PASSIVE_TTFB, 2000);
	albmd_passive_sample(&s1->passive, ALBMD_PASSIVE_TTFB, 7000);
	albmd_passive_sample(&s1->passive, ALBMD_PASSIVE_CONNECT, 150);
	albmd_passive_error(&s1->passive);
	assert_int_equal(s1->dest->passive.ttfb.samples, 0); /* not before the tick */
	albmd_passive_publish(svc);
	assert_int_equal(s1->dest->passive.ttfb.samples, 2);
	assert_int_equal(s1->dest->passive.ttfb.ewma_us, 3000); /* 2000 + 0.2 * 5000 */
	assert_int_equal(s1->dest->passive.ttfb.p90_us, 7000);
	assert_int_equal(s1->dest->passive.connect.ewma_us, 150);
	assert_int_equal(s1->dest->passive.duration.samples, 0);
	assert_int_equal(s1->dest->passive.errors, 1);
	assert_true(s1->dest->passive.updated_ms > 0);
	assert_false(s1->passive.dirty);
	/* a server that measured nothing stays at zero */
	assert_int_equal(s2->dest->passive.updated_ms, 0);
	assert_int_equal(s2->dest->passive.ttfb.samples, 0);
	albmd_service_retire(&d, svc);
	albmd_config_free(&cfg);
	pthread_mutex_destroy(&d.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ewma),
		cmocka_unit_test(test_p90_window),
		cmocka_unit_test(test_publish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
