/* ALBM: albmd's statistics, declared once — name, help, type, scope and where each value lives */
#ifndef ALBM_DISTRIBUTOR_STATS_H
#define ALBM_DISTRIBUTOR_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"

/*
 * One line of a table describes one value: its /metrics family (name, help, type,
 * an extra label) and its JSON key, and reads it.  The views only walk tables:
 * /metrics (metrics.c), `albmctl stats`, `list --json` and /api/state
 * (state_json.c), and the columns of `albmctl list` (state_text.c, which looks its
 * values up by name).  A new counter is one field in daemon.h and one line in the
 * table of stats.c; a data plane keeps a table of its own (dr_views.c) and writes
 * it with the same functions.  All calls with d->lock held.
 */

enum albmd_stat_scope {
	ALBMD_SCOPE_GLOBAL,  /* the daemon: `albmctl stats`, unlabelled families */
	ALBMD_SCOPE_SERVICE, /* per service: labels service, scheduler */
	ALBMD_SCOPE_SERVER,  /* per server: labels service, server */
	ALBMD_SCOPE_PEER,    /* per peer of the ha group: label peer (ha.h) */
};

enum albmd_stat_type {
	ALBMD_STAT_COUNTER,
	ALBMD_STAT_GAUGE
};

#define ALBMD_STAT_F_REAL (1u << 0) /* a real number (else an unsigned integer) */

struct albmd_ha_peer;

/* Where a value is read: the daemon, and for narrower scopes its service and server. */
struct albmd_stat_at {
	struct albmd *d;
	const struct albmd_service *svc;  /* SERVICE and SERVER */
	const struct albmd_server *srv;   /* SERVER */
	const struct albmd_ha_peer *peer; /* PEER */
	size_t i;                         /* a vector's element */
};

struct albmd_stat_val {
	uint64_t u; /* integers */
	double f;   /* ALBMD_STAT_F_REAL */
};

struct albmd_stat {
	const char *metric; /* family in /metrics; NULL: not exported there */
	const char *label;  /* this line's own label, e.g. `result="ok"`, or NULL */
	const char *json;   /* key in the scope's JSON object; NULL: not there */
	const char *help;
	enum albmd_stat_type type;
	enum albmd_stat_scope scope;
	unsigned flags;  /* ALBMD_STAT_F_* */
	const char *fmt; /* printf format of a real in /metrics; NULL: "%.17g" */
	/* The value at `at`; false where there is none (no agent report, another plane). */
	bool (*get)(const struct albmd_stat_at *at, struct albmd_stat_val *v);
	/* A vector: elements 0..vec_n-1, each a sample labelled vec_label="vec_name(i)"
	 * in /metrics, and in JSON an object {vec_name(i): value}. */
	const char *vec_label;
	size_t vec_n;
	const char *(*vec_name)(size_t i);
};

/* The daemon's own table (stats.c). */
extern const struct albmd_stat albmd_stats[];
extern const size_t albmd_nstats;

/* Set the JSON keys of the lines of `scope` in o, read at `at`. */
void albmd_stats_write_json(json_t *o, const struct albmd_stat *t, size_t n,
			    enum albmd_stat_scope scope, const struct albmd_stat_at *at);
/* Every family of the table, with a sample per service / server / peer of d where the
 * line has a value (a family without any sample is left out). */
void albmd_stats_write_metrics(struct albmd *d, struct albmd_buf *b, const struct albmd_stat *t,
			       size_t n);
/* The daemon table's line of `scope` whose JSON key or metric name is `name`. */
const struct albmd_stat *albmd_stat_find(enum albmd_stat_scope scope, const char *name);
/* Its value at `at` as a number (0 when absent); *ok (may be NULL) says whether
 * there was one. */
double albmd_stat_value(enum albmd_stat_scope scope, const char *name,
			const struct albmd_stat_at *at, bool *ok);

#endif
