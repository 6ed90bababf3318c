/* ALBM: unit tests of the ha group's table weights — two distributors, one report stream, the same
 * tables */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distributor/dr_levels.h"
#include "dr/dr_table.h"
#include "sched/sched.h"

/*
 * The simulation: three servers whose agents report every 100 ms (agent timestamps on
 * the wall clock) a memory capacity that wanders; two distributors, A and B, receive
 * every report after their own random delay (0..max ms, so they also see the agents'
 * reports in different orders), and each runs its boundary timer a few ms late by its
 * own amount.  At each boundary each builds its levels and the Maglev table from them
 * (their real indices differ, as they do between distributors).  The tables must be
 * equal at every boundary — while the albm scheduler's own effective weights, fed the
 * same reports at the same moments, give tables that differ.
 */

#define NS       3
#define T0       1800000000000ull /* wall clock, ms */
#define INTERVAL 1000
#define GUARD    200
#define TABLE    4099
#define SIM_MS   60000

struct dist {
	struct dr_level_reports rep[NS];
	uint32_t held[NS];
	bool has_prev[NS];
	uint64_t next;    /* the next boundary */
	uint64_t late;    /* its boundary timer fires this late */
	uint32_t ids[NS]; /* its local real indices */
	uint32_t table[TABLE];
	struct albm_service svc; /* the albm scheduler fed the same reports (the control) */
	struct albm_metrics m[NS];
	uint64_t clock;
	uint32_t eff_table[TABLE];
};

/* One report of the stream. */
struct rep {
	int server;
	uint64_t ts;    /* the agent's timestamp */
	uint64_t at[2]; /* when A and B receive it */
	double cap;
	bool ovl;
};

static uint64_t fake_clock(void *arg)
{
	return ((struct dist *)arg)->clock;
}

static const uint8_t keys[NS][16] = { { 10, 78, 0, 21 }, { 10, 78, 0, 22 }, { 10, 78, 0, 23 } };

static void dist_init(struct dist *d, uint64_t late, const uint32_t *ids)
{
	char name[2] = "A", err[128];

	memset(d, 0, sizeof(*d));
	d->next = dr_level_boundary_after(T0, INTERVAL);
	d->late = late;
	memcpy(d->ids, ids, sizeof(d->ids));
	albm_svc_init(&d->svc, "web");
	albm_svc_seed(&d->svc, 1);
	albm_svc_set_clock(&d->svc, fake_clock, d);
	d->clock = T0;
	for (int i = 0; i < NS; i++) {
		name[0] = (char)('A' + i);
		assert_non_null(albm_svc_add_dest(&d->svc, name, NULL, 1 + i, err, sizeof(err)));
	}
	assert_int_equal(albm_svc_bind_name(&d->svc, "albm"), 0);
}

/* Maglev over the servers with positive weight; slots hold the local index. */
static void fill(const struct dist *d, const uint32_t *w, uint32_t *table)
{
	struct dr_table_entry e[NS];

	for (int i = 0; i < NS; i++) {
		memcpy(e[i].key, keys[i], 16);
		e[i].id = d->ids[i];
		e[i].weight = w[i];
	}
	assert_int_equal(dr_table_fill(e, NS, table, TABLE), 0);
}

/* A boundary on distributor d: hold, weights, table; and the control's table. */
static void dist_boundary(struct dist *d)
{
	struct dr_level_in in[NS];
	bool member[NS] = { true, true, true }, drained[NS] = { false };
	struct dr_weight out[NS];
	uint32_t w[NS], q[NS];

	for (int i = 0; i < NS; i++) {
		in[i] = (struct dr_level_in){ .in = true,
					      .base = (uint32_t)(1 + i),
					      .measured = true,
					      .report = d->rep[i].has_sel ? &d->rep[i].sel : NULL,
					      .has_prev = d->has_prev[i],
					      .prev = d->held[i] };
	}
	dr_levels_hold(in, NS, dr_level_reset_at(d->next, INTERVAL), d->held);
	for (int i = 0; i < NS; i++)
		d->has_prev[i] = true;
	dr_levels_weights(d->held, member, drained, NS, out);
	dr_weights_quantise(out, NS, q);
	fill(d, q, d->table);
	d->next += INTERVAL;
	for (int i = 0; i < NS; i++)
		dr_level_advance(&d->rep[i], d->next - GUARD);
	/* the control: the scheduler's effective weights as they are right now */
	albm_sched_weights(&d->svc, 32, w);
	for (int i = 0; i < NS; i++)
		out[i] = (struct dr_weight){ .in = true, .w = w[i] };
	dr_weights_quantise(out, NS, q);
	fill(d, q, d->eff_table);
}

