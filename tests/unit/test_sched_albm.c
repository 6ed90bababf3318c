/* ALBM: unit tests for the albm (adaptive) scheduler's pick — which servers are
 * eligible (down, drained, overloaded, stalled, stale), effective weights, smoothing,
 * slow start, the all-overloaded policy, shares, the O(1) pick against brute force
 * (memory limits: test_sched_albm_mem.c; speeds: test_sched_albm_speed.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "../lib/albm_fixture.h"
#include "common/log.h"
#include "common/util.h"

static void test_albm_static_weight_without_reports(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	unsigned cnt[3] = { 0 };
	char seq[16];
	const int w[] = { 1, 2, 3 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(svc.dests[i]->eff_weight == w[i]);
		assert_int_equal(state_of(&svc, svc.dests[i]), ALBM_ADAPT_OK);
	}
	/* shortest expected delay from empty: C (1/3), then B (1/2) ... ; over 60
	 * picks each server ends with activeconns proportional to its weight */
	assert_string_equal(fixture_sequence_open(&svc, 6, seq), "CBCABC");
	count_open(&svc, 54, cnt);
	assert_int_equal(svc.dests[0]->activeconns, 10);
	assert_int_equal(svc.dests[1]->activeconns, 20);
	assert_int_equal(svc.dests[2]->activeconns, 30);
	/* time alone changes nothing for servers that never reported */
	at(&svc, &clk, 100000);
	assert_true(svc.dests[2]->eff_weight == 3);
	/* a weight beyond what albm_svc_add_dest() accepts still works */
	albm_svc_set_weight(&svc, svc.dests[0], 200000);
	assert_true(svc.dests[0]->eff_weight == 200000);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_destroy(&svc);
}

static void test_albm_excludes_down_drained_overloaded(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[16];
	const int w[] = { 5, 5, 5, 1 };
	struct albm_dest *a, *b, *c, *d;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2], d = svc.dests[3];
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	albm_svc_set_flags(&svc, a, 0, ALBM_DEST_F_AVAILABLE); /* A down */
	albm_svc_set_weight(&svc, b, 0);                       /* B drained */
	report(&svc, c, 0.9, 0.1, true);                       /* C: agent says overloaded */
	assert_true(c->flags & ALBM_DEST_F_AGENT_OVL);
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "DDDDDDDD");
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_DOWN);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_DRAINED);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_AGENT_OVL);
	assert_true(a->eff_weight == 0 && b->eff_weight == 0 && c->eff_weight == 0);

	/* C stays out while its agent keeps saying so, however much time passes */
	for (uint64_t t = 1100; t <= 3000; t += 100) {
		at(&svc, &clk, t);
		report(&svc, c, 0.9, 0.1, true);
		assert_string_equal(fixture_sequence(&svc, 1, seq), "D");
	}
	/* D at its IPVS connection limit: nothing left, refused */
	albm_svc_set_thresholds(&svc, d, d->activeconns, 0);
	assert_int_equal(state_of(&svc, d), ALBM_ADAPT_MAXCONN);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	/* the agent reports C recovered: it is the one eligible server again */
	report(&svc, c, 0.9, 0.1, false);
	assert_false(c->flags & ALBM_DEST_F_AGENT_OVL);
	assert_true(c->eff_weight > 0);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_destroy(&svc);
}

