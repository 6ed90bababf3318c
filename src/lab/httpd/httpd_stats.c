/* ALBM: albm-httpd's /stats document (JSON) */
#include <jansson.h>
#include <stdlib.h>

#include "common/util.h"
#include "lab/httpd/httpd_env.h"
#include "lab/httpd/httpd_stats.h"
#include "lab/httpd/httpd-t.h"

#define NS_PER_MS 1e6

static json_t *stats_config(const struct httpd_server *s)
{
	const struct httpd_cost_cfg *c = &s->cost.cfg;
	json_t *o = json_object();

	json_object_set_new(o, "mem_factor", json_real(c->mem_factor));
	json_object_set_new(o, "cpu_per_mb_ms", json_real((double)c->cpu_ns_per_mib / NS_PER_MS));
	json_object_set_new(o, "paging_limit", json_integer((json_int_t)c->paging_limit));
	json_object_set_new(o, "page_penalty_ms",
			    json_real((double)c->page_penalty_ns / NS_PER_MS));
	json_object_set_new(o, "max_inflight_bytes",
			    json_integer((json_int_t)c->max_inflight_bytes));
	json_object_set_new(o, "overflow",
			    json_string(c->overflow == HTTPD_OVERFLOW_503 ? "503" : "queue"));
	json_object_set_new(o, "max_queue", json_integer(c->max_queue));
	json_object_set_new(o, "max_conns", json_integer(s->cfg->max_conns));
	return o;
}

static json_t *stats_memory(void)
{
	struct httpd_env env;
	json_t *o = json_object();

	httpd_env_read(&env);
	json_object_set_new(o, "cgroup_limit",
			    env.mem_limit ? json_integer((json_int_t)env.mem_limit) : json_null());
	json_object_set_new(o, "swap_total", json_integer((json_int_t)env.swap_total));
	json_object_set_new(o, "rss", json_integer((json_int_t)env.rss));
	return o;
}

#define SET_U64(o, k, v) json_object_set_new((o), (k), json_integer((json_int_t)(v)))

char *httpd_stats_json(const struct httpd_server *s)
{
	const struct httpd_cost *cost = &s->cost;
	const struct httpd_counters *n = &s->n;
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "name", json_string(s->cfg->name));
	json_object_set_new(o, "mode", json_string(httpd_cost_mode(&cost->cfg)));
	json_object_set_new(o, "uptime_s", json_real((double)(albm_now_ns() - s->start_ns) / 1e9));
	SET_U64(o, "inflight_requests", cost->inflight_reqs);
	SET_U64(o, "inflight_bytes", cost->inflight_bytes);
	SET_U64(o, "peak_inflight_bytes", cost->peak_inflight_bytes);
	SET_U64(o, "queued", cost->queued);
	SET_U64(o, "queued_total", n->queued_total);
	SET_U64(o, "connections", s->nconns);
	SET_U64(o, "accepted", n->accepted);
	SET_U64(o, "served", n->served);
	SET_U64(o, "served_bytes", n->served_bytes);
	SET_U64(o, "rejected_503", n->rejected);
	SET_U64(o, "not_found", n->not_found);
	SET_U64(o, "bad_requests", n->bad_requests);
	SET_U64(o, "aborted", n->aborted);
	SET_U64(o, "stats_requests", n->stats);
	json_object_set_new(o, "cpu_ms", json_real((double)n->cpu_ns / NS_PER_MS));
	json_object_set_new(o, "paging_delay_ms",
			    json_real((double)cost->paging_delay_ns / NS_PER_MS));
	if (cost->cfg.paging_limit) {
		/* The modelled machine: paging_limit bytes of RAM for in-flight buffers. */
		uint64_t lim = cost->cfg.paging_limit, used = cost->inflight_bytes;
		SET_U64(o, "model_limit_bytes", lim);
		SET_U64(o, "model_available_bytes", used < lim ? lim - used : 0);
	}
	json_object_set_new(o, "config", stats_config(s));
	json_object_set_new(o, "memory", stats_memory());
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (!text)
		text = xstrdup("{}");
	/* jansson's allocator is malloc(): the connection free()s the body. */
	return text;
}
