/* ALBM: unit tests for prequal (hot-cold lexicographic selection, NSDI 2024) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_diff.h"

/* n picks without opening connections; counts per server name. */
static void count_picks(struct albm_service *svc, unsigned n, unsigned cnt[128])
{
	struct albm_flow f = fixture_flow(1);

	memset(cnt, 0, 128 * sizeof(cnt[0]));
	for (unsigned i = 0; i < n; i++) {
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		cnt[d ? (unsigned char)d->name[0] : '-']++;
	}
}

/* Give server i rif[i] active connections. */
static void set_rif(struct albm_service *svc, const unsigned *rif)
{
	for (size_t i = 0; i < svc->ndests; i++) {
		while (svc->dests[i]->activeconns < rif[i])
			albm_svc_conn_open(svc, svc->dests[i], true);
		while (svc->dests[i]->activeconns > rif[i])
			albm_svc_conn_close(svc, svc->dests[i], true);
	}
}

/* A passive time-to-first-byte EWMA of us µs measured at `at` (0 µs: none).  prequal
 * reads the figures at its next tick (or rebuild): callers tick after setting them. */
static void set_latency(struct albm_dest *d, uint32_t us, uint64_t at)
{
	d->passive.ttfb.ewma_us = us;
	d->passive.ttfb.samples = us ? 10 : 0;
	d->passive.updated_ms = us ? at : 0;
}

/* No latency known: least requests in flight, ties to list order. */
static void test_prequal_rif_without_latency(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	const unsigned rif[] = { 3, 1, 2, 1 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "prequal", w, 4);
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "ABCDABCD");
	set_rif(&svc, rif);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "BB");
	albm_svc_destroy(&svc);
}

/* Hot servers (RIF above the 0.84 quantile) lose to cold ones whatever their latency;
 * among the cold ones the lowest latency wins, not the lowest RIF. */
static void test_prequal_hot_cold(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	const unsigned rif[] = { 0, 1, 5, 1 }, rif2[] = { 0, 1, 1, 1 };
	const uint32_t lat[] = { 50000, 5000, 1000, 10000 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "prequal", w, 4);
	for (size_t i = 0; i < 4; i++)
		set_latency(svc.dests[i], lat[i], clk.now_ms);
	albm_svc_tick(&svc);
	/* RIFs 0 1 1 5: the quantile at rank floor(0.84 * 3) = 2 is 1, so C (5) is hot */
	set_rif(&svc, rif);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	set_rif(&svc, rif2); /* C cools down: the fastest */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");
	/* opening connections: C takes work until it is hot, then B (next fastest) */
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "CBCB");
	albm_svc_destroy(&svc);
}

/* A cold server without a (fresh) latency figure orders the cold ones by RIF. */
static void test_prequal_latency_fallback(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	const unsigned rif[] = { 1, 1, 0 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "prequal", w, 3);
	set_rif(&svc, rif); /* quantile 1: all cold */
	set_latency(svc.dests[1], 1000, clk.now_ms);
	set_latency(svc.dests[2], 2000, clk.now_ms);
	albm_svc_tick(&svc);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C"); /* A unknown: by RIF */
	set_latency(svc.dests[0], 500, clk.now_ms);
	albm_svc_tick(&svc);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A"); /* all known: fastest */
	clk.now_ms += 1500;
	set_latency(svc.dests[1], 1000, clk.now_ms);
	set_latency(svc.dests[2], 2000, clk.now_ms);
	albm_svc_tick(&svc);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A"); /* 1.5 s old: fresh */
	clk.now_ms += 600;
	set_latency(svc.dests[1], 1000, clk.now_ms);
	set_latency(svc.dests[2], 2000, clk.now_ms);
	albm_svc_tick(&svc);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C"); /* A's is 2.1 s old */
	svc.prequal.latency_max_age_ms = 5000;
	albm_svc_tick(&svc);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "A");
	albm_svc_destroy(&svc);
}

/* A pool of 2 draws of 4 servers: when both drawn servers are hot the lower RIF wins,
 * even against a lower latency.  With Q_RIF = 0 only the least loaded server (A) is
 * cold.  Of the 16 equally likely draws, 7 hold A; without A: C wins {C,C}, {B,C} x 2,
 * {C,D} x 2 (5), D wins {D,D}, {B,D} x 2 (3), B only {B,B} (1). */
