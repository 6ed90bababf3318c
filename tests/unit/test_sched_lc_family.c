/* ALBM: unit tests for lc, wlc, sed and nq (IPVS ip_vs_{lc,wlc,sed,nq}.c semantics) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_diff.h"
#include "sched/wintree.h"

/* ---- references: the kernel's linear scans; a server that is down is not in
 * IPVS's list, so the scans skip it first ---- */

static bool ref_in_list(const struct albm_dest *d)
{
	return d->flags & ALBM_DEST_F_AVAILABLE;
}

static bool ref_overloaded(const struct albm_dest *d)
{
	return d->flags & ALBM_DEST_F_OVERLOAD;
}

/* ip_vs_lc_schedule() */
static struct albm_dest *ref_lc(void *ctx, const struct albm_service *svc)
{
	struct albm_dest *least = NULL;
	uint64_t loh = 0;
	(void)ctx;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		uint64_t doh = ((uint64_t)d->activeconns << 8) + d->inactconns;
		if (!ref_in_list(d) || ref_overloaded(d) || d->weight == 0)
			continue;
		if (!least || doh < loh) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

/* ip_vs_wlc_schedule() and ip_vs_sed_schedule(): first usable server, then strict
 * improvement of overhead/weight by cross-multiplication (weight 0 never wins). */
static struct albm_dest *ref_ratio_scan(const struct albm_service *svc,
					uint64_t (*overhead)(const struct albm_dest *))
{
	struct albm_dest *least = NULL;
	size_t i;

	for (i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (ref_in_list(d) && !ref_overloaded(d) && d->weight > 0) {
			least = d;
			break;
		}
	}
	if (!least)
		return NULL;
	for (i++; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (!ref_in_list(d) || ref_overloaded(d))
			continue;
		if ((__int128)overhead(least) * d->weight > (__int128)overhead(d) * least->weight)
			least = d;
	}
	return least;
}

static uint64_t ref_wlc_overhead(const struct albm_dest *d)
{
	return ((uint64_t)d->activeconns << 8) + d->inactconns;
}

static uint64_t ref_sed_overhead(const struct albm_dest *d)
{
	return (uint64_t)d->activeconns + 1;
}

static struct albm_dest *ref_wlc(void *ctx, const struct albm_service *svc)
{
	(void)ctx;
	return ref_ratio_scan(svc, ref_wlc_overhead);
}

static struct albm_dest *ref_sed(void *ctx, const struct albm_service *svc)
{
	(void)ctx;
	return ref_ratio_scan(svc, ref_sed_overhead);
}

/* ip_vs_nq_schedule() */
static struct albm_dest *ref_nq(void *ctx, const struct albm_service *svc)
{
	struct albm_dest *least = NULL;
	(void)ctx;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (!ref_in_list(d) || ref_overloaded(d) || !d->weight)
			continue;
		if (d->activeconns == 0)
			return d;
		if (!least || (__int128)ref_sed_overhead(least) * d->weight >
				      (__int128)ref_sed_overhead(d) * least->weight)
			least = d;
	}
	return least;
}

/* ---- exact sequences ---- */

static void test_lc_sequence_and_ties(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 5, 1 };
	(void)state;

	/* weights do not matter to lc; equal overheads go to the earliest */
	fixture_svc(&svc, &clk, "lc", w, 3);
	assert_string_equal(fixture_sequence_open(&svc, 7, seq), "ABCABCA");
	albm_svc_destroy(&svc);
}

static void test_lc_inactive_weighs_1_of_256(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "lc", w, 3);
	albm_svc_conn_open(&svc, svc.dests[0], true); /* A: 256 */
	for (int i = 0; i < 300; i++)
		albm_svc_conn_open(&svc, svc.dests[1], false); /* B: 300 */
	for (int i = 0; i < 255; i++)
		albm_svc_conn_open(&svc, svc.dests[2], false); /* C: 255 */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_conn_open(&svc, svc.dests[2], false); /* C: 256 = A: the earlier wins */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_conn_set_active(&svc, svc.dests[2], true); /* C: 1 active + 255 inactive */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_conn_close(&svc, svc.dests[0], true); /* A: 0 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_destroy(&svc);
}

/* Shared by all four: weight 0, down and over-limit servers get nothing. */
static void check_unusable_skipped(const char *sched)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 0, 1, 1 };

	fixture_svc(&svc, &clk, sched, w, 4);
	albm_svc_set_thresholds(&svc, svc.dests[0], 1, 0);                /* A: maxconn 1 */
	albm_svc_set_flags(&svc, svc.dests[3], 0, ALBM_DEST_F_AVAILABLE); /* D down */
	albm_svc_set_flags(&svc, svc.dests[2], ALBM_DEST_F_AGENT_OVL, 0); /* ignored */
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "ACCC");
	assert_true(svc.dests[0]->flags & ALBM_DEST_F_OVERLOAD);
	albm_svc_set_weight(&svc, svc.dests[2], 0); /* C drained */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	albm_svc_conn_close(&svc, svc.dests[0], true); /* A under its limit again */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_set_flags(&svc, svc.dests[3], ALBM_DEST_F_AVAILABLE, 0); /* D up, idle */
	assert_string_equal(fixture_sequence_open(&svc, 1, seq), "A");
	assert_string_equal(fixture_sequence(&svc, 1, seq), "D");
	albm_svc_destroy(&svc);
}

