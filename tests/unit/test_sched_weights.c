/* ALBM: unit tests for the schedulers' table weights — weights() hooks, library defaults, purity */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"
#include "common/log.h"
#include "common/util.h"

#define MAXN 16

/* A random but reproducible server state: weights 0..9, counts, some down, some
 * with a maxconn, applied identically to every service built from it. */
struct state {
	size_t n;
	int w[MAXN];
	uint32_t active[MAXN], inactive[MAXN], maxconn[MAXN];
	bool down[MAXN];
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void state_random(struct state *st, uint64_t *seed)
{
	st->n = 1 + rnd(seed) % MAXN;
	for (size_t i = 0; i < st->n; i++) {
		st->w[i] = (int)(rnd(seed) % 10);
		st->active[i] = (uint32_t)(rnd(seed) % 40);
		st->inactive[i] = (uint32_t)(rnd(seed) % 3 ? 0 : rnd(seed) % 30);
		st->maxconn[i] = rnd(seed) % 4 ? 0 : (uint32_t)(1 + rnd(seed) % 60);
		st->down[i] = rnd(seed) % 8 == 0;
	}
}

/* A service under `sched` in state st (counts opened through the library, so the
 * scheduler saw every change as it would live). */
static void svc_build(struct albm_service *svc, struct fixture_clock *clk, const char *sched,
		      const struct state *st)
{
	fixture_svc(svc, clk, sched, st->w, st->n);
	for (size_t i = 0; i < st->n; i++) {
		struct albm_dest *d = svc->dests[i];
		for (uint32_t j = 0; j < st->active[i]; j++)
			albm_svc_conn_open(svc, d, true);
		for (uint32_t j = 0; j < st->inactive[i]; j++)
			albm_svc_conn_open(svc, d, false);
		if (st->maxconn[i])
			albm_svc_set_thresholds(svc, d, st->maxconn[i], 0);
		if (st->down[i])
			albm_svc_set_flags(svc, d, 0, ALBM_DEST_F_AVAILABLE);
	}
}

/* What k sequential picks choose when each opens an active connection (the way
 * albmd's DR plane used to ask): picks per server into w. */
static void sequential_picks(struct albm_service *svc, uint32_t k, uint32_t *w)
{
	memset(w, 0, svc->ndests * sizeof(*w));
	for (uint32_t j = 0; j < k; j++) {
		struct albm_flow f = fixture_flow(j);
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		if (!d)
			break;
		w[d->idx]++;
		albm_svc_conn_open(svc, d, true);
	}
}

/* sched's weights(k) on state st equal k real picks on a twin. */
static void fill_check(const char *sched, const struct state *st, uint32_t k, int round)
{
	struct albm_service a, b;
	struct fixture_clock ca, cb;
	uint32_t hook[MAXN], real[MAXN];

	svc_build(&a, &ca, sched, st);
	svc_build(&b, &cb, sched, st);
	assert_int_equal(albm_sched_weights(&a, k, hook), ALBM_TABLE_PICKS);
	sequential_picks(&b, k, real);
	for (size_t i = 0; i < st->n; i++)
		if (hook[i] != real[i])
			fail_msg("%s, k %u, round %d, server %zu: hook %u, picks %u", sched, k,
				 round, i, hook[i], real[i]);
	albm_svc_destroy(&a);
	albm_svc_destroy(&b);
}

/* The water-fill of the least-connection family equals k real picks, exactly, on
 * random states (weights, counts, maxconn, down servers, ties). */
static void test_fill_equals_sequential_picks(void **state)
{
	static const char *const scheds[] = { "lc", "wlc", "sed", "nq", "fo", "ovf" };
	static const uint32_t ks[] = { 1, 7, 32, 100, 1024 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	(void)state;

	for (int round = 0; round < 200; round++) {
		struct state st;
		state_random(&st, &seed);
		for (size_t s = 0; s < ARRAY_SIZE(scheds); s++)
			for (size_t kk = 0; kk < ARRAY_SIZE(ks); kk++)
				fill_check(scheds[s], &st, ks[kk], round);
	}
}

/* A worked example: wlc on 24/4/0 active with a maxconn of 10 on C (as in
 * tests/unit/test_dp_dr.c): C to 4, then B and C in turn (ties to list order) to
 * 10, where C is full; B alone to 24; then A and B in turn. */
static void test_wlc_example(void **state)
{
	struct state st = {
		.n = 3, .w = { 1, 1, 1 }, .active = { 24, 4, 0 }, .maxconn = { 0, 0, 10 }
	};
	struct albm_service svc;
	struct fixture_clock clk;
	uint32_t w[3];
	(void)state;

	svc_build(&svc, &clk, "wlc", &st);
	albm_sched_weights(&svc, 32, w);
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 21);
	assert_int_equal(w[2], 10);
	albm_sched_weights(&svc, 3, w); /* k smaller than the gap: all to the emptiest */
	assert_int_equal(w[2], 3);
	albm_svc_destroy(&svc);

	/* nq: idle servers first, in list order, then sed */
	st = (struct state){ .n = 3, .w = { 1, 2, 1 }, .active = { 0, 3, 0 } };
	svc_build(&svc, &clk, "nq", &st);
	albm_sched_weights(&svc, 2, w);
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 1);
	albm_svc_destroy(&svc);
}

