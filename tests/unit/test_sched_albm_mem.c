/* ALBM: unit tests for the albm scheduler's connection limits learnt from memory
 * (albm_mem.c): AIMD, sharing, first approach, probing, neighbours, OOM kills and
 * thrashing */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "../lib/albm_fixture.h"
#include "common/log.h"
#include "common/util.h"

/* Connection limits learnt from memory by AIMD. */
static void test_albm_learns_connection_limit(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	svc.adaptive.mem_reserve = 0.10;
	svc.adaptive.slow_start_ms = 1000;
	report(&svc, a, 0.5, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	fixture_sequence_open(&svc, 16, seq); /* 8 each, no limit yet */
	assert_int_equal(a->activeconns, 8);
	assert_int_equal(b->activeconns, 8);

	/* A's memory runs short with 8 connections: limit floor(0.75 * 8) = 6, and A
	 * is full until two of its connections end */
	report(&svc, a, 0.05, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	assert_true(a->eff_weight == 0);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BBB");
	albm_svc_conn_close(&svc, a, true);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	albm_svc_conn_close(&svc, a, true);
	albm_svc_conn_close(&svc, a, true); /* 5 < 6: back, without slow start */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 1, seq), "A");
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);

	/* still short at the next report: the same shortage (A drains what it took
	 * before), no second decrease ... */
	at(&svc, &clk, 1500);
	report(&svc, a, 0.08, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	/* ... until memory was back above the reserve: a new shortage decreases
	 * again, from min(limit, active) */
	at(&svc, &clk, 1700);
	report(&svc, a, 0.3, 0.0, false);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.08, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	/* an increase needs a whole window (4 s) in which the limit was reached and
	 * the lowest memory m would still leave room for two more average
	 * connections above the reserve: m - 2 (1 - m) / limit >= reserve */
	while (a->activeconns > 2)
		albm_svc_conn_close(&svc, a, true);
	albm_svc_set_weight(&svc, b, 0); /* only A left to pick */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	at(&svc, &clk, 6100);
	report(&svc, a, 0.6, 0.0, false); /* the window since 2000 saw 0.08: no */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "AA-"); /* limit reached */
	at(&svc, &clk, 8000);
	report(&svc, a, 0.6, 0.0, false); /* window not over yet */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	at(&svc, &clk, 10100);
	report(&svc, a, 0.6, 0.0, false); /* 0.6 - 2 x 0.4 / 4 >= 0.1, reached: + 1 */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	at(&svc, &clk, 14200);
	report(&svc, a, 0.6, 0.0, false); /* comfortable but never reached: hold */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "A-");
	at(&svc, &clk, 15000);
	report(&svc, a, 0.3, 0.0, false); /* well above the reserve, but ... */
	at(&svc, &clk, 18300);
	report(&svc, a, 0.6, 0.0, false); /* ... 0.3 - 2 x 0.7 / 5 < 0.1: hold */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	/* the agent's overloaded state alone (CPU, or the operator's threshold) is
	 * no memory shortage: the server is excluded, its limit stays */
	at(&svc, &clk, 19000);
	report(&svc, a, 0.5, 0.0, true);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_AGENT_OVL);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	at(&svc, &clk, 19500);
	report(&svc, a, 0.05, 0.0, true);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 3);
	/* every new shortage (memory back above the reserve in between) decreases;
	 * the limit never falls below one */
	for (int i = 0; i < 10; i++) {
		at(&svc, &clk, 21000 + 2000 * (uint64_t)i);
		report(&svc, a, 0.5, 0.0, false);
		at(&svc, &clk, 22000 + 2000 * (uint64_t)i);
		report(&svc, a, 0.01, 0.0, false);
	}
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 1);
	/* reports without a memory total leave the limit alone */
	struct albm_metrics m = { .cpu_util = 0.1 };
	albm_svc_report(&svc, a, &m);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 1);
	albm_svc_destroy(&svc);
}

/* A neighbour takes memory: the limit follows the memory it leaves, the learnt limit
 * is not lowered for it, and the server takes its share again when it goes.  A burst
 * seen in one report is no neighbour. */