static void test_albm_eff_weight_from_measurements(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_metrics m;
	struct albm_adapt_info info;
	const int w[] = { 10, 10, 7 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report(&svc, svc.dests[0], 0.5, 0.2, false); /* published: weight x memory */
	assert_near(svc.dests[0]->eff_weight, 5.0, 1e-9);
	report(&svc, svc.dests[1], 0.9, 0.7, false); /* a busy CPU is not less capacity */
	assert_near(svc.dests[1]->eff_weight, 9.0, 1e-9);
	assert_true(svc.dests[2]->eff_weight == 7); /* no report: static weight */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_near(info.capacity, 0.9, 1e-9);
	assert_near(info.mem_avail, 0.9, 1e-9);
	assert_near(info.pick_weight, 10.0, 1e-9);
	assert_int_equal(info.conn_limit, 0);

	/* out-of-range figures are clamped, a missing total or a NaN CPU ignored */
	memset(&m, 0, sizeof(m));
	m.mem_total_bytes = 100;
	m.mem_available_bytes = 400;
	m.cpu_util = NAN;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 7);
	m.mem_total_bytes = 0;
	m.cpu_util = 1.5;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 7);
	assert_int_equal(state_of(&svc, svc.dests[2]), ALBM_ADAPT_OK);
	m.mem_total_bytes = 100; /* no memory left: no capacity, excluded */
	m.mem_available_bytes = 0;
	m.cpu_util = 0.0;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 0);
	assert_int_equal(state_of(&svc, svc.dests[2]), ALBM_ADAPT_NO_CAPACITY);

	/* above the reserve, picks follow the live connections per static weight
	 * (sed), whatever the memory figures: A and B share equally */
	unsigned cnt[3] = { 0 };
	count_open(&svc, 80, cnt);
	assert_int_equal(cnt[0], 40);
	assert_int_equal(cnt[1], 40);
	assert_int_equal(cnt[2], 0);
	albm_svc_destroy(&svc);
}

/* A stall: unanswered requests (the data plane's count) and no CPU used over a report
 * while it held connections before too — excluded until it works again, then back
 * without slow start.  Idle keep-alive connections are no stall. */
static void test_albm_stall(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	for (int i = 0; i < 10; i++) { /* the servers work: 90 % of their CPU */
		report(&svc, a, 0.8, 0.9, false);
		report(&svc, b, 0.8, 0.9, false);
	}
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "ABAB");
	a->passive.waiting = 2;
	at(&svc, &clk, 1200);
	report(&svc, a, 0.8, 0.5, false); /* busy, working */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	at(&svc, &clk, 1400);
	report(&svc, a, 0.8, 0.01, false); /* paused: no CPU, requests unanswered */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	assert_true(a->eff_weight == 0);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BBB");
	at(&svc, &clk, 1500); /* the tick keeps it out while its requests wait */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	at(&svc, &clk, 1600);
	report(&svc, a, 0.8, 0.6, false); /* working again: back at once, no ramp */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "AA");
	/* its requests answered (the data plane's count falls) also ends a stall */
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	a->passive.waiting = 0;
	at(&svc, &clk, 1700);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* idle keep-alive connections wait for no answer: no stall */
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* nor a server that has just been given its first connection */
	b->passive.waiting = 1;
	while (b->activeconns)
		albm_svc_conn_close(&svc, b, true);
	report(&svc, b, 0.8, 0.0, false);
	albm_svc_conn_open(&svc, b, true);
	report(&svc, b, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_OK);
	/* a starved machine: every server's CPU falls, none is to blame */
	for (int i = 0; i < 30; i++) {
		report(&svc, a, 0.8, 0.01, false);
		report(&svc, b, 0.8, 0.01, false);
	}
	a->passive.waiting = 2;
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	albm_svc_destroy(&svc);
}

