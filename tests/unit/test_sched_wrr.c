/* ALBM: unit tests for the wrr scheduler (IPVS ip_vs_wrr.c sequence, changes, overload) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "../lib/sched_diff.h"

/* ---- reference: a literal port of the kernel's walk, O(n * mw/di) per pick ---- */

struct ref_wrr {
	long cl; /* list position of the last pick, -1 = head */
	int cw, mw, di;
};

static int ref_gcd(int a, int b)
{
	return b ? ref_gcd(b, a % b) : a;
}

/* Servers that are down are not in IPVS's list. */
static bool ref_in_list(const struct albm_dest *d)
{
	return d->flags & ALBM_DEST_F_AVAILABLE;
}

/* ip_vs_wrr_dest_changed() (and init_svc, from a zeroed mark) */
static void ref_wrr_changed(void *ctx, const struct albm_service *svc)
{
	struct ref_wrr *m = ctx;
	int g = 0, max = 0;

	for (size_t i = 0; i < svc->ndests; i++) {
		int w = svc->dests[i]->weight;
		if (!ref_in_list(svc->dests[i]))
			continue;
		if (w > 0)
			g = g ? ref_gcd(w, g) : w;
		if (w > max)
			max = w;
	}
	m->cl = -1;
	m->di = g ? g : 1;
	m->mw = max - (m->di - 1);
	if (m->cw > m->mw || !m->cw)
		m->cw = m->mw;
	else if (m->di > 1)
		m->cw = (m->cw / m->di) * m->di + 1;
}

/* ip_vs_wrr_schedule() */
static struct albm_dest *ref_wrr_pick(void *ctx, const struct albm_service *svc)
{
	struct ref_wrr *m = ctx;
	long n = (long)svc->ndests, pos = m->cl, last = m->cl, stop = LONG_MIN;
	bool last_pass = false, restarted = false;

	if (m->mw == 0)
		return NULL;
	for (;;) {
		for (pos = pos + 1; pos < n; pos++) {
			struct albm_dest *d = svc->dests[pos];
			if (!ref_in_list(d))
				continue;
			if (!(d->flags & ALBM_DEST_F_OVERLOAD) && d->weight >= m->cw) {
				m->cl = pos;
				return d;
			}
			if (pos == stop) {
				m->cl = pos;
				return NULL;
			}
		}
		pos = -1; /* back at the list head */
		m->cw -= m->di;
		if (m->cw <= 0) {
			m->cw = m->mw;
			if (last_pass || last == -1) {
				m->cl = -1;
				return NULL;
			}
			restarted = true;
		}
		last_pass = m->cw <= m->di;
		if (last_pass && restarted && last != -1)
			stop = last;
	}
}

/* ---- exact sequences ---- */

static void test_wrr_sequence_432(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 4, 3, 2 };
	(void)state;

	/* cw = 4: A | 3: A B | 2: A B C | 1: A B C */
	fixture_svc(&svc, &clk, "wrr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 18, seq), "AABABCABCAABABCABC");
	albm_svc_destroy(&svc);
}

static void test_wrr_gcd_step(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 4, 2, 6 };
	(void)state;

	/* di = 2, mw = 6 - 1 = 5: cw = 5: C | 3: A C | 1: A B C */
	fixture_svc(&svc, &clk, "wrr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 12, seq), "CACABCCACABC");
	albm_svc_destroy(&svc);
}

static void test_wrr_bind_uses_whole_list(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 1, 5 };
	(void)state;

	/* init_service sees both servers: cw starts at mw = 5, not at A's 1 */
	fixture_svc(&svc, &clk, "wrr", w, 2);
	assert_string_equal(fixture_sequence(&svc, 12, seq), "BBBBABBBBBAB");
	albm_svc_destroy(&svc);
}

static void test_wrr_weight0_and_down(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 2, 0, 1 };
	(void)state;

	/* B (weight 0) never; cw = 2: A | 1: A C */
	fixture_svc(&svc, &clk, "wrr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 6, seq), "AACAAC");
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE); /* A down */
	assert_string_equal(fixture_sequence(&svc, 3, seq), "CCC");
	albm_svc_set_weight(&svc, svc.dests[2], 0); /* nobody left: mw = 0 */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	assert_int_equal(svc.no_dest, 2);
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AVAILABLE, 0);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "AAA");
	albm_svc_destroy(&svc);
}