static void test_albm_neighbour(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	struct albm_dest *a;
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	a = svc.dests[0];
	svc.adaptive.mem_reserve = 0.2;
	for (int i = 0; i < 4; i++) /* idle: 100 MB of 1000 in use */
		report(&svc, svc.dests[i], 0.9, 0.5, false);
	fixture_sequence_open(&svc, 16, seq); /* 4 each */
	at(&svc, &clk, 1200);
	for (int i = 0; i < 4; i++) /* 40 MB a connection */
		report(&svc, svc.dests[i], 0.74, 0.5, false);
	/* a burst of large requests on A, one report: not a neighbour */
	at(&svc, &clk, 1400);
	report(&svc, a, 0.40, 0.5, false);
	at(&svc, &clk, 1600);
	report(&svc, a, 0.74, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 0);
	/* something takes 500 MB on A, two reports running: a neighbour; A may hold as
	 * many connections as the memory left above the reserve holds at 40 MB each:
	 * 4 + floor((240 - 200) / 40) = 5 */
	at(&svc, &clk, 1800);
	report(&svc, a, 0.24, 0.5, false); /* suspected: the headroom applies at once */
	assert_int_equal(limit_of(&svc, a), 5);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.24, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 5);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* below the reserve with the neighbour there: no AIMD decrease, the limit is
	 * what the memory holds: 4 + floor((100 - 200) / 40) = 1, A is full */
	at(&svc, &clk, 2200);
	report(&svc, a, 0.10, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 1);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BCD");
	/* it goes: no limit again, A takes its share at once */
	at(&svc, &clk, 2400);
	report(&svc, a, 0.74, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 0);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 1, seq), "A");
	/* a shortage its own connections explain lowers the learnt limit: A alone takes
	 * 16 more (21 x 40 MB + 100 = 940 MB in use): 0.75 x 21 */
	for (int i = 1; i < 4; i++)
		albm_svc_set_weight(&svc, svc.dests[i], 0);
	assert_string_equal(fixture_sequence_open(&svc, 16, seq), "AAAAAAAAAAAAAAAA");
	at(&svc, &clk, 2600);
	report(&svc, a, 0.06, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 15);
	albm_svc_destroy(&svc);
}

/* An OOM kill halves what the server held; major faults (thrashing) are a shortage
 * even with memory reported free. */
static void test_albm_oom_and_thrashing(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[32];
	const uint32_t p = ALBM_MET_OOM_KILLS | ALBM_MET_MAJFAULT;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	report_x(&svc, a, 0.9, 1000, 0.5, p, 0, 3);
	report_x(&svc, b, 0.9, 1000, 0.5, p, 0, 0);
	fixture_sequence_open(&svc, 12, seq); /* 6 each */
	at(&svc, &clk, 1200);
	report_x(&svc, a, 0.5, 1000, 0.5, p, 0, 3); /* no new kill: nothing */
	assert_int_equal(limit_of(&svc, a), 0);
	while (a->activeconns) /* the kill resets its connections */
		albm_svc_conn_close(&svc, a, true);
	at(&svc, &clk, 1400);
	report_x(&svc, a, 0.95, 1000, 0.0, p, 0, 4); /* killed: 6 held -> 3 */
	assert_int_equal(limit_of(&svc, a), 3);
	/* B: 40 % free, but reading its pages back from swap at 1000/s: a shortage
	 * (from the limit A's taught it at the tick, 3: floor(0.75 x 3)) */
	at(&svc, &clk, 1600);
	assert_int_equal(limit_of(&svc, b), 3);
	report_x(&svc, b, 0.4, 1000, 0.5, p, 1000, 0);
	assert_int_equal(limit_of(&svc, b), 2);
	/* a high rate without the field's bit is no signal (nor a thrash below it) */
	at(&svc, &clk, 1800);
	report_x(&svc, b, 0.5, 1000, 0.5, 0, 5000, 0);
	at(&svc, &clk, 3000);
	report_x(&svc, b, 0.4, 1000, 0.5, p, 100, 0);
	assert_int_equal(limit_of(&svc, b), 2);
	albm_svc_destroy(&svc);
}