static void test_albm_asymmetric_smoothing(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100 };
	struct albm_dest *a;
	double lo = 1e9, hi = 0, expect;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 1);
	a = svc.dests[0];
	svc.adaptive.rise_alpha = 0.5;
	report(&svc, a, 0.8, 0.0, false); /* first report taken as is */
	assert_near(a->eff_weight, 80.0, 1e-9);
	report(&svc, a, 0.2, 0.0, false); /* a drop: at once */
	assert_near(a->eff_weight, 20.0, 1e-9);
	report(&svc, a, 0.8, 0.0, false); /* a rise: half way per report */
	assert_near(a->eff_weight, 50.0, 1e-9);
	report(&svc, a, 0.8, 0.0, false);
	assert_near(a->eff_weight, 65.0, 1e-9);
	report(&svc, a, 0.6, 0.0, false); /* below the smoothed value: at once */
	assert_near(a->eff_weight, 60.0, 1e-9);

	/* noisy reports alternating 0.2 / 0.8: with the default alpha the weight
	 * moves within 20-38, not 20-80 */
	svc.adaptive.rise_alpha = 0.3;
	for (int i = 0; i < 20; i++) {
		report(&svc, a, i % 2 ? 0.8 : 0.2, 0.0, false);
		if (i >= 2) {
			lo = fmin(lo, a->eff_weight);
			hi = fmax(hi, a->eff_weight);
		}
	}
	expect = 20.0 + 0.3 * 60.0;
	assert_near(lo, 20.0, 1e-9);
	assert_near(hi, expect, 1e-9);
	/* a lasting rise is reached geometrically: 1 - 0.7^k of the way from the
	 * last low report (20) */
	for (int k = 0; k < 10; k++)
		report(&svc, a, 0.8, 0.0, false);
	expect = 80.0 - (80.0 - 20.0) * pow(0.7, 11);
	assert_near(a->eff_weight, expect, 1e-6);
	albm_svc_destroy(&svc);
}

/* Slow start after the agent reports recovery: Envoy's curve, sampled. */
static void test_albm_slow_start_after_overload(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100, 100 };
	struct albm_dest *a;
	struct albm_adapt_info info;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0];
	svc.adaptive.slow_start_ms = 1000;
	svc.adaptive.slow_start_aggression = 1.0;
	svc.adaptive.slow_start_min = 0.1;
	svc.adaptive.report_timeout_ms = 0; /* no ageing in this test */
	report(&svc, a, 0.5, 0.0, true);    /* overloaded at 1000 */
	assert_true(a->eff_weight == 0);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.5, 0.0, false); /* recovered at 2000: ramp starts */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_SLOW_START);
	assert_near(a->eff_weight, 100 * 0.5 * 0.1, 1e-9); /* the min */
	at(&svc, &clk, 2050);
	assert_near(a->eff_weight, 100 * 0.5 * 0.1, 1e-9); /* 0.05 < min */
	at(&svc, &clk, 2250);
	assert_near(a->eff_weight, 100 * 0.5 * 0.25, 1e-9);
	report(&svc, a, 0.5, 0.0, false); /* keep the report fresh */
	at(&svc, &clk, 2600);
	assert_near(a->eff_weight, 100 * 0.5 * 0.6, 1e-9);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_near(info.ramp, 0.6, 1e-9);
	report(&svc, a, 0.5, 0.0, false);
	at(&svc, &clk, 3000); /* window over */
	assert_near(a->eff_weight, 50.0, 1e-9);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);

	/* aggression 2: sqrt curve */
	svc.adaptive.slow_start_aggression = 2.0;
	report(&svc, a, 0.5, 0.0, true);
	at(&svc, &clk, 3100);
	report(&svc, a, 0.5, 0.0, false);
	at(&svc, &clk, 3100 + 250);
	assert_near(a->eff_weight, 100 * 0.5 * 0.5, 1e-9);
	albm_svc_destroy(&svc);
}

/* Slow start also follows a return from down, drain and report timeout, and a
 * server added to a service already serving; not servers present at the start. */
