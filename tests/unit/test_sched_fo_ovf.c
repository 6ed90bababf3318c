/* ALBM: unit tests for the fo and ovf schedulers (IPVS ip_vs_fo.c / ip_vs_ovf.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_diff.h"
#include "sched/wintree.h"

/* ---- references: the kernel's linear scans (down = not in the list) ---- */

/* ip_vs_fo_schedule() */
static struct albm_dest *ref_fo(void *ctx, const struct albm_service *svc)
{
	struct albm_dest *best = NULL;
	int hw = 0;
	(void)ctx;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (!(d->flags & ALBM_DEST_F_AVAILABLE))
			continue;
		if (!(d->flags & ALBM_DEST_F_OVERLOAD) && d->weight > hw) {
			best = d;
			hw = d->weight;
		}
	}
	return best;
}

/* ip_vs_ovf_schedule() */
static struct albm_dest *ref_ovf(void *ctx, const struct albm_service *svc)
{
	struct albm_dest *h = NULL;
	int hw = 0;
	(void)ctx;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		int w = d->weight;
		if (!(d->flags & ALBM_DEST_F_AVAILABLE))
			continue;
		if ((d->flags & ALBM_DEST_F_OVERLOAD) || (int64_t)d->activeconns > w || w == 0)
			continue;
		if (!h || w > hw) {
			h = d;
			hw = w;
		}
	}
	return h;
}

/* ---- exact sequences ---- */

static void test_fo_highest_weight_first_on_ties(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 2, 5, 5, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "fo", w, 4);
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "BBBB"); /* conns don't matter */
	albm_svc_set_thresholds(&svc, svc.dests[1], 4, 0); /* B at its limit: C takes over */
	assert_true(svc.dests[1]->flags & ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_set_flags(&svc, svc.dests[2], 0, ALBM_DEST_F_AVAILABLE); /* C down */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	/* published weights: 0 for the overloaded B and the failed C */
	assert_true(svc.dests[0]->eff_weight == 2.0 && svc.dests[1]->eff_weight == 0.0);
	assert_true(svc.dests[2]->eff_weight == 0.0 && svc.dests[3]->eff_weight == 1.0);
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AGENT_OVL, 0); /* ignored */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_set_weight(&svc, svc.dests[3], 9);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "D");
	albm_svc_del_dest(&svc, svc.dests[3]);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_conn_close(&svc, svc.dests[1], true); /* B: 3 <= 3/4 of 4: back */
	assert_false(svc.dests[1]->flags & ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_set_weight(&svc, svc.dests[0], 0);
	albm_svc_set_weight(&svc, svc.dests[1], 0);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_destroy(&svc);
}

static void test_ovf_overflows_in_weight_order(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 2, 3, 1 };
	(void)state;

	/* B while active <= 3 (4 picks), then A (3), then C (2), then nobody */
	fixture_svc(&svc, &clk, "ovf", w, 3);
	assert_string_equal(fixture_sequence_open(&svc, 10, seq), "BBBBAAACC-");
	albm_svc_conn_close(&svc, svc.dests[1], true); /* B: 3 <= 3 again */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "BB");
	albm_svc_conn_set_active(&svc, svc.dests[1], false); /* B: 2 active, 1 inactive */
	albm_svc_conn_open(&svc, svc.dests[1], false);       /* inactive: not counted */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_set_weight(&svc, svc.dests[1], 1); /* 2 > 1: B out */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_conn_close(&svc, svc.dests[2], true); /* C: 1 <= 1 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");
	albm_svc_destroy(&svc);
}

static void test_ovf_ties_and_overload(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 2, 2 };
	(void)state;

	fixture_svc(&svc, &clk, "ovf", w, 3);
	albm_svc_set_thresholds(&svc, svc.dests[1], 2, 0); /* B: maxconn 2 */
	/* B (first of the 2s) twice, then overloaded; C three times; A twice */
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "BBCCCAA-");
	albm_svc_set_flags(&svc, svc.dests[2], ALBM_DEST_F_AGENT_OVL, 0); /* ignored */
	albm_svc_conn_close(&svc, svc.dests[2], true);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");
	albm_svc_destroy(&svc);
}

/* ---- differential ---- */

/* The tree is sound and holds exactly the members, at their positions. */
static bool check_tree(const struct albm_service *svc)
{
	const struct albm_wintree_sched *ts = svc->sched_data;

	for (size_t i = 0; i < ts->tree.size; i++) {
		bool want = i < svc->ndests && ts->member(svc->dests[i]);
		if (albm_wintree_present(&ts->tree, i) != want)
			return false;
	}
	return albm_wintree_check(&ts->tree);
}

static void fo_ovf_diff(const char *sched,
			struct albm_dest *(*pick)(void *, const struct albm_service *),
			uint64_t seed0)
{
	struct diff_ref ref = { .pick = pick, .check = check_tree };

	for (uint64_t seed = seed0; seed < seed0 + 30; seed++) {
		struct diff_cfg cfg = { .seed = seed,
					.ops = 4000,
					.init_n = 1 + seed % 8,
					.max_n = 12,
					.max_weight = 4 };
		struct diff_stats st = diff_run(sched, &ref, &cfg);
		assert_int_equal(st.mismatches, 0);
		assert_true(st.picks > cfg.ops / 3 && st.picks > st.nulls);
	}
	{
		struct diff_cfg cfg = {
			.seed = seed0, .ops = 20000, .init_n = 26, .max_n = 200, .max_weight = 50
		};
		struct diff_stats st = diff_run(sched, &ref, &cfg);
		assert_int_equal(st.mismatches, 0);
	}
}

static void test_fo_differential(void **state)
{
	(void)state;
	fo_ovf_diff("fo", ref_fo, 1);
}

static void test_ovf_differential(void **state)
{
	(void)state;
	fo_ovf_diff("ovf", ref_ovf, 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fo_highest_weight_first_on_ties),
		cmocka_unit_test(test_ovf_overflows_in_weight_order),
		cmocka_unit_test(test_ovf_ties_and_overload),
		cmocka_unit_test(test_fo_differential),
		cmocka_unit_test(test_ovf_differential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
