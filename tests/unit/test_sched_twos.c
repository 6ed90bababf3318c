/* ALBM: unit tests for the twos (weighted random two choices) scheduler */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"
#include "common/util.h"

/* n picks without opening connections; counts per server name into cnt. */
static void count_picks(struct albm_service *svc, unsigned n, unsigned cnt[128])
{
	struct albm_flow f = fixture_flow(1);

	memset(cnt, 0, 128 * sizeof(cnt[0]));
	for (unsigned i = 0; i < n; i++) {
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		cnt[d ? (unsigned char)d->name[0] : '-']++;
	}
}

static void test_twos_shares_follow_weights(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 3, 1, 0 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "twos", w, 3);
	count_picks(&svc, 10000, cnt);
	assert_int_equal(cnt['C'], 0); /* weight 0: never */
	assert_int_equal(cnt['-'], 0);
	assert_in_range(cnt['A'], 7200, 7800); /* 3:1, about 7 sigma either way */
	assert_int_equal(cnt['A'] + cnt['B'], 10000);
	albm_svc_destroy(&svc);
}

/* Many servers with distinct weights: every share near weight / total (checks
 * the Fenwick draw over a tree of several levels, zero weights included). */
static void test_twos_many_weights(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	int w[40];
	unsigned cnt[128], total = 0;
	const unsigned n = 200000;
	(void)state;

	for (int i = 0; i < 40; i++) {
		w[i] = i % 7 == 3 ? 0 : 1 + i % 5;
		total += (unsigned)w[i];
	}
	fixture_svc(&svc, &clk, "twos", w, 40);
	count_picks(&svc, n, cnt);
	for (int i = 0; i < 40; i++) {
		double expect = (double)n * w[i] / total;
		unsigned got = cnt['A' + i];
		if (!w[i])
			assert_int_equal(got, 0);
		else
			assert_true(got > expect * 0.85 && got < expect * 1.15);
	}
	albm_svc_destroy(&svc);
}

/* The two choices are distinct: with two servers the less loaded always wins. */
static void test_twos_less_loaded_wins(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "twos", w, 2);
	for (int i = 0; i < 5; i++)
		albm_svc_conn_open(&svc, svc.dests[0], true);
	count_picks(&svc, 1000, cnt);
	assert_int_equal(cnt['B'], 1000);
	/* weights count: A 5 conns / weight 10 < B 1 conn / weight 1 */
	albm_svc_set_weight(&svc, svc.dests[0], 10);
	albm_svc_conn_open(&svc, svc.dests[1], true);
	count_picks(&svc, 1000, cnt);
	assert_int_equal(cnt['A'], 1000);
	albm_svc_destroy(&svc);
}

/* Opening a connection on every pick keeps the servers close to each other (the
 * power of two choices). */
static void test_twos_balances_open_conns(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	char seq[4001];
	uint32_t lo = UINT32_MAX, hi = 0;
	(void)state;

	fixture_svc(&svc, &clk, "twos", w, 8);
	fixture_sequence_open(&svc, 4000, seq);
	for (size_t i = 0; i < svc.ndests; i++) {
		lo = ALBM_MIN(lo, svc.dests[i]->activeconns);
		hi = ALBM_MAX(hi, svc.dests[i]->activeconns);
	}
	assert_true(hi - lo <= 8); /* one random choice would spread ~ +-60 */
	albm_svc_destroy(&svc);
}

static void test_twos_changes(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 2, 3, 4 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "twos", w, 4);
	count_picks(&svc, 20000, cnt);
	assert_in_range(cnt['D'], 7400, 8600); /* 40% */
	/* weight change: point update of the tree */
	albm_svc_set_weight(&svc, svc.dests[0], 4);
	albm_svc_set_weight(&svc, svc.dests[3], 1);
	count_picks(&svc, 20000, cnt);
	assert_in_range(cnt['A'], 7400, 8600); /* 4/10 */
	assert_in_range(cnt['D'], 1600, 2400); /* 1/10 */
	/* down, maxconn overload: never chosen */
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_thresholds(&svc, svc.dests[1], 1, 0);
	albm_svc_conn_open(&svc, svc.dests[1], true);
	count_picks(&svc, 2000, cnt);
	assert_int_equal(cnt['A'] + cnt['B'], 0);
	assert_int_equal(cnt['C'] + cnt['D'], 2000);
	/* removal shifts the list: rebuilt */
	albm_svc_del_dest(&svc, svc.dests[2]);
	count_picks(&svc, 100, cnt);
	assert_int_equal(cnt['D'], 100);
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AVAILABLE, 0);
	albm_svc_conn_close(&svc, svc.dests[1], true);
	count_picks(&svc, 9000, cnt); /* A 4, B 2, D 1 */
	assert_in_range(cnt['B'], 2200, 2950);
	assert_int_equal(cnt['A'] + cnt['B'] + cnt['D'], 9000);
	albm_svc_set_weight(&svc, svc.dests[0], 0);
	albm_svc_set_weight(&svc, svc.dests[1], 0);
	albm_svc_set_weight(&svc, svc.dests[2], 0);
	count_picks(&svc, 10, cnt);
	assert_int_equal(cnt['-'], 10);
	albm_svc_destroy(&svc);
}

/* The same seed gives the same sequence; another seed another one. */
static void test_twos_deterministic(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1, 1 };
	char a[201], b[201], c[201];
	(void)state;

	fixture_svc(&svc, &clk, "twos", w, 5);
	fixture_sequence(&svc, 200, a);
	albm_svc_seed(&svc, 1);
	fixture_sequence(&svc, 200, b);
	albm_svc_seed(&svc, 2);
	fixture_sequence(&svc, 200, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	albm_svc_destroy(&svc);
}

static void test_twos_empty(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[8];
	(void)state;

	fixture_svc(&svc, &clk, "twos", NULL, 0);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "---");
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twos_shares_follow_weights),
		cmocka_unit_test(test_twos_many_weights),
		cmocka_unit_test(test_twos_less_loaded_wins),
		cmocka_unit_test(test_twos_balances_open_conns),
		cmocka_unit_test(test_twos_changes),
		cmocka_unit_test(test_twos_deterministic),
		cmocka_unit_test(test_twos_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
