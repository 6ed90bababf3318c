/* ALBM: unit tests for albmd's statistics table and the views it feeds (/metrics, JSON, text) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/service.h"
#include "distributor/state.h"
#include "distributor/stats.h"
#include "proto/metrics_json.h"

/* The names scripts rely on, as albmd had them before the table (contracts: they
 * must all still be there). */
static const char *const old_families[] = {
	"albm_up",
	"albm_uptime_seconds",
	"albm_connections",
	"albm_connections_total",
	"albm_connections_refused_total",
	"albm_reloads_total",
	"albm_control_commands_total",
	"albm_reports_received_total",
	"albm_reports_rejected_total",
	"albm_service_connections",
	"albm_service_connections_total",
	"albm_service_bytes_in_total",
	"albm_service_bytes_out_total",
	"albm_service_picks_total",
	"albm_service_no_server_total",
	"albm_service_refused_total",
	"albm_service_queued",
	"albm_service_queued_total",
	"albm_service_queue_timeouts_total",
	"albm_service_retries_total",
	"albm_server_state",
	"albm_server_connections",
	"albm_server_connections_total",
	"albm_server_bytes_in_total",
	"albm_server_bytes_out_total",
	"albm_server_picks_total",
	"albm_server_connect_failures_total",
	"albm_server_retries_total",
	"albm_server_weight",
	"albm_server_effective_weight",
	"albm_server_health_check_failures_total",
	"albm_agent_mem_total_bytes",
	"albm_agent_mem_available_bytes",
	"albm_agent_cpu_util",
	"albm_agent_load1",
	"albm_agent_tcp_established",
	"albm_agent_overloaded",
	"albm_agent_report_age_seconds",
	"albm_agent_reports_total",
	"albm_agent_reports_rejected_total",
};
static const char *const old_service_keys[] = {
	"name",      "listen",  "mode",   "scheduler",    "active_conns",   "total_conns", "picks",
	"no_server", "refused", "queued", "queued_total", "queue_timeouts", "servers",
};
static const char *const old_server_keys[] = {
	"name",
	"address",
	"weight",
	"effective_weight",
	"state",
	"admin",
	"active_conns",
	"inactive_conns",
	"total_conns",
	"maxconn",
	"configured_weight",
	"bytes_in",
	"bytes_out",
	"retries",
	"connect_failures",
	"health",
	"agent",
	"albm",
};
static const char *const old_stats_keys[] = {
	"uptime_ms",        "workers",        "services",         "conns_current",
	"conns_total",      "conns_refused",  "reloads_ok",       "reloads_failed",
	"control_commands", "control_errors", "reports_received", "reports_rejected",
};
/* albmd's "agent" object: albm-agent's keys plus its own two */
static const char *const agent_keys[] = {
	"name",     "mem_total_bytes", "mem_available_bytes", "mem_available_pct",
	"cpu_util", "load1",           "run_queue",           "tcp_established",
	"state",    "report_age_ms",   "timed_out",
};

struct rig {
	struct albmd d;
	struct albmd_config cfg;
	struct albmd_agents agents;
	struct albmd_buf buf;
};

/* A daemon with service web (wlc; s1 with an agent report, s2 without), agents on. */
static void rig_up(struct rig *r)
{
	const char *text = "service web { listen 127.0.0.1:8080; scheduler wlc;\n"
			   "  server s1 127.0.0.1:9001 weight 2; server s2 127.0.0.1:9002; }\n";
	struct albmd_service *svc;
	struct albmd_agent *a;
	char err[512];

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->d.lock, NULL);
	r->d.start_ms = albm_now_ms() - 12345;
	assert_int_equal(
		albmd_config_parse("t.conf", text, strlen(text), &r->cfg, err, sizeof(err)), 0);
	svc = albmd_service_new(&r->d, &r->cfg.services[0], err, sizeof(err));
	assert_non_null(svc);
	r->d.services = xcalloc(1, sizeof(*r->d.services));
	r->d.services[0] = svc;
	r->d.nservices = 1;
	r->d.agents = &r->agents;
	r->agents.rejected[ALBMD_REJ_BAD_MAC] = 7;
	/* the servers follow their agents as albmd attaches them (reload.c); s1 reports */
	albmd_agents_attach(&r->d, albmd_server_find(svc, "s1"));
	albmd_agents_attach(&r->d, albmd_server_find(svc, "s2"));
	a = albmd_server_find(svc, "s1")->agent;
	a->has_report = true;
	a->last_ms = albm_now_ms();
	a->reports = 3;
	a->m = (struct albm_metrics){ .name = "s1",
				      .mem_total_bytes = 1000,
				      .mem_available_bytes = 250,
				      .cpu_util = 0.5,
				      .load1 = 1.25,
				      .run_queue = 2,
				      .tcp_established = 9 };
	albm_svc_report(&svc->sched, albmd_server_find(svc, "s1")->dest, &a->m);
	albmd_server_refresh(&r->d, albmd_server_find(svc, "s1"));
	svc->st.queued_total = 4;
	albmd_server_find(svc, "s1")->st.bytes_out = 4096;
}