/* A snapshot of everything a scheduler's pick may depend on or change. */
struct snap {
	uint32_t active[MAXN], inactive[MAXN], flags[MAXN];
	uint64_t total[MAXN];
	double eff[MAXN];
	uint64_t picks, no_dest, rng;
};

static void snap_take(const struct albm_service *svc, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < svc->ndests; i++) {
		s->active[i] = svc->dests[i]->activeconns;
		s->inactive[i] = svc->dests[i]->inactconns;
		s->flags[i] = svc->dests[i]->flags;
		s->total[i] = svc->dests[i]->total_conns;
		s->eff[i] = svc->dests[i]->eff_weight;
	}
	s->picks = svc->picks;
	s->no_dest = svc->no_dest;
	s->rng = svc->rng_state;
}

/* A flow per client address, to a handful of destination addresses (lblc/lblcr
 * cache by destination, sh/mh/dh hash the client). */
static struct albm_flow purity_flow(unsigned j)
{
	struct albm_flow f = fixture_flow(j * 7919u);

	f.daddr[3] = (uint8_t)(j % 5);
	return f;
}

/* Every scheduler's weights (hook or default) is pure: the state is unchanged, and a
 * service that computed tables between its picks picks exactly as its twin that
 * did not (same seed, same clock): no cache entry, random draw or flag is left. */
static void test_every_scheduler_is_pure(void **state)
{
	struct state st = { .n = 5,
			    .w = { 3, 1, 2, 0, 4 },
			    .active = { 2, 0, 5, 0, 1 },
			    .inactive = { 0, 1, 0, 0, 2 },
			    .maxconn = { 0, 8, 0, 0, 0 } };
	(void)state;

	for (size_t s = 0; s < albm_sched_count(); s++) {
		const char *name = albm_sched_at(s)->name;
		struct albm_service a, b;
		struct fixture_clock ca, cb;
		struct snap before, after;
		uint32_t w[MAXN];
		svc_build(&a, &ca, name, &st);
		svc_build(&b, &cb, name, &st);
		for (unsigned j = 0; j < 300; j++) {
			struct albm_flow f = purity_flow(j);
			struct albm_dest *da, *db;
			snap_take(&a, &before);
			albm_sched_weights(&a, 1 + j % 64, w);
			albm_sched_weights(&a, 1024, w);
			snap_take(&a, &after);
			if (memcmp(&before, &after, sizeof(before)))
				fail_msg("%s: weights() changed the state (pick %u)", name, j);
			da = albm_svc_schedule(&a, &f);
			db = albm_svc_schedule(&b, &f);
			if ((da ? (long)da->idx : -1) != (db ? (long)db->idx : -1))
				fail_msg("%s: pick %u differs after computing tables", name, j);
			if (da && j % 3) { /* connections come and go */
				albm_svc_conn_open(&a, da, true);
				albm_svc_conn_open(&b, db, true);
			} else if (j % 5 == 0 && a.dests[j % a.ndests]->activeconns) {
				albm_svc_conn_close(&a, a.dests[j % a.ndests], true);
				albm_svc_conn_close(&b, b.dests[j % b.ndests], true);
			}
			ca.now_ms += 10, cb.now_ms += 10;
			if (j % 10 == 0) {
				albm_svc_tick(&a);
				albm_svc_tick(&b);
			}
		}
		albm_svc_destroy(&a);
		albm_svc_destroy(&b);
	}
}

