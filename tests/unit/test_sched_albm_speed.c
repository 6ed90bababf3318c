/* ALBM: unit tests for the albm scheduler's learnt speeds (albm_speed.c): bytes per
 * CPU-second, the deadband */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/albm_fixture.h"
#include "common/log.h"
#include "common/util.h"

/* Speeds: bytes served per CPU-second.  A server that serves half as much per unit of
 * its CPU (its weight wrong, or a neighbour on its CPU) gets half the weight; right
 * weights leave the pick alone. */
static void test_albm_learns_speed(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 2 };
	struct albm_dest *a, *b, *c;
	unsigned cnt[3] = { 0, 0, 0 };
	char seq[64];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2];
	/* 10 s at full CPU: A serves 4 MB/s, B 2 MB/s, C (weight 2, twice the memory)
	 * 8 MB/s */
	for (uint64_t t = 1000; t <= 11000; t += 200) {
		clk.now_ms = t;
		a->passive.resp_bytes = (t - 1000) * 4000;
		b->passive.resp_bytes = (t - 1000) * 2000;
		c->passive.resp_bytes = (t - 1000) * 8000;
		report(&svc, a, 0.8, 1.0, false);
		report(&svc, b, 0.8, 1.0, false);
		report_x(&svc, c, 0.8, 2000, 1.0, 0, 0, 0);
		albm_svc_tick(&svc);
	}
	/* per unit of weight: 4, 2, 4 MB/s; median 4: rel 1, 0.5, 1 */
	struct albm_adapt_info ia, ib, ic;
	assert_int_equal(albm_adapt_info(&svc, a, &ia), 0);
	assert_int_equal(albm_adapt_info(&svc, b, &ib), 0);
	assert_int_equal(albm_adapt_info(&svc, c, &ic), 0);
	assert_near(ia.pick_weight, 1.0, 1e-6);
	assert_near(ib.pick_weight, 0.5, 1e-6);
	assert_near(ic.pick_weight, 2.0, 1e-6);
	/* 35 new connections: shares 1 : 0.5 : 2 */
	count_open(&svc, 35, cnt);
	assert_int_equal(cnt[0], 10);
	assert_int_equal(cnt[1], 5);
	assert_int_equal(cnt[2], 20);
	/* no CPU used (idle, paused): no evidence, the speed stays */
	for (uint64_t t = 11200; t <= 20000; t += 200) {
		clk.now_ms = t;
		report(&svc, b, 0.8, 0.0, false);
		albm_svc_tick(&svc);
	}
	assert_int_equal(albm_adapt_info(&svc, b, &ib), 0);
	assert_near(ib.pick_weight, 0.5, 1e-6);
	(void)seq;
	albm_svc_destroy(&svc);
}

/* Equal servers are not set apart by the estimate's noise: within 1.25x of the median
 * the speed factor is 1. */
static void test_albm_speed_deadband(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	struct albm_adapt_info info;
	const uint64_t rate[] = { 4000, 4800, 3300 }; /* bytes per ms: 1.2x and 0.83x of B */
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (uint64_t t = 1000; t <= 11000; t += 200) {
		clk.now_ms = t;
		for (int i = 0; i < 3; i++) {
			svc.dests[i]->passive.resp_bytes = (t - 1000) * rate[i];
			report(&svc, svc.dests[i], 0.8, 1.0, false);
		}
		albm_svc_tick(&svc);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(albm_adapt_info(&svc, svc.dests[i], &info), 0);
		assert_near(info.speed, 1.0, 1e-9);
	}
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_albm_learns_speed),
		cmocka_unit_test(test_albm_speed_deadband),
	};
	albm_log_level = ALBM_LOG_ERR; /* the refusals above are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