static void test_albm_slow_start_triggers(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 10, 10 };
	struct albm_dest *a, *b, *c;
	char err[128], seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	svc.adaptive.slow_start_ms = 1000;
	svc.adaptive.slow_start_min = 0.1;
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* a server added before any pick: full weight */
	c = albm_svc_add_dest(&svc, "C", NULL, 10, err, sizeof(err));
	assert_non_null(c);
	assert_true(c->eff_weight == 10);
	albm_svc_del_dest(&svc, c);

	fixture_sequence_open(&svc, 4, seq);
	albm_svc_set_flags(&svc, a, 0, ALBM_DEST_F_AVAILABLE);
	at(&svc, &clk, 1500);
	albm_svc_set_flags(&svc, a, ALBM_DEST_F_AVAILABLE, 0);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_SLOW_START);
	assert_near(a->eff_weight, 1.0, 1e-9);
	at(&svc, &clk, 2000);
	assert_near(a->eff_weight, 5.0, 1e-9);

	albm_svc_set_weight(&svc, b, 0);
	albm_svc_set_weight(&svc, b, 20);
	assert_near(b->eff_weight, 2.0, 1e-9);

	/* added while serving: ramps */
	c = albm_svc_add_dest(&svc, "C", NULL, 10, err, sizeof(err));
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_SLOW_START);
	assert_near(c->eff_weight, 1.0, 1e-9);
	at(&svc, &clk, 3000);
	assert_true(a->eff_weight == 10 && b->eff_weight == 20 && c->eff_weight == 10);

	/* return from a report timeout */
	report(&svc, c, 1.0, 0.0, false);
	at(&svc, &clk, 3000 + 1001);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_STALE);
	report(&svc, c, 1.0, 0.0, false);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_SLOW_START);
	assert_near(c->eff_weight, 1.0, 1e-9);

	/* slow start off: straight back to full weight */
	svc.adaptive.slow_start_ms = 0;
	albm_svc_set_flags(&svc, b, 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_flags(&svc, b, ALBM_DEST_F_AVAILABLE, 0);
	assert_true(b->eff_weight == 20);
	albm_svc_destroy(&svc);
}

static void test_albm_stale_fades_then_fails(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100, 100, 100 };
	struct albm_dest *a, *b, *c;
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2];
	svc.adaptive.report_timeout_ms = 1000; /* trusted 250 ms, fades until 1000 */
	report(&svc, a, 0.8, 0.0, false);
	report(&svc, b, 0.3, 0.0, false);
	at(&svc, &clk, 1250);
	assert_near(a->eff_weight, 80.0, 1e-9);
	at(&svc, &clk, 1625); /* trust half way from 1 to 0.5 */
	assert_near(a->eff_weight, 80.0 * 0.75, 1e-9);
	assert_near(b->eff_weight, 30.0 * 0.75, 1e-9);
	struct albm_adapt_info info;
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_near(info.pick_weight, 100.0 * 0.75, 1e-9);
	at(&svc, &clk, 2000);
	assert_near(a->eff_weight, 40.0, 1e-9);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	at(&svc, &clk, 2001); /* past the timeout: failed */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALE);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_STALE);
	assert_true(a->eff_weight == 0 && b->eff_weight == 0);
	/* C never reported: balanced on its static weight, never failed */
	assert_true(c->eff_weight == 100);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "CCC");
	/* a fresh report brings A back */
	report(&svc, a, 0.8, 0.0, false);
	assert_true(a->eff_weight > 0);
	assert_int_not_equal(state_of(&svc, a), ALBM_ADAPT_STALE);
	/* report_timeout_ms 0: reports never age */
	svc.adaptive.report_timeout_ms = 0;
	at(&svc, &clk, 1000000);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_SLOW_START);
	albm_svc_destroy(&svc);
}

