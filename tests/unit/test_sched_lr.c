/* ALBM: unit tests for lr (Envoy least_request: P2C, or EDF on weight / (active + 1)^bias) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"

static void count_picks(struct albm_service *svc, unsigned n, unsigned cnt[128])
{
	struct albm_flow f = fixture_flow(1);

	memset(cnt, 0, 128 * sizeof(cnt[0]));
	for (unsigned i = 0; i < n; i++) {
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		cnt[d ? (unsigned char)d->name[0] : '-']++;
	}
}

/* Equal weights: choice_count independent uniform draws (repeats allowed), fewest
 * active requests wins.  A with 5 active, B idle: A only when every draw is A. */
static void test_lr_p2c_with_replacement(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "lr", w, 2);
	for (int i = 0; i < 5; i++)
		albm_svc_conn_open(&svc, svc.dests[0], true);
	count_picks(&svc, 8000, cnt);
	assert_in_range(cnt['A'], 1800, 2200); /* (1/2)^2 = 1/4 (twos: never) */
	svc.lr.choice_count = 3;
	count_picks(&svc, 8000, cnt);
	assert_in_range(cnt['A'], 850, 1150); /* 1/8 */
	svc.lr.choice_count = 1;
	count_picks(&svc, 8000, cnt);
	assert_in_range(cnt['A'], 3750, 4250); /* random */
	/* inactive connections are not requests: B's do not count */
	svc.lr.choice_count = 2;
	for (int i = 0; i < 9; i++)
		albm_svc_conn_open(&svc, svc.dests[1], false);
	count_picks(&svc, 8000, cnt);
	assert_in_range(cnt['A'], 1800, 2200);
	albm_svc_destroy(&svc);
}

/* Unequal weights: EDF.  Weights 2 and 1, no connections: deadlines A 0.5, B 1;
 * A at 0.5 goes back at 1.0 behind B (inserted earlier) ... -> A B A A B A A B. */
static void test_lr_edf_sequence(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 2, 1 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "lr", w, 2);
	assert_string_equal(fixture_sequence(&svc, 8, seq), "ABAABAAB");
	albm_svc_destroy(&svc);
}

/* Each pick re-inserts the picked server with weight / (active + 1) as it is at the
 * pick (bias 1); the other keeps its weight from its last insertion:
 *   A .5 -> 1.0 (w 2/1); B 1.0 -> 2.0 (1/1); A 1.0 -> 2.0 (2/2); B 2.0 -> 4.0 (1/2);
 *   A 2.0 -> 3.5 (2/3); A 3.5 -> 5.5 (2/4); B 4.0 -> 7.0 (1/3); A 5.5 -> 8.0 (2/5).
 * With bias 0 the active requests do not matter: plain weighted round robin. */
static void test_lr_active_request_bias(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 2, 1 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "lr", w, 2);
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "ABABAABA");
	albm_svc_destroy(&svc);

	fixture_svc(&svc, &clk, "lr", w, 2);
	svc.lr.active_request_bias = 0;
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "ABAABAAB");
	albm_svc_destroy(&svc);

	/* a loaded heavy server starts behind: A 2 / (3 + 1) = 0.5 < B 1 / 1 */
	fixture_svc(&svc, &clk, "lr", w, 2);
	svc.lr.active_request_bias = 1.0;
	for (int i = 0; i < 3; i++)
		albm_svc_conn_open(&svc, svc.dests[0], true);
	albm_svc_set_weight(&svc, svc.dests[0], 2); /* an edit: rebuilt with A's load */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_destroy(&svc);
}

/* Mode follows the usable servers' weights; the generic contract. */
static void test_lr_changes_and_contract(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 2, 1, 0 };
	unsigned cnt[128];
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "lr", w, 3);
	count_picks(&svc, 3000, cnt);
	assert_int_equal(cnt['C'], 0);    /* weight 0: drained */
	assert_int_equal(cnt['A'], 2000); /* EDF: exact shares */
	assert_true(svc.dests[2]->eff_weight == 0 && svc.dests[0]->eff_weight == 2);
	albm_svc_set_weight(&svc, svc.dests[1], 2); /* equal now: P2C, no connections: random */
	count_picks(&svc, 8000, cnt);
	assert_in_range(cnt['A'], 3700, 4300);
	albm_svc_set_thresholds(&svc, svc.dests[0], 1, 0);
	albm_svc_conn_open(&svc, svc.dests[0], true); /* A at maxconn */
	assert_string_equal(fixture_sequence(&svc, 3, seq), "BBB");
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_AVAILABLE);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lr_p2c_with_replacement),
		cmocka_unit_test(test_lr_edf_sequence),
		cmocka_unit_test(test_lr_active_request_bias),
		cmocka_unit_test(test_lr_changes_and_contract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
