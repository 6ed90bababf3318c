/* ALBM test helpers: randomised differential runs of a scheduler against a reference */
#ifndef ALBM_TESTS_SCHED_DIFF_H
#define ALBM_TESTS_SCHED_DIFF_H

#include <inttypes.h>
#include <stdio.h>

#include "sched_fixture.h"

/*
 * A reference is a naive linear scan written straight from the IPVS source, kept in
 * the test file.  `pick` sees the service state exactly as the scheduler under test
 * does and returns the server IPVS would choose (it may advance its own cursor, as
 * wrr's does).  `edit` (optional) is called after every change IPVS would report to
 * its scheduler (add, delete, weight or threshold edit, server up/down); overload
 * flips and connection counts are not reported, as in IPVS.
 */
struct diff_ref {
	struct albm_dest *(*pick)(void *ctx, const struct albm_service *svc);
	void (*edit)(void *ctx, const struct albm_service *svc);
	void *ctx;
	/* optional extra invariant on the scheduler's internals, checked every op */
	bool (*check)(const struct albm_service *svc);
};

struct diff_cfg {
	uint64_t seed;
	unsigned ops;    /* operations to run */
	unsigned init_n; /* servers at the start (A..Z before binding, then n0...) */
	unsigned max_n;  /* never more than this many */
	int max_weight;  /* weights drawn from 0..max_weight (times a factor) */
	unsigned quiet;  /* % of changes/adds/removes turned into picks (long runs) */
};

struct diff_stats {
	unsigned picks, nulls, edits, mismatches;
};

static inline uint64_t diff_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline unsigned diff_below(uint64_t *s, unsigned n)
{
	return (unsigned)(diff_rand(s) % n);
}

/* Mostly multiples of a per-run factor so that wrr's GCD step is exercised. */
static inline int diff_weight(uint64_t *s, const struct diff_cfg *cfg, int factor)
{
	int w = (int)diff_below(s, (unsigned)cfg->max_weight + 1);
	if (diff_below(s, 8) == 0)
		w = 0;
	return diff_below(s, 20) == 0 ? w + 1 : w * factor;
}

static inline void diff_edit(const struct diff_ref *ref, const struct albm_service *svc,
			     struct diff_stats *st)
{
	st->edits++;
	if (ref->edit)
		ref->edit(ref->ctx, svc);
}

/* One pick on both sides; opens a connection on the chosen server. */
static inline void diff_pick(struct albm_service *svc, const struct diff_ref *ref, uint64_t *rs,
			     struct diff_stats *st, unsigned op)
{
	struct albm_flow f = fixture_flow(op);
	struct albm_dest *want = ref->pick(ref->ctx, svc);
	struct albm_dest *got = albm_svc_schedule(svc, &f);

	st->picks++;
	if (got != want) {
		if (!st->mismatches++)
			fprintf(stderr, "op %u: %s picked %s, reference %s\n", op, svc->sched->name,
				got ? got->name : "-", want ? want->name : "-");
	}
	if (!got) {
		st->nulls++;
		return;
	}
	albm_svc_conn_open(svc, got, diff_below(rs, 5) != 0);
}

static inline void diff_close(struct albm_service *svc, struct albm_dest *d, uint64_t *rs)
{
	if (d->activeconns && (!d->inactconns || diff_below(rs, 2)))
		albm_svc_conn_close(svc, d, true);
	else if (d->inactconns)
		albm_svc_conn_close(svc, d, false);
}

