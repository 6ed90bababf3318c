/* ALBM: unit tests for orca (gRPC weighted_round_robin, gRFC A58) against its published rules */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"
/* The scheduler's own state (stride weights, sequence) is checked directly. */
#include "../../src/sched/sched_orca.c"

/*
 * One second of load: completions[i] connections open and close on server i, and one
 * agent report with cpu_util util[i] arrives (util < 0: no report); then the clock runs
 * a second in 100 ms ticks, so that the window of the update period closes.
 */
static void second(struct albm_service *svc, struct fixture_clock *clk, const unsigned *done,
		   const double *util)
{
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];

		for (unsigned k = 0; k < done[i]; k++) {
			albm_svc_conn_open(svc, d, true);
			albm_svc_conn_close(svc, d, true);
		}
		if (util[i] >= 0) {
			struct albm_metrics m = { .mem_total_bytes = 100,
						  .mem_available_bytes = 90,
						  .cpu_util = util[i] };
			albm_svc_report(svc, d, &m);
		}
	}
	for (int t = 0; t < 10; t++) {
		clk->now_ms += 100;
		albm_svc_tick(svc);
	}
}

static void seconds(struct albm_service *svc, struct fixture_clock *clk, int n,
		    const unsigned *done, const double *util)
{
	for (int i = 0; i < n; i++)
		second(svc, clk, done, util);
}

/* Picks (no connections opened) counted per server name. */
static void count_picks(struct albm_service *svc, unsigned n, unsigned cnt[128])
{
	struct albm_flow f = fixture_flow(1);

	memset(cnt, 0, 128 * sizeof(cnt[0]));
	for (unsigned i = 0; i < n; i++) {
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		cnt[d ? (unsigned char)d->name[0] : '-']++;
	}
}

static struct orca_state *orca(struct albm_service *svc)
{
	return svc->sched_data;
}

/* Without reports every server weighs the same: round robin over the usable ones. */
static void test_orca_round_robin_without_reports(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 5, 1, 0, 2 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 4);
	orca(&svc)->seq = 0;
	/* configured weights only decide usability; C (weight 0) is drained */
	assert_string_equal(fixture_sequence(&svc, 6, seq), "ABDABD");
	assert_true(svc.dests[0]->eff_weight == 1.0 && svc.dests[2]->eff_weight == 0.0);
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_thresholds(&svc, svc.dests[3], 1, 0);
	albm_svc_conn_open(&svc, svc.dests[3], true); /* D at maxconn */
	orca(&svc)->seq = 0;
	assert_string_equal(fixture_sequence(&svc, 3, seq), "AAA");
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--"); /* all down: NULL */
	albm_svc_destroy(&svc);
}

/* Weights 300 and 100 (qps / utilization): A is scaled to 65535 and never skipped,
 * B to 21845; with s = 0, 1, 2, ... server i = s mod 2 at generation g = s / 2 is
 * taken when (w * g + i * 32767) mod 65535 >= 65535 - w:
 *   B at g = 0: 32767 < 43690 skip; g = 1: 54612 take; g = 2: 10922 skip; g = 3: 32767
 *   skip; g = 4: 54612 take  ->  A A B A A A B.
 * Over 65535 generations A is taken 65535 times and B exactly 21845: 3 to 1. */
static void test_orca_stride_order(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	const unsigned done[] = { 150, 50 };
	const double util[] = { 0.5, 0.5 };
	struct orca_state *s;
	unsigned a = 0, b = 0;
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 2);
	seconds(&svc, &clk, 12, done, util); /* past the 10 s blackout */
	s = orca(&svc);
	s->seq = 0;
	assert_string_equal(fixture_sequence(&svc, 7, seq), "AABAAAB");
	assert_int_equal(s->w[0], 65535);
	assert_int_equal(s->w[1], 21845);
	assert_true(fabs(svc.dests[0]->eff_weight - 300.0) < 1e-9);
	assert_true(fabs(svc.dests[1]->eff_weight - 100.0) < 1e-9);
	s->seq = 0;
	while (s->seq < 2u * 65535u) {
		struct albm_flow f = fixture_flow(1);
		struct albm_dest *d = albm_svc_schedule(&svc, &f);

		if (s->seq > 2u * 65535u)
			break; /* the pick that crossed the period does not count */
		a += d == svc.dests[0];
		b += d == svc.dests[1];
	}
	assert_int_equal(a, 65535);
	assert_int_equal(b, 21845);
	albm_svc_destroy(&svc);
}