static void test_unusable_skipped(void **state)
{
	(void)state;
	check_unusable_skipped("lc");
	check_unusable_skipped("wlc");
	check_unusable_skipped("sed");
	check_unusable_skipped("nq");
}

static void test_wlc_sequence(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 2, 3 };
	(void)state;

	/* active*256/weight; e.g. pick 4: A 256, B 128, C 85.3 -> C; pick 7: all 256 -> A */
	fixture_svc(&svc, &clk, "wlc", w, 3);
	assert_string_equal(fixture_sequence_open(&svc, 13, seq), "ABCCBCABCCBCA");
	albm_svc_destroy(&svc);
}

static void test_wlc_cross_multiplication_tie(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 2, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "wlc", w, 2);
	albm_svc_conn_open(&svc, svc.dests[0], true); /* A: 256 / 2 = 128 */
	for (int i = 0; i < 128; i++)
		albm_svc_conn_open(&svc, svc.dests[1], false);    /* B: 128 / 1 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A"); /* 256*1 == 128*2: A first */
	albm_svc_conn_open(&svc, svc.dests[0], false);            /* A: 257 / 2 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_set_weight(&svc, svc.dests[0], 3); /* A: 257 / 3 < 128 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_destroy(&svc);
}

static void test_sed_sequence(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 2, 3 };
	(void)state;

	/* (active+1)/weight: 1, .5, .33 -> C; then B; C; all 1 -> A; ... */
	fixture_svc(&svc, &clk, "sed", w, 3);
	for (int i = 0; i < 1000; i++) /* inactive connections do not count */
		albm_svc_conn_open(&svc, svc.dests[2], false);
	assert_string_equal(fixture_sequence_open(&svc, 10, seq), "CBCABCCBCA");
	albm_svc_destroy(&svc);
}

static void test_nq_idle_first_then_sed(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 2, 3 };
	(void)state;

	/* idle servers in list order, then SED from (1,1,1) */
	fixture_svc(&svc, &clk, "nq", w, 3);
	assert_string_equal(fixture_sequence_open(&svc, 10, seq), "ABCCBCCBCA");
	/* an idle server beats a much faster busy one */
	albm_svc_conn_close(&svc, svc.dests[1], true);
	albm_svc_conn_close(&svc, svc.dests[1], true);
	albm_svc_conn_close(&svc, svc.dests[1], true); /* B idle (3 -> 0) */
	albm_svc_conn_close(&svc, svc.dests[0], true);
	albm_svc_conn_close(&svc, svc.dests[0], true); /* A idle */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_conn_open(&svc, svc.dests[0], false); /* inactive: A is still idle */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_conn_set_active(&svc, svc.dests[0], true);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_destroy(&svc);
}

static void test_rebind_and_delete(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 2, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "lc", w, 4);
	albm_svc_conn_open(&svc, svc.dests[0], true);
	albm_svc_conn_open(&svc, svc.dests[1], true);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");
	/* a new scheduler starts from the current counts */
	assert_int_equal(albm_svc_bind_name(&svc, "nq"), 0);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");
	albm_svc_del_dest(&svc, svc.dests[2]); /* positions after C shift down */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "D");
	albm_svc_del_dest(&svc, svc.dests[2]); /* D */
	/* sed (A 2/1, B 2/2): B */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	assert_int_equal(albm_svc_bind_name(&svc, "wlc"), 0);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B"); /* 256/2 < 256/1 */
	albm_svc_conn_close(&svc, svc.dests[0], true);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_destroy(&svc);
}

/* ---- differential against the linear scans ---- */

/* The tree is sound and holds exactly the usable servers, at their positions. */
static bool check_tree(const struct albm_service *svc)
{
	const struct albm_wintree_sched *ts = svc->sched_data;

	for (size_t i = 0; i < ts->tree.size; i++) {
		bool want = i < svc->ndests && albm_dest_usable(svc->dests[i]);
		if (albm_wintree_present(&ts->tree, i) != want)
			return false;
	}
	return albm_wintree_check(&ts->tree);
}

static void family_diff(const char *sched,
			struct albm_dest *(*pick)(void *, const struct albm_service *),
			bool (*check)(const struct albm_service *), uint64_t seed0)
{
	struct diff_ref ref = { .pick = pick, .check = check };

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

static void test_lc_differential(void **state)
{
	(void)state;
	family_diff("lc", ref_lc, check_tree, 1);
}

static void test_wlc_differential(void **state)
{
	(void)state;
	family_diff("wlc", ref_wlc, check_tree, 1000);
}

static void test_sed_differential(void **state)
{
	(void)state;
	family_diff("sed", ref_sed, check_tree, 2000);
}

static void test_nq_differential(void **state)
{
	(void)state;
	family_diff("nq", ref_nq, NULL, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lc_sequence_and_ties),
		cmocka_unit_test(test_lc_inactive_weighs_1_of_256),
		cmocka_unit_test(test_unusable_skipped),
		cmocka_unit_test(test_wlc_sequence),
		cmocka_unit_test(test_wlc_cross_multiplication_tie),
		cmocka_unit_test(test_sed_sequence),
		cmocka_unit_test(test_nq_idle_first_then_sed),
		cmocka_unit_test(test_rebind_and_delete),
		cmocka_unit_test(test_lc_differential),
		cmocka_unit_test(test_wlc_differential),
		cmocka_unit_test(test_sed_differential),
		cmocka_unit_test(test_nq_differential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