static void dist_receive(struct dist *d, const struct rep *r)
{
	struct dr_level_report lr = { .ts_ms = r->ts, .capacity = r->cap, .overloaded = r->ovl };
	struct albm_metrics *m = &d->m[r->server];

	dr_level_offer(&d->rep[r->server], &lr, d->next - GUARD);
	snprintf(m->name, sizeof(m->name), "%c", 'A' + r->server);
	m->mem_total_bytes = 1000000;
	m->mem_available_bytes = (uint64_t)(r->cap * 1000000);
	m->state = r->ovl ? ALBM_AGENT_OVERLOADED : ALBM_AGENT_OK;
	albm_svc_report(&d->svc, d->svc.dests[r->server], m);
}

/* Slots where the two tables name different reals (by address). */
static int table_diff(const struct dist *a, const uint32_t *ta, const struct dist *b,
		      const uint32_t *tb)
{
	int diff = 0;

	for (int s = 0; s < TABLE; s++) {
		int ra = -1, rb = -1;
		for (int i = 0; i < NS; i++) {
			ra = ta[s] == a->ids[i] ? i : ra;
			rb = tb[s] == b->ids[i] ? i : rb;
		}
		diff += ra != rb;
	}
	return diff;
}

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* The stream: every 100 ms each agent reports a capacity that wanders (and now and
 * then says overloaded); A and B get it after random delays below max_delay. */
static size_t make_stream(struct rep *st, uint64_t seed, uint64_t max_delay)
{
	double cap[NS] = { 0.9, 0.6, 0.3 };
	size_t n = 0;

	for (uint64_t t = T0 + 7; t < T0 + SIM_MS; t += 100) {
		for (int i = 0; i < NS; i++) {
			double step = (double)(rnd(&seed) % 2001) / 10000.0 - 0.1;
			cap[i] += step;
			cap[i] = cap[i] < 0.05 ? 0.05 : cap[i] > 1.0 ? 1.0 : cap[i];
			st[n] = (struct rep){ .server = i,
					      .ts = t + (uint64_t)i,
					      .cap = cap[i],
					      .ovl = rnd(&seed) % 50 == 0 };
			st[n].at[0] = st[n].ts + rnd(&seed) % (max_delay + 1);
			st[n].at[1] = st[n].ts + rnd(&seed) % (max_delay + 1);
			n++;
		}
	}
	return n;
}

struct run {
	int boundaries;   /* compared */
	int disagree;     /* boundaries where the level tables differ */
	int eff_disagree; /* ... and where the control's tables differ */
	int changes;      /* boundaries where A's table changed */
};

/* Run both distributors over the stream, event by event in time order: each gets its
 * reports and its boundaries at its own moments.  Tables compared once both passed a
 * boundary. */
static struct run simulate(struct rep *st, size_t n, struct dist *d)
{
	size_t next_ev[2] = { 0, 0 };
	uint32_t prev_table[TABLE] = { 0 };
	struct run r = { 0 };
	int order[2][SIM_MS / 100 * NS];

	/* each distributor's reports in its own arrival order */
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n; i++)
			order[k][i] = (int)i;
		for (size_t i = 1; i < n; i++) /* insertion sort by arrival: nearly sorted */
			for (size_t j = i;
			     j > 0 && st[order[k][j]].at[k] < st[order[k][j - 1]].at[k]; j--) {
				int t = order[k][j];
				order[k][j] = order[k][j - 1];
				order[k][j - 1] = t;
			}
	}
	while (d[0].next < T0 + SIM_MS - INTERVAL) {
		uint64_t b = d[0].next;
		for (int k = 0; k < 2; k++) {
			/* everything that reaches k before its timer fires, then the boundary */
			while (next_ev[k] < n && st[order[k][next_ev[k]]].at[k] < b + d[k].late) {
				d[k].clock = st[order[k][next_ev[k]]].at[k];
				dist_receive(&d[k], &st[order[k][next_ev[k]]]);
				next_ev[k]++;
			}
			d[k].clock = b + d[k].late;
			albm_svc_tick(&d[k].svc);
			dist_boundary(&d[k]);
		}
		r.boundaries++;
		r.disagree += table_diff(&d[0], d[0].table, &d[1], d[1].table) > 0;
		r.eff_disagree += table_diff(&d[0], d[0].eff_table, &d[1], d[1].eff_table) > 0;
		r.changes += memcmp(prev_table, d[0].table, sizeof(prev_table)) != 0;
		memcpy(prev_table, d[0].table, sizeof(prev_table));
	}
	return r;
}