/* A change to one random server; returns true if IPVS would call it an edit. */
static inline bool diff_change(struct albm_service *svc, struct albm_dest *d, uint64_t *rs,
			       const struct diff_cfg *cfg, int factor)
{
	unsigned r = diff_below(rs, 100);

	if (r < 30) {
		albm_svc_set_weight(svc, d, diff_weight(rs, cfg, factor));
		return true;
	} else if (r < 50) {
		albm_svc_set_flags(svc, d,
				   d->flags & ALBM_DEST_F_AVAILABLE ? 0 : ALBM_DEST_F_AVAILABLE,
				   d->flags & ALBM_DEST_F_AVAILABLE);
		return true;
	} else if (r < 65) {
		/* a new connection limit (always a different one: an IPVS edit) */
		uint32_t up = diff_below(rs, 6);
		if (up == d->u_threshold)
			up++;
		albm_svc_set_thresholds(svc, d, up, 0);
		return true;
	} else if (r < 80) {
		albm_svc_set_flags(svc, d,
				   d->flags & ALBM_DEST_F_OVERLOAD ? 0 : ALBM_DEST_F_OVERLOAD,
				   d->flags & ALBM_DEST_F_OVERLOAD);
	} else if (r < 90) {
		albm_svc_set_flags(svc, d,
				   d->flags & ALBM_DEST_F_AGENT_OVL ? 0 : ALBM_DEST_F_AGENT_OVL,
				   d->flags & ALBM_DEST_F_AGENT_OVL);
	} else {
		albm_svc_conn_set_active(svc, d, diff_below(rs, 2));
	}
	return false;
}

static inline void diff_add(struct albm_service *svc, uint64_t *rs, const struct diff_cfg *cfg,
			    int factor, unsigned *next_name)
{
	char name[16], err[128];

	snprintf(name, sizeof(name), "n%u", (*next_name)++);
	if (!albm_svc_add_dest(svc, name, NULL, diff_weight(rs, cfg, factor), err, sizeof(err))) {
		fprintf(stderr, "diff: %s\n", err);
		abort();
	}
}

/*
 * Run cfg->ops random operations on a fresh service bound to `sched`: picks (each
 * compared with the reference and followed by an open), closes, weight / up-down /
 * threshold / overload / agent-overload changes, adds and removes.  Returns the
 * statistics; the caller asserts mismatches == 0 and that the run did something.
 */
static inline struct diff_stats diff_run(const char *sched, const struct diff_ref *ref,
					 const struct diff_cfg *cfg)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct diff_stats st = { 0 };
	uint64_t rs = cfg->seed * 0x9e3779b97f4a7c15ull + 1;
	int factor = 1 + (int)diff_below(&rs, 3);
	unsigned next_name = 0;
	int w[26];

	/* servers A, B, ... exist before the scheduler is bound (IPVS init_service) */
	for (unsigned i = 0; i < cfg->init_n && i < 26; i++)
		w[i] = diff_weight(&rs, cfg, factor);
	fixture_svc(&svc, &clk, sched, w, cfg->init_n < 26 ? cfg->init_n : 26);
	diff_edit(ref, &svc, &st); /* the reference starts from the bound state */
	for (unsigned i = 26; i < cfg->init_n; i++) {
		diff_add(&svc, &rs, cfg, factor, &next_name);
		diff_edit(ref, &svc, &st);
	}
	for (unsigned op = 0; op < cfg->ops; op++) {
		unsigned r = diff_below(&rs, 100);
		struct albm_dest *d =
			svc.ndests ? svc.dests[diff_below(&rs, (unsigned)svc.ndests)] : NULL;

		if (r >= 70 && diff_below(&rs, 100) < cfg->quiet)
			r = 0;
		if (r < 45) {
			diff_pick(&svc, ref, &rs, &st, op);
		} else if (r < 70) {
			if (d)
				diff_close(&svc, d, &rs);
		} else if (r < 90) {
			if (d && diff_change(&svc, d, &rs, cfg, factor))
				diff_edit(ref, &svc, &st);
		} else if (r < 95) {
			if (svc.ndests < cfg->max_n) {
				diff_add(&svc, &rs, cfg, factor, &next_name);
				diff_edit(ref, &svc, &st);
			}
		} else if (d) {
			albm_svc_del_dest(&svc, d);
			diff_edit(ref, &svc, &st);
		}
		if (ref->check && !ref->check(&svc) && !st.mismatches++)
			fprintf(stderr, "op %u: %s internal check failed\n", op, sched);
	}
	albm_svc_destroy(&svc);
	return st;
}

#endif