static void rig_down(struct rig *r)
{
	albmd_agents_detach(&r->d, albmd_server_find(r->d.services[0], "s1"));
	albmd_agents_detach(&r->d, albmd_server_find(r->d.services[0], "s2"));
	albmd_agents_prune(&r->d);
	albmd_service_retire(&r->d, r->d.services[0]);
	free(r->d.services);
	albmd_buf_free(&r->buf);
	albmd_config_free(&r->cfg);
	pthread_mutex_destroy(&r->d.lock);
}

/* Lines in text equal to line. */
static int count_lines(const char *text, const char *line)
{
	size_t n = strlen(line);
	int c = 0;

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			c++;
	return c;
}

/* Lines of text that start with prefix. */
static int count_prefix(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	int c = 0;

	for (const char *p = text; (p = strstr(p, prefix)); p += n)
		if (p == text || p[-1] == '\n')
			c++;
	return c;
}

static void test_table_is_consistent(void **state)
{
	(void)state;
	for (size_t i = 0; i < albmd_nstats; i++) {
		const struct albmd_stat *s = &albmd_stats[i];
		assert_true(s->metric || s->json);
		assert_non_null(s->get);
		assert_non_null(s->help);
		if (s->metric) {
			assert_int_equal(strspn(s->metric, "abcdefghijklmnopqrstuvwxyz0123456789_"),
					 strlen(s->metric));
			/* counters end in _total (Prometheus convention), gauges do not */
			size_t n = strlen(s->metric);
			bool total = n > 6 && !strcmp(s->metric + n - 6, "_total");
			assert_int_equal(total, s->type == ALBMD_STAT_COUNTER);
		}
		for (size_t j = 0; j < i; j++) { /* one key per scope, one line per sample */
			const struct albmd_stat *o = &albmd_stats[j];
			if (s->json && o->json && s->scope == o->scope)
				assert_string_not_equal(s->json, o->json);
			if (s->metric && o->metric && !strcmp(s->metric, o->metric)) {
				assert_true(j == i - 1 || !strcmp(albmd_stats[i - 1].metric ?: "",
								  s->metric)); /* adjacent */
				assert_string_not_equal(s->label ?: "", o->label ?: "");
			}
		}
	}
}

/* Every metric name and JSON key albmd had is still written, each family's header
 * once; and the documentation lists every family. */
static void test_views_keep_every_name(void **state)
{
	struct rig r;
	char line[256];
	json_t *j, *svc, *srv;
	(void)state;

	rig_up(&r);
	albmd_metrics(&r.d, &r.buf);
	for (size_t i = 0; i < ARRAY_SIZE(old_families); i++) {
		snprintf(line, sizeof(line), "# TYPE %s ", old_families[i]);
		if (count_prefix(r.buf.p, line) != 1)
			fail_msg("/metrics: %d headers of %s", count_prefix(r.buf.p, line),
				 old_families[i]);
	}
	j = albmd_state_json(&r.d);
	svc = json_array_get(json_object_get(j, "services"), 0);
	srv = json_array_get(json_object_get(svc, "servers"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(old_service_keys); i++)
		if (!json_object_get(svc, old_service_keys[i]))
			fail_msg("service JSON lacks %s", old_service_keys[i]);
	for (size_t i = 0; i < ARRAY_SIZE(old_server_keys); i++)
		if (!json_object_get(srv, old_server_keys[i]))
			fail_msg("server JSON lacks %s", old_server_keys[i]);
	for (size_t i = 0; i < ARRAY_SIZE(agent_keys); i++)
		if (!json_object_get(json_object_get(srv, "agent"), agent_keys[i]))
			fail_msg("agent JSON lacks %s", agent_keys[i]);
	json_decref(j);
	j = albmd_stats_json(&r.d);
	for (size_t i = 0; i < ARRAY_SIZE(old_stats_keys); i++)
		if (!json_object_get(j, old_stats_keys[i]))
			fail_msg("stats JSON lacks %s", old_stats_keys[i]);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "reports_rejected"),
							    "bad_mac")),
			 7);
	json_decref(j);
	rig_down(&r);
}