static void test_prequal_all_hot_pool(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	const unsigned rif[] = { 1, 5, 3, 4 };
	const uint32_t lat[] = { 90000, 1, 50000, 2 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "prequal", w, 4);
	svc.prequal.q_rif = 0;
	svc.prequal.pool = 2;
	set_rif(&svc, rif);
	for (size_t i = 0; i < 4; i++)
		set_latency(svc.dests[i], lat[i], clk.now_ms);
	albm_svc_tick(&svc);
	count_picks(&svc, 16000, cnt);
	assert_in_range(cnt['A'], 6700, 7300);
	assert_in_range(cnt['B'], 850, 1150);
	assert_in_range(cnt['C'], 4700, 5300);
	assert_in_range(cnt['D'], 2750, 3250);
	albm_svc_destroy(&svc);
}

/* The generic contract: weight 0 and maxconn skipped, nothing usable -> NULL. */
static void test_prequal_contract(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 0, 3, 1 };
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "prequal", w, 3);
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "BCBC");
	assert_true(svc.dests[0]->eff_weight == 0 && svc.dests[1]->eff_weight == 3);
	albm_svc_set_thresholds(&svc, svc.dests[1], 2, 0); /* B at its limit */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_set_flags(&svc, svc.dests[2], 0, ALBM_DEST_F_AVAILABLE);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	albm_svc_set_flags(&svc, svc.dests[1], ALBM_DEST_F_AGENT_OVL, 0); /* ignored */
	albm_svc_conn_close(&svc, svc.dests[1], true);
	albm_svc_conn_close(&svc, svc.dests[1], true);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "B");
	albm_svc_destroy(&svc);
}

/* ---- differential run against the rule written out naively ---- */

/* A latency per server from its insertion number; every fifth has none. */
static void ref_latencies(struct albm_service *svc)
{
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		uint32_t us = d->seq % 5 == 4 ? 0 : 1 + (uint32_t)((d->seq * 2654435761u) % 997);

		set_latency(d, us, albm_svc_now(svc));
	}
	albm_svc_tick(svc);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* HCL over every usable server (the pool covers all of them at <= 16 servers). */
static struct albm_dest *ref_prequal(void *ctx, const struct albm_service *csvc)
{
	struct albm_service *svc = (struct albm_service *)csvc;
	struct albm_dest *best = NULL, *hot = NULL;
	uint32_t rif[64], thr;
	size_t m = 0;
	bool known = true;
	(void)ctx;

	ref_latencies(svc);
	for (size_t i = 0; i < svc->ndests; i++)
		if (albm_dest_usable(svc->dests[i]))
			rif[m++] = svc->dests[i]->activeconns;
	if (!m)
		return NULL;
	qsort(rif, m, sizeof(rif[0]), cmp_u32);
	thr = rif[(size_t)(0.84 * (double)(m - 1))];
	for (size_t i = 0; i < svc->ndests; i++) { /* any cold server without a latency? */
		struct albm_dest *d = svc->dests[i];
		if (albm_dest_usable(d) && d->activeconns <= thr && !d->passive.ttfb.samples)
			known = false;
	}
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (!albm_dest_usable(d))
			continue;
		if (d->activeconns > thr) {
			if (!hot || d->activeconns < hot->activeconns)
				hot = d;
		} else if (!best ||
			   (known && d->passive.ttfb.ewma_us < best->passive.ttfb.ewma_us) ||
			   ((!known || d->passive.ttfb.ewma_us == best->passive.ttfb.ewma_us) &&
			    d->activeconns < best->activeconns)) {
			best = d;
		}
	}
	return best ? best : hot;
}

static void test_prequal_differential(void **state)
{
	struct diff_ref ref = { .pick = ref_prequal };
	(void)state;

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct diff_cfg cfg = {
			.seed = seed, .ops = 3000, .init_n = 6, .max_n = 16, .max_weight = 4
		};
		struct diff_stats st = diff_run("prequal", &ref, &cfg);

		assert_int_equal(st.mismatches, 0);
		assert_true(st.picks > 1000 && st.picks > st.nulls);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prequal_rif_without_latency),
		cmocka_unit_test(test_prequal_hot_cold),
		cmocka_unit_test(test_prequal_latency_fallback),
		cmocka_unit_test(test_prequal_all_hot_pool),
		cmocka_unit_test(test_prequal_contract),
		cmocka_unit_test(test_prequal_differential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
