/* ALBM: albm-bench's outputs — the terminal table, CSV and JSON */
#include "lab/bench/bench_output.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void bench_print_header(FILE *f, bool open)
{
	if (open) {
		fprintf(f, "%4s %8s %5s %7s %9s %7s %9s %9s %8s %9s %9s %9s %6s  %s\n", "step",
			"rate", "pool", "dur_s", "requests", "errors", "req/s", "sent/s", "MiB/s",
			"p50_ms", "p99_ms", "p99.9_ms", "late%", "shares");
		return;
	}
	fprintf(f, "%4s %7s %7s %9s %7s %9s %8s %9s %9s %9s  %s\n", "step", "clients", "dur_s",
		"requests", "errors", "req/s", "MiB/s", "p50_ms", "p90_ms", "p99_ms", "shares");
}

static void print_open_step(FILE *f, const struct bench_result *r)
{
	fprintf(f, "%4u %8.1f %5u %7.2f %9llu %7llu %9.1f %9.1f %8.1f ", r->step, r->rate,
		r->clients, r->duration_s, (unsigned long long)r->requests,
		(unsigned long long)r->errors, r->rps, r->sent_rps, r->mib_s);
	if (r->has_lat)
		fprintf(f, "%9.3f %9.3f %9.3f ", r->p50_ms, r->p99_ms, r->p999_ms);
	else
		fprintf(f, "%9s %9s %9s ", "-", "-", "-");
	fprintf(f, "%5.1f%s", bench_result_late_pct(r), bench_result_rate_met(r) ? " " : "!");
}

void bench_print_step(FILE *f, const struct bench_result *r, const struct bench_servers *s)
{
	if (r->rate > 0) {
		print_open_step(f, r);
	} else {
		fprintf(f, "%4u %7u %7.2f %9llu %7llu %9.1f %8.1f ", r->step, r->clients,
			r->duration_s, (unsigned long long)r->requests,
			(unsigned long long)r->errors, r->rps, r->mib_s);
		if (r->has_lat)
			fprintf(f, "%9.3f %9.3f %9.3f ", r->p50_ms, r->p90_ms, r->p99_ms);
		else
			fprintf(f, "%9s %9s %9s ", "-", "-", "-");
	}
	for (size_t i = 0; i < s->n; i++)
		if (r->srv_resp[i])
			fprintf(f, " %s %.1f%%", s->name[i], bench_result_share(r, i));
	fputc('\n', f);
	fflush(f);
}

const char *bench_rate_warning(const struct bench_result *r, char *buf, size_t len)
{
	if (r->rate <= 0 || bench_result_rate_met(r))
		return NULL;
	snprintf(
		buf, len,
		"step %u: the target rate %.1f req/s was not sent on schedule (%.1f req/s went "
		"out): %.1f%% of the arrivals were late > %llu ms or unsent (%llu waited for one of "
		"the %u connections, all busy%s; %llu late with a connection free%s; %llu still "
		"waiting at the end)",
		r->step, r->rate, r->sent_rps, bench_result_late_pct(r),
		(unsigned long long)(BENCH_LATE_NS / 1000000), (unsigned long long)r->late_pool,
		r->clients,
		r->late_pool ? ": raise --clients, or the servers are past capacity" : "",
		(unsigned long long)r->late_loop,
		r->late_loop ? ": this machine could not keep up" : "",
		(unsigned long long)r->backlog);
	return buf;
}

char *bench_share_column(const char *name, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "share_");

	for (const char *p = name; *p && off + 1 < len; p++) {
		unsigned char c = (unsigned char)*p;
		buf[off++] = (char)(isalnum(c) || c == '_' || c == '.' || c == '-' ? c : '_');
	}
	buf[off < len ? off : len - 1] = '\0';
	return buf;
}

static const struct bench_servers *sort_servers;

static int server_cmp(const void *a, const void *b)
{
	return strcmp(sort_servers->name[*(const size_t *)a],
		      sort_servers->name[*(const size_t *)b]);
}

/* Server indices ordered by name, so that columns do not depend on arrival order. */
static void servers_sorted(const struct bench_servers *s, size_t *idx)
{
	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	sort_servers = s;
	qsort(idx, s->n, sizeof(*idx), server_cmp);
}

static void csv_row(FILE *f, const struct bench_result *r, bool open, const size_t *idx,
		    size_t nsrv)
{
	fprintf(f, "%u,%u,%.3f,%llu,%llu,%.3f,%.3f,", r->step, r->clients, r->duration_s,
		(unsigned long long)r->requests, (unsigned long long)r->errors, r->rps, r->mib_s);
	if (r->has_lat)
		fprintf(f, "%.3f,%.3f,%.3f", r->p50_ms, r->p90_ms, r->p99_ms);
	else
		fputs(",,", f);
	if (open) {
		if (r->has_lat)
			fprintf(f, ",%.3f", r->p999_ms);
		else
			fputc(',', f);
		fprintf(f, ",%.3f,%.3f,%.2f", r->rate, r->sent_rps, bench_result_late_pct(r));
	}
	for (size_t j = 0; j < nsrv; j++)
		fprintf(f, ",%.2f", bench_result_share(r, idx[j]));
	fputc('\n', f);
}