static void test_albm_all_overloaded_policy(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[16];
	const int w[] = { 1, 1, 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 5);
	report(&svc, svc.dests[0], 0.10, 0.5, true);
	report(&svc, svc.dests[1], 0.30, 0.5, true);
	report(&svc, svc.dests[2], 0.20, 0.5, true);
	report(&svc, svc.dests[3], 0.95, 0.5, false); /* D: most memory, but down */
	albm_svc_set_flags(&svc, svc.dests[3], 0, ALBM_DEST_F_AVAILABLE);
	report(&svc, svc.dests[4], 0.90, 0.0, false); /* E: no memory left */
	report(&svc, svc.dests[4], 0.0, 0.0, false);
	assert_int_equal(state_of(&svc, svc.dests[4]), ALBM_ADAPT_NO_CAPACITY);

	/* QUEUE (default): nothing, the data plane holds the connection; at its queue's
	 * bound the overflow server is the least-loaded one (B: most memory of the up
	 * servers excluded by measurement; D is down) */
	assert_int_equal(svc.adaptive.all_overloaded_policy, ALBM_ALL_OVL_QUEUE);
	uint64_t nd = svc.no_dest, picks = svc.picks;
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	assert_int_equal(svc.no_dest, nd + 2);
	assert_true(albm_svc_may_wait(&svc));
	assert_ptr_equal(albm_svc_overflow(&svc), svc.dests[1]);
	assert_int_equal(svc.picks, picks + 1);

	/* LEAST_LOADED: SED over the up servers on weight x available
	 * memory (A .10, B .30, C .20, E floored at .01), counting live connections,
	 * so the fallback spreads instead of herding onto one server:
	 * B (1/.3) -> C (1/.2 < 2/.3) -> B (2/.3 < 2/.2) */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_LEAST_LOADED;
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BCB");
	report(&svc, svc.dests[2], 0.40, 0.5, true); /* C: 2/.4 beats A 1/.1, B 3/.3 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");

	/* REFUSE: nothing at all, no waiting, no overflow */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	uint64_t before = svc.no_dest;
	assert_string_equal(fixture_sequence(&svc, 3, seq), "---");
	assert_int_equal(svc.no_dest, before + 3);
	assert_false(albm_svc_may_wait(&svc));
	assert_null(albm_svc_overflow(&svc));
	/* one server recovers: it is used whatever the policy */
	report(&svc, svc.dests[0], 0.5, 0.5, false);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_destroy(&svc);
}

/* Proportional share with connections opening and closing (seeded churn). */
static void test_albm_proportional_share_with_churn(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 8, 4, 2 };
	struct albm_dest *open[700];
	size_t nopen = 0;
	unsigned picks[3] = { 0 };
	uint64_t rng = 12345;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report(&svc, svc.dests[0], 0.8, 0.1, false); /* memory and CPU above the */
	report(&svc, svc.dests[1], 0.4, 0.1, false); /* reserve: the weights 8:4:2 */
	report(&svc, svc.dests[2], 0.9, 0.8, false); /* decide */
	for (int i = 0; i < 20000; i++) {
		struct albm_flow f = fixture_flow((unsigned)i);
		struct albm_dest *d = albm_svc_schedule(&svc, &f);

		assert_non_null(d);
		if (i >= 10000) /* count once the open set is in steady state */
			picks[d->idx]++;
		albm_svc_conn_open(&svc, d, true);
		if (nopen == ARRAY_SIZE(open)) { /* close a random open connection */
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t k = rng % nopen;
			albm_svc_conn_close(&svc, open[k], true);
			open[k] = open[--nopen];
		}
		open[nopen++] = d;
	}
	/* 8:4:2 of 10000 = 5714 / 2857 / 1429; allow 3% of the total */
	assert_in_range(picks[0], 5714 - 300, 5714 + 300);
	assert_in_range(picks[1], 2857 - 300, 2857 + 300);
	assert_in_range(picks[2], 1429 - 300, 1429 + 300);
	/* the open connections are in the same proportion, within one each */
	assert_in_range(svc.dests[0]->activeconns, 399, 401);
	assert_in_range(svc.dests[1]->activeconns, 199, 201);
	assert_in_range(svc.dests[2]->activeconns, 99, 101);
	albm_svc_destroy(&svc);
}

/* The pick weight as the scheduler compares it: in 1/65536 units, at least 1. */
static uint64_t brute_den(const struct albm_service *svc, const struct albm_dest *d)
{
	struct albm_adapt_info info;
	uint64_t den;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	den = (uint64_t)(info.pick_weight * ALBM_ADAPT_EFF_SCALE + 0.5);
	return den ? den : 1;
}

/* Brute force of the rule: among the eligible servers (those publishing an
 * effective weight), the least (active + 1) / (w x trust x ramp), ties to the
 * first in list order. */