static void dists_init(struct dist *d)
{
	static const uint32_t ids_a[NS] = { 1, 2, 3 }, ids_b[NS] = { 7, 5, 6 };

	dist_init(&d[0], 1, ids_a);
	dist_init(&d[1], 40, ids_b);
}

static void dists_free(struct dist *d)
{
	albm_svc_destroy(&d[0].svc);
	albm_svc_destroy(&d[1].svc);
}

/* Delays below the guard: the same table at every boundary, for several streams. */
static void test_same_reports_other_moments_same_tables(void **state)
{
	static struct rep st[SIM_MS / 100 * NS];
	static struct dist d[2];
	int eff = 0, changes = 0;
	(void)state;

	for (uint64_t seed = 1; seed <= 5; seed++) {
		size_t n = make_stream(st, seed, GUARD - 20);
		dists_init(d);
		struct run r = simulate(st, n, d);
		print_message("  seed %llu: %d boundaries, %d table changes, levels differ at %d, "
			      "the scheduler's own weights would differ at %d\n",
			      (unsigned long long)seed, r.boundaries, r.changes, r.disagree,
			      r.eff_disagree);
		assert_true(r.boundaries >= 55);
		assert_int_equal(r.disagree, 0);
		eff += r.eff_disagree;
		changes += r.changes;
		dists_free(d);
	}
	/* the stream does move the tables, and without the rules they would disagree */
	assert_true(changes >= 10);
	assert_true(eff > 0);
}

/* Delays beyond the guard: a report dated before one's cutoff reaches the other after
 * its boundary — the tables may differ, then agree again (the guard is what makes
 * them agree; this shows the simulation can see a difference). */
static void test_delay_beyond_guard_can_disagree(void **state)
{
	static struct rep st[SIM_MS / 100 * NS];
	static struct dist d[2];
	int disagree = 0;
	(void)state;

	for (uint64_t seed = 1; seed <= 5; seed++) {
		size_t n = make_stream(st, seed, 3 * GUARD);
		dists_init(d);
		disagree += simulate(st, n, d).disagree;
		dists_free(d);
	}
	print_message("  delays up to %d ms: levels differ at %d boundaries of ~290\n", 3 * GUARD,
		      disagree);
	assert_true(disagree > 0);
}

/* The levels themselves: 8 of the largest, hysteresis, reset, overload, drains. */
static void test_levels_rules(void **state)
{
	struct dr_level_report rep[NS] = { { .capacity = 1.0 },
					   { .capacity = 0.55 },
					   { .capacity = 0.2 } };
	struct dr_level_in in[NS];
	bool member[NS] = { true, true, true }, drained[NS] = { false };
	struct dr_weight out[NS];
	uint32_t held[NS];
	(void)state;

	for (int i = 0; i < NS; i++)
		in[i] = (struct dr_level_in){
			.in = true, .base = 2, .measured = true, .report = &rep[i]
		};
	dr_levels_hold(in, NS, false, held);
	assert_int_equal(held[0], 8);
	assert_int_equal(held[1], 4); /* 4.4 */
	assert_int_equal(held[2], 2); /* 1.6 */
	/* hysteresis: 4 stays 4 up to 4.75, then 5; 2 stays 2 down to 1.25 */
	for (int i = 0; i < NS; i++) {
		in[i].has_prev = true;
		in[i].prev = held[i];
	}
	rep[1].capacity = 0.59; /* 4.72 */
	rep[2].capacity = 0.16; /* 1.28 */
	dr_levels_hold(in, NS, false, held);
	assert_int_equal(held[1], 4);
	assert_int_equal(held[2], 2);
	dr_levels_hold(in, NS, true, held); /* a reset boundary: plain rounding */
	assert_int_equal(held[1], 5);
	assert_int_equal(held[2], 1);
	rep[1].capacity = 0.6; /* 4.8: past the hysteresis */
	dr_levels_hold(in, NS, false, held);
	assert_int_equal(held[1], 5);
	/* overloaded: 0; the largest of the servers in the set sets the scale */
	rep[0].overloaded = true;
	in[1].in = false;
	dr_levels_hold(in, NS, true, held);
	assert_int_equal(held[0], 0);
	assert_int_equal(held[2], 8);
	assert_int_equal(held[1], 8); /* out of the set: clamped, used if it comes back */
	/* static schedulers hold their base, exactly */
	in[0].measured = false;
	in[0].base = 300;
	dr_levels_hold(in, NS, false, held);
	assert_int_equal(held[0], 300);
	/* weights: membership and drains now, all-zero spreads evenly */
	held[0] = 3, held[1] = 0, held[2] = 5;
	drained[2] = true;
	dr_levels_weights(held, member, drained, NS, out);
	assert_true(out[0].in && out[0].w == 3);
	assert_true(out[1].in && out[1].w == 0);
	assert_true(out[2].in && out[2].w == 0);
	member[0] = false;
	dr_levels_weights(held, member, drained, NS, out);
	assert_false(out[0].in);
	assert_int_equal(out[1].w, 1); /* nothing left: the one not drained */
	assert_int_equal(out[2].w, 0);
}