/* Schedulers without a hook get the default their capabilities select. */
static void test_defaults_follow_capabilities(void **state)
{
	struct state st = { .n = 4,
			    .w = { 3, 1, 0, 2 },
			    .active = { 6, 0, 0, 1 },
			    .down = { false, false, false, true } };
	struct albm_service svc;
	struct fixture_clock clk;
	uint32_t w[4], fill[4];
	(void)state;

	svc_build(&svc, &clk, "rr", &st); /* no flags: 1 per usable server */
	assert_int_equal(albm_sched_weights(&svc, 32, w), ALBM_TABLE_EQUAL);
	assert_true(w[0] == 1 && w[1] == 1 && w[2] == 0 && w[3] == 0);
	albm_svc_destroy(&svc);

	svc_build(&svc, &clk, "dh", &st); /* HASH only: weights do not count */
	assert_int_equal(albm_sched_weights(&svc, 32, w), ALBM_TABLE_EQUAL);
	albm_svc_destroy(&svc);

	static const char *const weighted[] = { "wrr", "sh", "mh" };
	for (size_t i = 0; i < ARRAY_SIZE(weighted); i++) {
		svc_build(&svc, &clk, weighted[i], &st); /* WEIGHTED: the static weights */
		assert_int_equal(albm_sched_weights(&svc, 32, w), ALBM_TABLE_WEIGHTS);
		assert_true(w[0] == 3 && w[1] == 1 && w[2] == 0 && w[3] == 0);
		albm_svc_destroy(&svc);
	}

	/* WEIGHTED | CONNS without a hook: wlc's water-fill */
	static const char *const conns[] = { "twos", "lblc", "lblcr" };
	for (size_t i = 0; i < ARRAY_SIZE(conns); i++) {
		svc_build(&svc, &clk, conns[i], &st);
		assert_true(svc.sched->weights == NULL);
		assert_int_equal(albm_sched_weights(&svc, 32, w), ALBM_TABLE_PICKS);
		albm_weights_fill(&svc, 32, albm_dest_usable, albm_key_wlc, fill);
		assert_memory_equal(w, fill, sizeof(w));
		assert_int_equal(w[0] + w[1] + w[2] + w[3], 32);
		assert_int_equal(w[2] + w[3], 0); /* drained, down */
		albm_svc_destroy(&svc);
	}
}

/* albm: effective weights x 256; every server excluded: the all-overloaded
 * policy's one server (none with refuse, least-loaded for queue). */
static void test_albm_hook(void **state)
{
	struct state st = { .n = 2, .w = { 1, 3 } };
	struct albm_metrics ovl = { .mem_total_bytes = 100,
				    .mem_available_bytes = 50,
				    .state = ALBM_AGENT_OVERLOADED };
	struct albm_service svc;
	struct fixture_clock clk;
	uint32_t w[2];
	(void)state;

	svc_build(&svc, &clk, "albm", &st);
	assert_int_equal(albm_sched_weights(&svc, 32, w), ALBM_TABLE_EFFECTIVE);
	assert_int_equal(w[0], 256);
	assert_int_equal(w[1], 768);
	albm_svc_report(&svc, svc.dests[0], &ovl);
	albm_svc_report(&svc, svc.dests[1], &ovl);
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	albm_sched_weights(&svc, 32, w);
	assert_int_equal(w[0] + w[1], 1);
	assert_int_equal(w[1], 1); /* least loaded: weight 3 at the same memory */
	assert_int_equal(svc.adaptive.all_overloaded_policy, ALBM_ALL_OVL_QUEUE);
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	albm_sched_weights(&svc, 32, w);
	assert_int_equal(w[0] + w[1], 0);
	albm_svc_destroy(&svc);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(albm_table_kind_name(ALBM_TABLE_EQUAL), "equal");
	assert_string_equal(albm_table_kind_name(ALBM_TABLE_WEIGHTS), "weights");
	assert_string_equal(albm_table_kind_name(ALBM_TABLE_EFFECTIVE), "effective-weights");
	assert_string_equal(albm_table_kind_name(ALBM_TABLE_PICKS), "picks");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_equals_sequential_picks),
		cmocka_unit_test(test_wlc_example),
		cmocka_unit_test(test_every_scheduler_is_pure),
		cmocka_unit_test(test_defaults_follow_capabilities),
		cmocka_unit_test(test_albm_hook),
		cmocka_unit_test(test_kind_names),
	};

	albm_log_level = ALBM_LOG_ERR; /* servers at their limits refuse: expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