/* A cold start: equal weights, unequal memory; before any limit is learnt a server's
 * share of a flash crowd is no larger than its share of memory (per unit of weight). */
static void test_albm_cold_start_by_memory(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	const double mb[] = { 128, 128, 48, 48 };
	unsigned cnt[4] = { 0, 0, 0, 0 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	for (int i = 0; i < 4; i++)
		report_x(&svc, svc.dests[i], 0.95, mb[i], 0.0, 0, 0, 0);
	at(&svc, &clk, 1100);      /* the tick compares the totals: median 88 MB */
	count_open(&svc, 32, cnt); /* weights 128/88 x 1 (rel 1 wins), 48/88 */
	assert_int_equal(cnt[0], 10);
	assert_int_equal(cnt[1], 10);
	assert_int_equal(cnt[2], 6);
	assert_int_equal(cnt[3], 6);
	/* a learnt limit takes over from the prior */
	report_x(&svc, svc.dests[2], 0.05, 48, 0.5, 0, 0, 0);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 4);
	struct albm_adapt_info info;
	assert_int_equal(albm_adapt_info(&svc, svc.dests[2], &info), 0);
	assert_near(info.pick_weight, 1.0, 1e-9);
	albm_svc_destroy(&svc);
}

/* A limit learnt from one or two connections says more about the server (a neighbour
 * took its memory) than about the workload: it is not shared, and a first approach
 * needs three connections. */
static void test_albm_limit_from_few_not_shared(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	char seq[8];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (int i = 0; i < 3; i++)
		report(&svc, svc.dests[i], 0.95, 0.5, false);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "ABC"); /* one each */
	at(&svc, &clk, 1200);
	report(&svc, svc.dests[0], 0.35, 0.5, false); /* under 2 x reserve with 1: no limit */
	assert_int_equal(limit_of(&svc, svc.dests[0]), 0);
	report(&svc, svc.dests[0], 0.05, 0.5, false); /* a shortage with 1: its own limit 1 */
	assert_int_equal(limit_of(&svc, svc.dests[0]), 1);
	at(&svc, &clk, 1300); /* ... that the tick does not hand on */
	assert_int_equal(limit_of(&svc, svc.dests[1]), 0);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 0);
	albm_svc_destroy(&svc);
}

/* Limits are shared per byte of memory when every server reports a total. */
static void test_albm_shares_limit_by_memory(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report_x(&svc, svc.dests[0], 0.9, 2000, 0.5, 0, 0, 0);
	report_x(&svc, svc.dests[1], 0.9, 1000, 0.5, 0, 0, 0);
	report_x(&svc, svc.dests[2], 0.9, 500, 0.5, 0, 0, 0);
	fixture_sequence_open(&svc, 24, seq); /* 8 each */
	at(&svc, &clk, 1200);
	report_x(&svc, svc.dests[0], 0.05, 2000, 0.5, 0, 0, 0); /* 8 -> 6 */
	at(&svc, &clk, 1300);
	assert_int_equal(limit_of(&svc, svc.dests[0]), 6);
	assert_int_equal(limit_of(&svc, svc.dests[1]), 3);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 1); /* 1.5 */
	albm_svc_destroy(&svc);
}

/* Servers that never ran short start from the learnt limit per unit of weight. */
static void test_albm_shares_learnt_limit(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 2, 1, 1, 4 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	for (int i = 0; i < 3; i++)
		report(&svc, svc.dests[i], 0.5, 0.0, false); /* D never reports */
	fixture_sequence_open(&svc, 16, seq);                /* A gets 4 (weight 2 of 8) */
	assert_int_equal(svc.dests[0]->activeconns, 4);
	at(&svc, &clk, 100);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_int_equal(info.conn_limit, 0);         /* nobody has learnt anything yet */
	report(&svc, svc.dests[0], 0.05, 0.0, false); /* A short with 4: limit 3 */
	at(&svc, &clk, 200);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 3);
	/* B and C: 3 per 2 weight units x 1 = 1.5 -> 1; D has no memory figures */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_int_equal(info.conn_limit, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[2], &info), 0);
	assert_int_equal(info.conn_limit, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[3], &info), 0);
	assert_int_equal(info.conn_limit, 0);
	assert_int_equal(state_of(&svc, svc.dests[1]), ALBM_ADAPT_FULL);
	albm_svc_destroy(&svc);
}