int bench_write_csv(FILE *f, const struct bench_cfg *cfg, const struct bench_out *out)
{
	size_t idx[BENCH_SERVERS_MAX];
	char col[ALBM_NAME_MAX + 8];
	bool open = bench_cfg_open(cfg);

	servers_sorted(&out->servers, idx);
	fputs("step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms", f);
	if (open)
		fputs(",p999_ms,rate,sent_rps,late_pct", f);
	for (size_t j = 0; j < out->servers.n; j++)
		fprintf(f, ",%s", bench_share_column(out->servers.name[idx[j]], col, sizeof(col)));
	fputc('\n', f);
	for (size_t i = 0; i < out->n; i++)
		csv_row(f, &out->res[i], open, idx, out->servers.n);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

/* A percentile, or null when the step had no successful request. */
static json_t *json_ms(const struct bench_result *r, double v)
{
	return r->has_lat ? json_real(v) : json_null();
}

/* Open loop: what was sent against the target, and why not when it fell short. */
static void json_open_step(json_t *o, const struct bench_result *r)
{
	json_object_set_new(o, "rate", json_real(r->rate));
	json_object_set_new(o, "sent", json_integer((json_int_t)r->sent));
	json_object_set_new(o, "sent_rps", json_real(r->sent_rps));
	json_object_set_new(o, "late_pool", json_integer((json_int_t)r->late_pool));
	json_object_set_new(o, "late_loop", json_integer((json_int_t)r->late_loop));
	json_object_set_new(o, "backlog", json_integer((json_int_t)r->backlog));
	json_object_set_new(o, "late_pct", json_real(bench_result_late_pct(r)));
	json_object_set_new(o, "rate_met", json_boolean(bench_result_rate_met(r)));
}

static json_t *json_step(const struct bench_result *r, const struct bench_servers *s)
{
	json_t *o = json_object(), *kinds = json_object(), *srv = json_object();

	json_object_set_new(o, "step", json_integer(r->step));
	json_object_set_new(o, "clients", json_integer(r->clients));
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	json_object_set_new(o, "requests", json_integer((json_int_t)r->requests));
	json_object_set_new(o, "errors", json_integer((json_int_t)r->errors));
	json_object_set_new(o, "rps", json_real(r->rps));
	json_object_set_new(o, "mib_s", json_real(r->mib_s));
	json_object_set_new(o, "p50_ms", json_ms(r, r->p50_ms));
	json_object_set_new(o, "p90_ms", json_ms(r, r->p90_ms));
	json_object_set_new(o, "p99_ms", json_ms(r, r->p99_ms));
	json_object_set_new(o, "p999_ms", json_ms(r, r->p999_ms));
	if (r->rate > 0)
		json_open_step(o, r);
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "responses", json_integer((json_int_t)r->responses));
	for (int k = 0; k < BENCH_ERR__MAX; k++)
		json_object_set_new(kinds, bench_err_names[k],
				    json_integer((json_int_t)r->err_kind[k]));
	json_object_set_new(o, "errors_by_kind", kinds);
	for (size_t i = 0; i < s->n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "responses", json_integer((json_int_t)r->srv_resp[i]));
		json_object_set_new(e, "errors", json_integer((json_int_t)r->srv_err[i]));
		json_object_set_new(e, "share", json_real(bench_result_share(r, i)));
		json_object_set_new(srv, s->name[i], e);
	}
	json_object_set_new(o, "servers", srv);
	return o;
}

static json_t *json_config(const struct bench_cfg *cfg)
{
	json_t *o = json_object();
	char buf[600];

	snprintf(buf, sizeof(buf), "http://%s%s", cfg->url.host, cfg->url.prefix);
	json_object_set_new(o, "url", json_string(buf));
	json_object_set_new(o, "mix", json_string(bench_mix_format(&cfg->mix, buf, sizeof(buf))));
	json_object_set_new(o, "clients",
			    json_string(bench_ramp_format(&cfg->ramp, buf, sizeof(buf))));
	json_object_set_new(o, "step_s", json_real((double)cfg->step_ms / 1000));
	json_object_set_new(o, "warmup_s", json_real((double)cfg->warmup_ms / 1000));
	json_object_set_new(o, "timeout_s", json_real((double)cfg->timeout_ms / 1000));
	json_object_set_new(o, "duration_s", json_real((double)cfg->duration_ms / 1000));
	json_object_set_new(o, "requests_per_step", json_integer((json_int_t)cfg->requests));
	json_object_set_new(o, "keepalive", json_boolean(cfg->keepalive));
	json_object_set_new(o, "loop", json_string(bench_cfg_open(cfg) ? "open" : "closed"));
	if (bench_cfg_open(cfg))
		json_object_set_new(o, "rate",
				    json_string(bench_rates_format(&cfg->rates, buf, sizeof(buf))));
	else
		json_object_set_new(o, "rate", json_null());
	/* A string: JSON numbers lose precision past 2^53 in most readers. */
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cfg->seed);
	json_object_set_new(o, "seed", json_string(buf));
	return o;
}

int bench_write_json(FILE *f, const struct bench_cfg *cfg, const struct bench_out *out)
{
	json_t *root = json_object(), *steps = json_array(), *names = json_array();
	size_t idx[BENCH_SERVERS_MAX];
	int rc;

	json_object_set_new(root, "tool", json_string("albm-bench"));
	json_object_set_new(root, "format", json_integer(1));
	json_object_set_new(root, "config", json_config(cfg));
	json_object_set_new(root, "interrupted", json_boolean(out->interrupted));
	servers_sorted(&out->servers, idx);
	for (size_t j = 0; j < out->servers.n; j++)
		json_array_append_new(names, json_string(out->servers.name[idx[j]]));
	json_object_set_new(root, "servers", names);
	for (size_t i = 0; i < out->n; i++)
		json_array_append_new(steps, json_step(&out->res[i], &out->servers));
	json_object_set_new(root, "steps", steps);
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputc('\n', f);
	return rc || fflush(f) || ferror(f) ? -EIO : 0;
}