/* Blackout: a weight is used only once it has been reported for blackout_ms; before,
 * the server weighs the mean of the known weights (here: none known, round robin). */
static void test_orca_blackout(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	const unsigned done[] = { 150, 50 };
	const double util[] = { 0.5, 0.5 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 2);
	seconds(&svc, &clk, 10, done, util); /* first non-empty update at t = 2 s; now 11 s */
	count_picks(&svc, 1000, cnt);
	assert_int_equal(cnt['A'], 500); /* still blacked out: equal */
	assert_int_equal(cnt['B'], 500);
	seconds(&svc, &clk, 1, done, util); /* 12 s: 10 s after the first update */
	count_picks(&svc, 40000, cnt);
	assert_in_range(cnt['A'], 29900, 30100);
	assert_int_equal(cnt['A'] + cnt['B'], 40000);

	/* B goes down and comes back: a new blackout for B only; meanwhile B weighs the
	 * mean of the known weights, A's 300: equal shares */
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_flags(&svc, svc.dests[1], ALBM_DEST_F_AVAILABLE, 0);
	seconds(&svc, &clk, 5, done, util);
	count_picks(&svc, 40000, cnt);
	assert_in_range(cnt['A'], 19900, 20100);
	seconds(&svc, &clk, 6, done, util);
	count_picks(&svc, 40000, cnt);
	assert_in_range(cnt['A'], 29900, 30100);
	albm_svc_destroy(&svc);
}

/* Expiration: a weight not updated for expiration_ms falls back to the mean; fresh
 * reports then go through the blackout again. */
static void test_orca_expiry(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	const unsigned done[] = { 300, 100, 50 };
	const double util[] = { 1.0, 1.0, 1.0 }, no_c[] = { 1.0, 1.0, -1 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 3);
	seconds(&svc, &clk, 12, done, util);
	count_picks(&svc, 45000, cnt); /* 300 : 100 : 50 */
	assert_in_range(cnt['C'], 4900, 5100);
	/* C keeps serving but stops reporting: its last update was at t = 13 s */
	seconds(&svc, &clk, 178, done, no_c); /* t = 191 s: 178 s without an update */
	count_picks(&svc, 45000, cnt);
	assert_in_range(cnt['C'], 4900, 5100);
	seconds(&svc, &clk, 2, done, no_c); /* 180 s: expired, C weighs the mean, 200 */
	count_picks(&svc, 60000, cnt);
	assert_in_range(cnt['C'], 19900, 20100); /* 300 : 100 : 200 */
	assert_true(fabs(svc.dests[2]->eff_weight - 200.0) < 1e-9);
	/* reports again: blacked out for 10 s, then its own weight */
	seconds(&svc, &clk, 9, done, util);
	count_picks(&svc, 60000, cnt);
	assert_in_range(cnt['C'], 19900, 20100);
	seconds(&svc, &clk, 2, done, util);
	count_picks(&svc, 45000, cnt);
	assert_in_range(cnt['C'], 4900, 5100);
	albm_svc_destroy(&svc);
}

/* eps / qps * error_penalty is added to the utilization; no report or zero CPU in
 * a window updates nothing. */