static void test_wrr_overload_keeps_cursor(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 3, 2, 1 };
	(void)state;

	/* cw = 3: A | 2: A B | 1: A B C */
	fixture_svc(&svc, &clk, "wrr", w, 3);
	albm_svc_set_thresholds(&svc, svc.dests[0], 1, 0);          /* A: maxconn 1 */
	assert_string_equal(fixture_sequence(&svc, 3, seq), "AAB"); /* now at B, cw 2 */
	albm_svc_conn_open(&svc, svc.dests[0], true);               /* A overloaded */
	assert_true(svc.dests[0]->flags & ALBM_DEST_F_OVERLOAD);
	/* cw 2: (C too light) | 1: A skipped, B, C | 3: - | 2: A skipped, B */
	assert_string_equal(fixture_sequence(&svc, 3, seq), "BCB");
	albm_svc_conn_close(&svc, svc.dests[0], true); /* A back; the cursor stays at B, cw 2 */
	assert_false(svc.dests[0]->flags & ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 6, seq), "ABCAAB");
	albm_svc_destroy(&svc);
}

static void test_wrr_agent_overload_ignored(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 4, 3, 2 };
	(void)state;

	fixture_svc(&svc, &clk, "wrr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "AAB");
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AGENT_OVL, 0);
	/* neither skipped nor a reset (a reset would give ABABC...) */
	assert_string_equal(fixture_sequence(&svc, 6, seq), "ABCABC");
	albm_svc_destroy(&svc);
}

static void test_wrr_weight_change_resets(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 4, 3, 2 };
	(void)state;

	fixture_svc(&svc, &clk, "wrr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 4, seq), "AABA"); /* at A, cw 2 */
	/* A -> 1: mw = 3, cw 2 kept, cursor to head.
	 * cw 2: B C | 1: A B C | 3: B | 2: B C | 1: A B C */
	albm_svc_set_weight(&svc, svc.dests[0], 1);
	assert_string_equal(fixture_sequence(&svc, 11, seq), "BCABCBBCABC");
	albm_svc_destroy(&svc);
}

static void test_wrr_weight_change_aligns_cw(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w1[] = { 6, 4 }, w2[] = { 5, 1 };
	(void)state;

	/* di = 2, mw = 5: cw 5: A | 3: A B | 1: A B */
	fixture_svc(&svc, &clk, "wrr", w1, 2);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA"); /* at A, cw 3 */
	/* B -> 3: di = 3, mw = 4, cw = 3 / 3 * 3 + 1 = 4.  cw 4: A | 1: A B */
	albm_svc_set_weight(&svc, svc.dests[1], 3);
	assert_string_equal(fixture_sequence(&svc, 6, seq), "AABAAB");
	albm_svc_destroy(&svc);

	/* cw > new mw: clamped to mw */
	fixture_svc(&svc, &clk, "wrr", w2, 2);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A"); /* at A, cw 5 */
	albm_svc_set_weight(&svc, svc.dests[0], 2);               /* mw 2, cw 5 -> 2 */
	assert_string_equal(fixture_sequence(&svc, 6, seq), "AABAAB");
	albm_svc_destroy(&svc);
}

static void test_wrr_add_remove(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64], err[128];
	const int w[] = { 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "wrr", w, 2);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	/* C (2) joins: mw 2, cw 1 kept, cursor to head.  1: A B C | 2: C | 1: A B C */
	assert_non_null(albm_svc_add_dest(&svc, "C", NULL, 2, err, sizeof(err)));
	assert_string_equal(fixture_sequence(&svc, 7, seq), "ABCCABC");
	/* B leaves: cursor to head, cw 1 kept.  1: A C | 2: C | 1: A C */
	albm_svc_del_dest(&svc, svc.dests[1]);
	assert_string_equal(fixture_sequence(&svc, 5, seq), "ACCAC");
	albm_svc_del_dest(&svc, svc.dests[1]); /* C, the last pick */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_del_dest(&svc, svc.dests[0]);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_destroy(&svc);
}