/* No limit until memory first falls below twice the reserve; then what it holds. */
static void test_albm_limit_on_first_approach(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1, 1 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	assert_true(svc.adaptive.mem_reserve > 0.19 && svc.adaptive.mem_reserve < 0.21);
	report(&svc, svc.dests[0], 0.9, 0.0, false);
	report(&svc, svc.dests[0], 0.5, 0.0, false); /* idle or not: no limit */
	fixture_sequence_open(&svc, 10, seq);
	report(&svc, svc.dests[0], 0.41, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 0);
	report(&svc, svc.dests[0], 0.39, 0.0, false); /* under 2 x 20 %, with 5 */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 5);
	assert_int_equal(state_of(&svc, svc.dests[0]), ALBM_ADAPT_FULL);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "BB");
	/* never short yet, so no level is known to be safe: three good windows in a
	 * row per step (the first window saw 0.39: 0.39 - 2 x 0.61 / 5 < 0.2) */
	const unsigned expect[] = { 5, 5, 5, 6 };
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		at(&svc, &clk, clk.now_ms + 4100);
		report(&svc, svc.dests[0], 0.9, 0.0, false);
		report(&svc, svc.dests[1], 0.9, 0.0, false);
		assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
		assert_int_equal(info.conn_limit, expect[i]);
		fixture_sequence_open(&svc, 2, seq); /* A takes any new room: reached */
		assert_int_equal(state_of(&svc, svc.dests[0]), ALBM_ADAPT_FULL);
	}
	albm_svc_destroy(&svc);
}

/* Back to the level that ran short takes three good windows, below it one. */
static void test_albm_limit_probes_slowly_at_ceiling(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1 };
	struct albm_dest *a;
	char seq[32];
	uint64_t t = 0;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 1);
	a = svc.dests[0];
	svc.adaptive.mem_reserve = 0.10;
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	report(&svc, a, 0.5, 0.0, false);
	fixture_sequence_open(&svc, 8, seq);
	report(&svc, a, 0.05, 0.0, false); /* short with 8: limit 6, ceiling 8 */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	while (a->activeconns > 6)
		albm_svc_conn_close(&svc, a, true);
	t = clk.now_ms + 4100; /* the window of the shortage ends, unqualified */
	at(&svc, &clk, t);
	report(&svc, a, 0.9, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	/* one good window (limit reached, plenty of memory): 6 -> 7; then three in
	 * a row to go back to 8, where it ran short */
	unsigned expect[] = { 7, 7, 7, 8 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL); /* reached */
		t += 4100;
		at(&svc, &clk, t);
		report(&svc, a, 0.9, 0.0, false);
		assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
		assert_int_equal(info.conn_limit, expect[i]);
		fixture_sequence_open(&svc, 1, seq); /* fill the new room, if any */
	}
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_albm_learns_connection_limit),
		cmocka_unit_test(test_albm_shares_learnt_limit),
		cmocka_unit_test(test_albm_shares_limit_by_memory),
		cmocka_unit_test(test_albm_limit_from_few_not_shared),
		cmocka_unit_test(test_albm_cold_start_by_memory),
		cmocka_unit_test(test_albm_neighbour),
		cmocka_unit_test(test_albm_oom_and_thrashing),
		cmocka_unit_test(test_albm_limit_on_first_approach),
		cmocka_unit_test(test_albm_limit_probes_slowly_at_ceiling),
	};
	albm_log_level = ALBM_LOG_ERR; /* the refusals above are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