static void test_orca_errors_and_empty_windows(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	const unsigned done[] = { 100, 100, 100 };
	const double util[] = { 0.5, 0.5, 0.0 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 3);
	for (int i = 0; i < 12; i++) {
		svc.dests[0]->passive.errors += 50; /* A: 50 errors/s of 100 qps */
		second(&svc, &clk, done, util);
	}
	/* A: 100 / (0.5 + 0.5 * 1.0) = 100; B: 100 / 0.5 = 200; C: u = 0, no weight: the
	 * mean of the known ones, 150 */
	count_picks(&svc, 45000, cnt);
	assert_true(fabs(svc.dests[0]->eff_weight - 100.0) < 1e-9);
	assert_true(fabs(svc.dests[1]->eff_weight - 200.0) < 1e-9);
	assert_true(fabs(svc.dests[2]->eff_weight - 150.0) < 1e-9);
	assert_in_range(cnt['A'], 9900, 10100);
	assert_in_range(cnt['B'], 19900, 20100);
	svc.orca.error_penalty = 0; /* errors ignored: A weighs 200 too */
	svc.dests[0]->passive.errors += 50;
	second(&svc, &clk, done, util);
	count_picks(&svc, 100, cnt);
	assert_true(fabs(svc.dests[0]->eff_weight - 200.0) < 1e-9);
	albm_svc_destroy(&svc);
}

/* C-core's clamps: weights above 10x the mean are cut to it, weights below 1 % of the
 * mean are raised to it. */
static void test_orca_ratio_clamps(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	int w[21];
	unsigned done[21];
	double util[21];
	struct orca_state *s;
	(void)state;

	for (int i = 0; i < 21; i++) {
		w[i] = 1;
		done[i] = i == 0 ? 2000 : 20; /* A 2000, the others 20: mean 114.3 */
		util[i] = 1.0;
	}
	fixture_svc(&svc, &clk, "orca", w, 21);
	seconds(&svc, &clk, 12, done, util);
	albm_svc_schedule(&svc, NULL);
	s = orca(&svc);
	assert_true(fabs(svc.dests[0]->eff_weight - 10.0 * 2400 / 21) < 1e-6); /* 10 x mean */
	assert_int_equal(s->w[0], 65535);
	assert_int_equal(s->w[1], 1147); /* 20 / 1142.86 * 65535 */
	albm_svc_destroy(&svc);

	for (int i = 0; i < 3; i++)
		done[i] = i == 2 ? 1 : 1000; /* 1000, 1000, 1: mean 667 */
	fixture_svc(&svc, &clk, "orca", w, 3);
	seconds(&svc, &clk, 12, done, util);
	albm_svc_schedule(&svc, NULL);
	s = orca(&svc);
	assert_int_equal(s->w[0], 65535);
	assert_int_equal(s->w[2], 437); /* round(0.01 * round(667 * 65.535)), not 66 */
	albm_svc_destroy(&svc);
}

/* Servers joining and leaving keep the scheduler consistent. */
static void test_orca_membership(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	const unsigned done[] = { 100, 100 };
	const double util[] = { 0.5, 0.5 };
	struct albm_addr a;
	char err[128];
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "orca", w, 2);
	seconds(&svc, &clk, 12, done, util);
	albm_addr_parse("10.0.0.9:80", &a, err, sizeof(err));
	assert_non_null(albm_svc_add_dest(&svc, "C", &a, 1, err, sizeof(err)));
	count_picks(&svc, 3000, cnt); /* C: no weight yet, the mean */
	assert_int_equal(cnt['C'], 1000);
	albm_svc_del_dest(&svc, svc.dests[0]);
	count_picks(&svc, 3000, cnt);
	assert_int_equal(cnt['A'], 0);
	assert_int_equal(cnt['B'] + cnt['C'], 3000);
	assert_int_equal(albm_svc_bind_name(&svc, "orca"), 0); /* rebinding starts afresh */
	count_picks(&svc, 100, cnt);
	assert_int_equal(cnt['B'], 50);
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orca_round_robin_without_reports),
		cmocka_unit_test(test_orca_stride_order),
		cmocka_unit_test(test_orca_blackout),
		cmocka_unit_test(test_orca_expiry),
		cmocka_unit_test(test_orca_errors_and_empty_windows),
		cmocka_unit_test(test_orca_ratio_clamps),
		cmocka_unit_test(test_orca_membership),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