static void test_wrr_all_overloaded(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[64];
	const int w[] = { 2, 1 };
	(void)state;

	/* cw 2: A | 1: A B */
	fixture_svc(&svc, &clk, "wrr", w, 2);
	/* Failing at cw 2 (not the last pass) leaves IPVS's walk at (head, mw). */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_OVERLOAD, 0);
	albm_svc_set_flags(&svc, svc.dests[1], ALBM_DEST_F_OVERLOAD, 0);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_OVERLOAD);
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 6, seq), "AABAAB");
	/* Failing in the last pass (at A, cw 1) leaves the cursor where it was. */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_OVERLOAD, 0);
	albm_svc_set_flags(&svc, svc.dests[1], ALBM_DEST_F_OVERLOAD, 0);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_OVERLOAD);
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 4, seq), "BAAB");
	albm_svc_destroy(&svc);
}

static void test_wrr_ratio_and_eff_weight(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 5, 0, 3, 1 };
	unsigned count[4] = { 0 };
	struct albm_flow f = fixture_flow(1);
	(void)state;

	fixture_svc(&svc, &clk, "wrr", w, 4);
	for (int i = 0; i < 900; i++)
		count[albm_svc_schedule(&svc, &f)->idx]++;
	assert_int_equal(count[0], 500);
	assert_int_equal(count[1], 0);
	assert_int_equal(count[2], 300);
	assert_int_equal(count[3], 100);
	assert_true(svc.dests[0]->eff_weight == 5.0 && svc.dests[1]->eff_weight == 0.0);
	albm_svc_destroy(&svc);
}

/* ---- differential: the fast walk against the literal one ---- */

/* quiet: % of changes skipped, so that long stretches of picks run between the
 * cursor resets of IPVS edits */
static void wrr_diff(uint64_t seed, unsigned ops, unsigned n, unsigned max_n, int max_w,
		     unsigned quiet)
{
	struct ref_wrr m = { 0 };
	struct diff_ref ref = { .pick = ref_wrr_pick, .edit = ref_wrr_changed, .ctx = &m };
	struct diff_cfg cfg = { .seed = seed,
				.ops = ops,
				.init_n = n,
				.max_n = max_n,
				.max_weight = max_w,
				.quiet = quiet };
	struct diff_stats st = diff_run("wrr", &ref, &cfg);

	assert_int_equal(st.mismatches, 0);
	assert_true(st.picks > ops / 3 && st.picks > st.nulls && st.edits > ops / 200);
}

static void test_wrr_differential_small(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++)
		wrr_diff(seed, 5000, 1 + seed % 6, 10, 6, seed % 2 ? 0 : 90);
}

static void test_wrr_differential_heavy_weights(void **state)
{
	(void)state;
	for (uint64_t seed = 100; seed < 110; seed++)
		wrr_diff(seed, 4000, 20, 40, 200, 80);
}

static void test_wrr_differential_large(void **state)
{
	(void)state;
	wrr_diff(7, 3000, 26, 300, 50, 0);
	wrr_diff(8, 20000, 1024, 1100, 20, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrr_sequence_432),
		cmocka_unit_test(test_wrr_gcd_step),
		cmocka_unit_test(test_wrr_bind_uses_whole_list),
		cmocka_unit_test(test_wrr_weight0_and_down),
		cmocka_unit_test(test_wrr_overload_keeps_cursor),
		cmocka_unit_test(test_wrr_agent_overload_ignored),
		cmocka_unit_test(test_wrr_weight_change_resets),
		cmocka_unit_test(test_wrr_weight_change_aligns_cw),
		cmocka_unit_test(test_wrr_add_remove),
		cmocka_unit_test(test_wrr_all_overloaded),
		cmocka_unit_test(test_wrr_ratio_and_eff_weight),
		cmocka_unit_test(test_wrr_differential_small),
		cmocka_unit_test(test_wrr_differential_heavy_weights),
		cmocka_unit_test(test_wrr_differential_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