/* The samples themselves: labels, formats and values as scripts grep them. */
static void test_metric_lines(void **state)
{
	static const char *const lines[] = {
		"albm_up 1",
		"albm_reloads_total{result=\"ok\"} 0",
		"albm_control_commands_total{result=\"error\"} 0",
		"albm_reports_rejected_total{reason=\"bad_mac\"} 7",
		"albm_service_queued_total{service=\"web\",scheduler=\"wlc\"} 4",
		"albm_server_state{service=\"web\",server=\"s1\",state=\"up\"} 1",
		"albm_server_state{service=\"web\",server=\"s1\",state=\"down\"} 0",
		"albm_server_bytes_out_total{service=\"web\",server=\"s1\"} 4096",
		"albm_server_weight{service=\"web\",server=\"s1\"} 2",
		"albm_server_effective_weight{service=\"web\",server=\"s1\"} 2",
		"albm_agent_mem_available_bytes{service=\"web\",server=\"s1\"} 250",
		"albm_agent_load1{service=\"web\",server=\"s1\"} 1.25",
		"# TYPE albm_agent_reports_total counter",
		"# TYPE albm_service_queued gauge",
	};
	struct rig r;
	(void)state;

	rig_up(&r);
	albmd_metrics(&r.d, &r.buf);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		if (count_lines(r.buf.p, lines[i]) != 1)
			fail_msg("/metrics: %d x '%s'", count_lines(r.buf.p, lines[i]), lines[i]);
	assert_non_null(strstr(r.buf.p, "\nalbm_uptime_seconds 12.3")); /* %.3f */
	/* s2 has no report: no agent sample for it */
	assert_null(strstr(r.buf.p, "albm_agent_cpu_util{service=\"web\",server=\"s2\"}"));
	rig_down(&r);
}

/* The text view reads the same values. */
static void test_text_view(void **state)
{
	struct rig r;
	(void)state;

	rig_up(&r);
	albmd_state_table(&r.d, &r.buf);
	assert_non_null(strstr(r.buf.p, "ALBM albmd: 1 service, 0 connections\n"));
	assert_non_null(strstr(r.buf.p,
			       "web              127.0.0.1:8080          proxy wlc"
			       "  data-path epoll (auto)  queued 0 (total 4, timeouts 0)\n"));
	assert_non_null(strstr(r.buf.p,
			       "  -> s1           127.0.0.1:9001          2       "
			       "2.00       up         0          0               250B  50.0%"));
	/* agents are on and s2's has not reported: unknown, no agent columns */
	assert_non_null(strstr(r.buf.p,
			       "  -> s2           127.0.0.1:9002          1       "
			       "1.00       unknown    0          0                  -      -"
			       "        -\n"));
	rig_down(&r);
}

/* The agent's JSON is one writer's: albm-agent's keys are exactly albmd's minus
 * albmd's own two. */
static void test_one_metrics_writer(void **state)
{
	struct albm_metrics m = { .name = "x", .mem_total_bytes = 200, .mem_available_bytes = 50 };
	struct albmd_agent a = { .has_report = true, .m = m, .last_ms = albm_now_ms() };
	json_t *agent = albm_metrics_json(&m), *albmd = albmd_agent_json(&a);
	const char *k;
	json_t *v;
	(void)state;

	json_object_foreach(agent, k, v) assert_non_null(json_object_get(albmd, k));
	assert_int_equal(json_object_size(albmd), json_object_size(agent) + 2);
	assert_true(json_real_value(json_object_get(albmd, "mem_available_pct")) == 25.0);
	json_decref(agent);
	json_decref(albmd);
	assert_true(json_is_null(albmd = albmd_agent_json(NULL)));
	json_decref(albmd);
}

/* docs/albmd.md documents every family of the table. */
static void test_documented(void **state)
{
	FILE *f = fopen("docs/albmd.md", "r");
	char *doc;
	long n;
	(void)state;

	if (!f)
		skip(); /* run from elsewhere than the tree's root */
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = xcalloc(1, (size_t)n + 1);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (size_t i = 0; i < albmd_nstats; i++)
		if (albmd_stats[i].metric && !strstr(doc, albmd_stats[i].metric))
			fail_msg("docs/albmd.md does not document %s", albmd_stats[i].metric);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_consistent),
		cmocka_unit_test(test_views_keep_every_name),
		cmocka_unit_test(test_metric_lines),
		cmocka_unit_test(test_text_view),
		cmocka_unit_test(test_one_metrics_writer),
		cmocka_unit_test(test_documented),
	};

	albm_log_level = ALBM_LOG_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