/* Reports: the newest dated before the cutoff counts; a newer one waits for the next
 * boundary; reordered old ones are ignored. */
static void test_report_selection(void **state)
{
	struct dr_level_reports r = { 0 };
	struct dr_level_report a = { .ts_ms = 900, .capacity = 0.1 },
			       b = { .ts_ms = 1850, .capacity = 0.2 },
			       c = { .ts_ms = 950, .capacity = 0.3 },
			       e = { .ts_ms = 1900, .capacity = 0.4 };
	(void)state;

	dr_level_offer(&r, &a, 1800);
	dr_level_offer(&r, &b, 1800); /* after the cutoff: pending */
	dr_level_offer(&r, &c, 1800);
	assert_true(r.has_sel && r.sel.capacity == 0.3);
	assert_true(r.has_pending && r.pending.capacity == 0.2);
	dr_level_offer(&r, &a, 1800); /* older than the selected one: ignored */
	assert_true(r.sel.capacity == 0.3);
	dr_level_offer(&r, &e, 1800);
	assert_true(r.pending.capacity == 0.4);
	dr_level_advance(&r, 2800);
	assert_true(r.sel.capacity == 0.4);
	assert_false(r.has_pending);
	assert_int_equal(dr_level_boundary_after(1800000000000ull, 5000), 1800000005000ull);
	assert_int_equal(dr_level_boundary_after(1800000004999ull, 5000), 1800000005000ull);
	assert_true(dr_level_reset_at(1800000000000ull, 5000)); /* a multiple of 60 s */
	assert_false(dr_level_reset_at(1800000005000ull, 5000));
}

/* A distributor that starts late, without the others' hysteresis history, may hold
 * another level; at the next reset boundary they agree again. */
static void test_late_start_converges(void **state)
{
	struct dr_level_report rep[2] = { { .capacity = 1.0 }, { .capacity = 0.3 } };
	struct dr_level_in in[2];
	uint32_t old[2], fresh[2];
	(void)state;

	for (int i = 0; i < 2; i++)
		in[i] = (struct dr_level_in){
			.in = true, .base = 1, .measured = true, .report = &rep[i]
		};
	dr_levels_hold(in, 2, false, old); /* the old distributor: 2.4 -> 2 */
	assert_int_equal(old[1], 2);
	rep[1].capacity = 0.34; /* 2.72: the old one keeps 2, a new one rounds to 3 */
	for (int i = 0; i < 2; i++) {
		in[i].has_prev = true;
		in[i].prev = old[i];
	}
	dr_levels_hold(in, 2, false, old);
	for (int i = 0; i < 2; i++)
		in[i].has_prev = false;
	dr_levels_hold(in, 2, false, fresh);
	assert_int_equal(old[1], 2);
	assert_int_equal(fresh[1], 3);
	/* the reset boundary: both round */
	for (int i = 0; i < 2; i++) {
		in[i].has_prev = true;
		in[i].prev = old[i];
	}
	dr_levels_hold(in, 2, true, old);
	for (int i = 0; i < 2; i++)
		in[i].prev = fresh[i];
	dr_levels_hold(in, 2, true, fresh);
	assert_memory_equal(old, fresh, sizeof(old));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_rules),
		cmocka_unit_test(test_report_selection),
		cmocka_unit_test(test_late_start_converges),
		cmocka_unit_test(test_same_reports_other_moments_same_tables),
		cmocka_unit_test(test_delay_beyond_guard_can_disagree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