static struct albm_dest *brute_pick(const struct albm_service *svc)
{
	struct albm_dest *best = NULL;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (d->eff_weight <= 0)
			continue;
		if (!best ||
		    (unsigned __int128)(d->activeconns + 1ull) * brute_den(svc, best) <
			    (unsigned __int128)(best->activeconns + 1ull) * brute_den(svc, d))
			best = d;
	}
	return best;
}

/* Random operations; after each, the O(1) pick equals the O(n) definition. */
static void test_albm_matches_brute_force(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
	uint64_t rng = 99;
	char err[128], name[16];
	int added = 0;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 8);
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	for (int i = 0; i < 20000; i++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		struct albm_dest *d = svc.ndests ? svc.dests[rng % svc.ndests] : NULL;
		unsigned op = (unsigned)(rng >> 32) % 100;

		if (!d || op < 2) {
			snprintf(name, sizeof(name), "N%d", added++);
			assert_non_null(
				albm_svc_add_dest(&svc, name, NULL, 1 + op % 7, err, sizeof(err)));
		} else if (op < 4 && svc.ndests > 4) {
			albm_svc_del_dest(&svc, d);
		} else if (op < 40) {
			struct albm_flow f = fixture_flow((unsigned)i);
			struct albm_dest *p = albm_svc_schedule(&svc, &f);
			assert_ptr_equal(p, brute_pick(&svc));
			if (p)
				albm_svc_conn_open(&svc, p, true);
		} else if (op < 70) {
			if (d->activeconns)
				albm_svc_conn_close(&svc, d, true);
		} else if (op < 85) {
			report(&svc, d, (double)(rng >> 40 & 1023) / 1023.0,
			       (double)(rng >> 20 & 255) / 255.0, (rng >> 8 & 15) == 0);
		} else if (op < 90) {
			albm_svc_set_weight(&svc, d, (int)(rng >> 50 & 7));
		} else if (op < 94) {
			albm_svc_set_flags(&svc, d, (rng & 64) ? ALBM_DEST_F_AVAILABLE : 0,
					   (rng & 64) ? 0 : ALBM_DEST_F_AVAILABLE);
		} else {
			at(&svc, &clk, clk.now_ms + (rng >> 30 & 255));
		}
		assert_ptr_equal(albm_svc_schedule(&svc, NULL), brute_pick(&svc));
	}
	albm_svc_destroy(&svc);
}

static void test_albm_info_and_rebind(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 10 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), -EINVAL);
	report(&svc, svc.dests[0], 0.4, 0.0, false);
	/* binding albm later starts from the last report */
	assert_int_equal(albm_svc_bind_name(&svc, "albm"), 0);
	assert_near(svc.dests[0]->eff_weight, 4.0, 1e-9);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_string_equal(albm_adapt_state_name(info.state), "ok");
	assert_string_equal(albm_adapt_state_name(ALBM_ADAPT_AGENT_OVL), "overloaded");
	assert_string_equal(albm_adapt_state_name((enum albm_adapt_state)99), "?");
	/* and unbinding restores the static weight */
	assert_int_equal(albm_svc_bind_name(&svc, "rr"), 0);
	assert_true(svc.dests[0]->eff_weight == 10);
	assert_true(svc.dests[0]->heap_pos[0] == -1);
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_albm_static_weight_without_reports),
		cmocka_unit_test(test_albm_excludes_down_drained_overloaded),
		cmocka_unit_test(test_albm_eff_weight_from_measurements),
		cmocka_unit_test(test_albm_stall),
		cmocka_unit_test(test_albm_asymmetric_smoothing),
		cmocka_unit_test(test_albm_slow_start_after_overload),
		cmocka_unit_test(test_albm_slow_start_triggers),
		cmocka_unit_test(test_albm_stale_fades_then_fails),
		cmocka_unit_test(test_albm_all_overloaded_policy),
		cmocka_unit_test(test_albm_proportional_share_with_churn),
		cmocka_unit_test(test_albm_matches_brute_force),
		cmocka_unit_test(test_albm_info_and_rebind),
	};
	albm_log_level = ALBM_LOG_ERR; /* the refusals above are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
