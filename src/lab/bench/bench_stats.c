/* ALBM: albm-bench's per-step statistics — latency percentiles, errors, shares */
#include "lab/bench/bench_stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

const char *const bench_err_names[BENCH_ERR__MAX] = {
	[BENCH_ERR_CONNECT] = "connect",   [BENCH_ERR_IO] = "io",
	[BENCH_ERR_TIMEOUT] = "timeout",   [BENCH_ERR_STATUS] = "status",
	[BENCH_ERR_SHORT] = "short",       [BENCH_ERR_LENGTH] = "length",
	[BENCH_ERR_PROTOCOL] = "protocol",
};

void bench_lat_init(struct bench_lat *l, size_t limit, uint64_t seed)
{
	memset(l, 0, sizeof(*l));
	l->limit = limit ? limit : 1;
	bench_rng_seed(&l->rng, seed, UINT64_MAX);
}

void bench_lat_add(struct bench_lat *l, uint64_t us)
{
	uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;

	l->seen++;
	l->sorted = false;
	if (l->n < l->limit) {
		if (l->n == l->cap) {
			l->cap = ALBM_MIN(ALBM_MAX(l->cap * 2, (size_t)1024), l->limit);
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = v;
		return;
	}
	/* Algorithm R: the k-th sample replaces a random slot with probability limit/k. */
	uint64_t j = bench_rng_below(&l->rng, l->seen);
	if (j < l->limit)
		l->v[j] = v;
}

static int lat_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int bench_lat_percentile(struct bench_lat *l, double p, uint64_t *us)
{
	size_t rank;

	if (!l->n || !(p > 0 && p <= 100))
		return -ENODATA;
	if (!l->sorted) {
		qsort(l->v, l->n, sizeof(*l->v), lat_cmp);
		l->sorted = true;
	}
	/* The epsilon keeps p*n/100 == 90.000000001 from becoming rank 91. */
	rank = (size_t)ceil(p * (double)l->n / 100.0 - 1e-9);
	rank = ALBM_MAX(rank, (size_t)1);
	*us = l->v[ALBM_MIN(rank, l->n) - 1];
	return 0;
}

void bench_lat_reset(struct bench_lat *l)
{
	l->n = 0;
	l->seen = 0;
	l->sorted = false;
}

void bench_lat_free(struct bench_lat *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

size_t bench_servers_id(struct bench_servers *s, const char *raw)
{
	char name[ALBM_NAME_MAX];

	/* Names come off the network: keep them printable for the table, CSV and JSON. */
	snprintf(name, sizeof(name), "%s", raw && *raw ? raw : "unknown");
	for (char *p = name; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ',' ||
		    *p == '"')
			*p = '_';
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return i;
	if (s->n >= BENCH_SERVERS_MAX - 1)
		snprintf(name, sizeof(name), "other");
	for (size_t i = 0; i < s->n; i++) /* "other" may exist already */
		if (!strcmp(s->name[i], name))
			return i;
	memcpy(s->name[s->n], name, sizeof(name));
	return s->n++;
}

void bench_step_begin(struct bench_step *st, unsigned index, unsigned clients, double rate)
{
	struct bench_lat lat = st->lat;

	memset(st, 0, sizeof(*st));
	st->lat = lat;
	bench_lat_reset(&st->lat);
	st->index = index;
	st->clients = clients;
	st->rate = rate;
}

void bench_step_ok(struct bench_step *st, uint64_t latency_us)
{
	st->ok++;
	bench_lat_add(&st->lat, latency_us);
}

void bench_step_error(struct bench_step *st, enum bench_err kind)
{
	st->errors++;
	st->err_kind[kind]++;
}

void bench_step_sent(struct bench_step *st, enum bench_lateness lateness)
{
	st->sent++;
	st->late[lateness]++;
}

void bench_step_response(struct bench_step *st, size_t srv, bool error)
{
	if (srv >= BENCH_SERVERS_MAX)
		return;
	st->srv_resp[srv]++;
	if (error)
		st->srv_err[srv]++;
}

static double us_to_ms(struct bench_lat *l, double p)
{
	uint64_t us = 0;

	bench_lat_percentile(l, p, &us);
	return (double)us / 1000.0;
}

void bench_step_finish(struct bench_step *st, uint64_t duration_ns, struct bench_result *r)
{
	double secs = (double)duration_ns / 1e9;

	memset(r, 0, sizeof(*r));
	r->step = st->index;
	r->clients = st->clients;
	r->duration_s = secs;
	r->requests = st->ok;
	r->errors = st->errors;
	r->bytes = st->bytes;
	r->rps = secs > 0 ? (double)st->ok / secs : 0;
	r->mib_s = secs > 0 ? (double)st->bytes / (1024.0 * 1024.0) / secs : 0;
	r->has_lat = st->lat.n > 0;
	r->p50_ms = us_to_ms(&st->lat, 50);
	r->p90_ms = us_to_ms(&st->lat, 90);
	r->p99_ms = us_to_ms(&st->lat, 99);
	r->p999_ms = us_to_ms(&st->lat, 99.9);
	r->rate = st->rate;
	r->sent = st->sent;
	r->sent_rps = secs > 0 ? (double)st->sent / secs : 0;
	r->late_pool = st->late[BENCH_LATE_POOL];
	r->late_loop = st->late[BENCH_LATE_LOOP];
	r->backlog = st->backlog;
	memcpy(r->err_kind, st->err_kind, sizeof(r->err_kind));
	memcpy(r->srv_resp, st->srv_resp, sizeof(r->srv_resp));
	memcpy(r->srv_err, st->srv_err, sizeof(r->srv_err));
	for (size_t i = 0; i < BENCH_SERVERS_MAX; i++)
		r->responses += st->srv_resp[i];
}

double bench_result_share(const struct bench_result *r, size_t i)
{
	if (i >= BENCH_SERVERS_MAX || !r->responses)
		return 0;
	return 100.0 * (double)r->srv_resp[i] / (double)r->responses;
}

double bench_result_late_pct(const struct bench_result *r)
{
	uint64_t due = r->sent + r->backlog;

	if (!due)
		return 0;
	return 100.0 * (double)(r->late_pool + r->late_loop + r->backlog) / (double)due;
}

bool bench_result_rate_met(const struct bench_result *r)
{
	return bench_result_late_pct(r) <= BENCH_LATE_PCT_MAX;
}
