/* ALBM: unit tests for albmd's config parser (src/distributor/config*.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "distributor/config.h"
#include "distributor/config_directives.h"
#include "sched/sched.h"

static int parse(const char *text, struct albmd_config *cfg, char *err, size_t errlen)
{
	return albmd_config_parse("t.conf", text, strlen(text), cfg, err, errlen);
}

/* The example, verbatim. */
static const char example[] =
	"agents {\n"
	"    listen 127.0.0.1:7070;          # UDP reports from albm-agent\n"
	"    key-file /etc/albm/agent.key;\n"
	"    timeout 1s;                     # no report for this long: the server is down\n"
	"}\n"
	"control {\n"
	"    socket /run/albm/albmd.sock;    # albmctl talks here\n"
	"    http 127.0.0.1:9090;            # /metrics, /api/state\n"
	"}\n"
	"service web {\n"
	"    listen 127.0.0.1:8080;          # or [::1]:8080\n"
	"    mode proxy;                     # proxy | dr\n"
	"    scheduler rr;                   # any name from --list-schedulers\n"
	"    server s1 127.0.0.1:9001 weight 2;\n"
	"    server s2 127.0.0.1:9002 weight 1 maxconn 500;\n"
	"}\n";

static void test_example(void **state)
{
	struct albmd_config cfg;
	char err[1024], buf[ALBM_ADDRSTRLEN];
	const struct albmd_cfg_service *svc;
	(void)state;

	assert_int_equal(parse(example, &cfg, err, sizeof(err)), 0);
	assert_true(cfg.has_agents);
	assert_string_equal(albm_addr_format(&cfg.agents_listen, buf, sizeof(buf)),
			    "127.0.0.1:7070");
	assert_string_equal(cfg.key_file, "/etc/albm/agent.key");
	assert_int_equal(cfg.key_file_line, 3);
	assert_int_equal(cfg.agent_timeout_ms, 1000);
	assert_string_equal(cfg.control_socket, "/run/albm/albmd.sock");
	assert_true(cfg.has_http);
	assert_int_equal(albm_addr_port(&cfg.http), 9090);
	assert_int_equal(cfg.nservices, 1);
	svc = albmd_config_find_service(&cfg, "web");
	assert_non_null(svc);
	assert_int_equal(svc->mode, ALBMD_MODE_PROXY);
	assert_string_equal(svc->scheduler, "rr");
	assert_int_equal(svc->nservers, 2);
	assert_string_equal(svc->servers[0].name, "s1");
	assert_int_equal(svc->servers[0].weight, 2);
	assert_int_equal(svc->servers[0].maxconn, 0);
	assert_int_equal(svc->servers[1].weight, 1);
	assert_int_equal(svc->servers[1].maxconn, 500);
	assert_string_equal(albm_addr_format(&svc->servers[1].addr, buf, sizeof(buf)),
			    "127.0.0.1:9002");
	assert_int_equal(svc->adaptive.report_timeout_ms, 1000); /* follows agents timeout */
	albmd_config_free(&cfg);
}

static void test_defaults_and_options(void **state)
{
	struct albmd_config cfg;
	char err[1024];
	const char *text =
		"workers 2; maxconn 100; drain-timeout 3s; splice off; pid-file \"/tmp/x y.pid\";\n"
		"access-log /var/log/albm/conn.log;\n"
		"control { http 9191; }\n"
		"service a {\n"
		" listen [::1]:8080;\n"
		" connect-timeout 250ms; idle-timeout 2m; retries 0; max-fails 3; fail-timeout 1s;\n"
		" client-fin-timeout 1500ms; server-fin-timeout 2s;\n"
		" maxconn 10; proxy-protocol v1; sched-flags sh-fallback sh-port; data-path uring;\n"
		" slow-start 2s aggression 2 min 0.2; rise-alpha 0.5; all-overloaded refuse;\n"
		" health-check tcp interval 500ms timeout 100ms rise 1 fall 4;\n"
		" server x [::1]:9000 down;\n"
		"}\n";
	const struct albmd_cfg_service *s;
	(void)state;

	assert_int_equal(parse(text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.maxconn, 100);
	assert_int_equal(cfg.drain_timeout_ms, 3000);
	assert_false(cfg.splice);
	assert_string_equal(cfg.pid_file, "/tmp/x y.pid");
	assert_int_equal(cfg.access_log, ALBMD_ALOG_FILE);
	assert_string_equal(cfg.access_log_path, "/var/log/albm/conn.log");
	assert_false(cfg.has_agents);
	assert_string_equal(cfg.control_socket, ALBMD_DEFAULT_SOCKET);
	/* a bare port is loopback */
	assert_int_equal(albm_addr_family(&cfg.http), AF_INET);
	assert_int_equal(cfg.http.u.sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	s = &cfg.services[0];
	assert_int_equal(albm_addr_family(&s->listen), AF_INET6);
	assert_int_equal(s->connect_timeout_ms, 250);
	assert_int_equal(s->idle_timeout_ms, 120000);
	assert_int_equal(s->client_fin_timeout_ms, 1500);
	assert_int_equal(s->server_fin_timeout_ms, 2000);
	assert_int_equal(s->retries, 0);
	assert_int_equal(s->max_fails, 3);
	assert_int_equal(s->fail_timeout_ms, 1000);
	assert_int_equal(s->maxconn, 10);
	assert_int_equal(s->proxy_protocol, ALBMD_PP_V1);
	assert_int_equal(s->data_path, ALBMD_DATA_PATH_URING);
	assert_int_equal(s->sched_flags, ALBM_SVC_F_SCHED_FALLBACK | ALBM_SVC_F_SCHED_PORT);
	assert_int_equal(s->adaptive.slow_start_ms, 2000);
	assert_true(s->adaptive.slow_start_aggression == 2.0);
	assert_true(s->adaptive.slow_start_min == 0.2);
	assert_true(s->adaptive.rise_alpha == 0.5);
	assert_int_equal(s->adaptive.all_overloaded_policy, ALBM_ALL_OVL_REFUSE);
	assert_true(s->health.enabled);
	assert_int_equal(s->health.interval_ms, 500);
	assert_int_equal(s->health.timeout_ms, 100);
	assert_int_equal(s->health.rise, 1);
	assert_int_equal(s->health.fall, 4);
	assert_true(s->servers[0].disabled);
	assert_int_equal(s->servers[0].weight, 1);
	albmd_config_free(&cfg);

	/* service defaults */
	assert_int_equal(parse("service b { listen 127.0.0.1:1; }", &cfg, err, sizeof(err)), 0);
	s = &cfg.services[0];
	assert_int_equal(s->nservers, 0);
	assert_int_equal(s->retries, 2);
	assert_int_equal(s->connect_timeout_ms, 5000);
	assert_int_equal(s->client_fin_timeout_ms, 30000); /* HAProxy-like, short */
	assert_int_equal(s->server_fin_timeout_ms, 30000);
	assert_int_equal(cfg.access_log, ALBMD_ALOG_OFF);
	assert_int_equal(s->mode, ALBMD_MODE_PROXY);
	assert_int_equal(s->data_path, ALBMD_DATA_PATH_AUTO);
	assert_non_null(albm_sched_find(s->scheduler));
	assert_false(s->health.enabled);
	assert_true(cfg.splice);
	assert_int_equal(cfg.workers, 1);
	albmd_config_free(&cfg);

	/* access-log to syslog: /dev/log unless a socket is named */
	assert_int_equal(parse("access-log syslog;", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.access_log, ALBMD_ALOG_SYSLOG);
	assert_string_equal(cfg.access_log_path, "/dev/log");
	albmd_config_free(&cfg);
	assert_int_equal(parse("access-log syslog /run/x.sock;", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.access_log_path, "/run/x.sock");
	albmd_config_free(&cfg);
	assert_int_equal(parse("access-log off;", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.access_log, ALBMD_ALOG_OFF);
	albmd_config_free(&cfg);
}

static void test_dr(void **state)
{
	struct albmd_config cfg;
	char err[1024];
	const char *text = "service d {\n listen 10.0.0.1:80;\n mode dr;\n interface eth0;\n"
			   " server r1 10.0.0.2 weight 3;\n server r2 10.0.0.3:80;\n}\n";
	(void)state;

	assert_int_equal(parse(text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.services[0].mode, ALBMD_MODE_DR);
	assert_string_equal(cfg.services[0].interface, "eth0");
	assert_false(cfg.services[0].servers[0].has_port);
	/* the service's port is filled in */
	assert_int_equal(albm_addr_port(&cfg.services[0].servers[0].addr), 80);
	assert_int_equal(cfg.services[0].servers[0].weight, 3);
	albmd_config_free(&cfg);
}

/* The ha block, announce: defaults, good values, every check with its line. */
static void test_ha(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "ha {\n listen 1.2.3.4:5;\n key-file /k;\n}",
		  "t.conf:1: ha block needs 'node-id" },
		{ "ha { node-id 1; key-file /k; }", "t.conf:1: ha block needs 'listen" },
		{ "ha { node-id 1; listen 1.2.3.4:5; }", "t.conf:1: ha block needs 'key-file" },
		{ "ha { node-id 0; listen 1.2.3.4:5; key-file /k; }", "t.conf:1: bad node-id '0'" },
		{ "ha { node-id 4294967296; listen 1.2.3.4:5; key-file /k; }", "bad node-id" },
		{ "ha { node-id 1;\n listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5:5; }",
		  "t.conf:3: peer 'd2' needs 'node-id N'" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5 node-id 2; }",
		  "t.conf:2: peer 'd2': bad address" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5:5 node-id 1; }",
		  "t.conf:2: peer 'd2' has this distributor's own node-id 1" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5:5 node-id 2;\n"
		  " peer d3 1.2.3.6:5 node-id 2; }",
		  "t.conf:3: peer 'd3' has the node-id of peer 'd2'" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5:5 node-id 2;\n"
		  " peer d2 1.2.3.6:5 node-id 3; }",
		  "t.conf:3: peer 'd2' already defined at line 2" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 [::1]:5 node-id 2; }",
		  "t.conf:2: peer 'd2': not the address family" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k;\n peer d2 1.2.3.5:5 node-id 2 id 3; }",
		  "t.conf:2: peer 'd2': unknown option 'id'" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k; table-interval 1s; table-guard 600ms; }",
		  "t.conf:1: ha: table-guard (600ms) must be at most half" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k; flush 2s; }",
		  "flush must be at most 1s" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k; heartbeat 10ms; }",
		  "heartbeat must be at least 100ms" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k; flow-sync yes; }",
		  "'flow-sync' takes 'on' or 'off'" },
		{ "ha { node-id 1; listen 1.2.3.4:5; key-file /k; timeout 1s; }",
		  "t.conf:1: 'timeout' is not allowed in the ha block" },
		{ "ha x { }", "t.conf:1: 'ha' block takes no arguments" },
		{ "agents { listen 1.2.3.4:5; key-file /k; }\nha { node-id 1; listen 1.2.3.4:5; key-file /k; }",
		  "t.conf:2: ha listen 1.2.3.4:5 is the agents' listen address" },
		{ "service a {\n listen 1.2.3.4:5;\n announce on;\n}",
		  "t.conf:1: service 'a': 'announce' is only for mode dr" },
		{ "service a {\n listen 1.2.3.4:5;\n mode dr; interface eth0;\n announce yes;\n}",
		  "t.conf:4: 'announce' takes 'on' or 'off'" },
		{ "announce-device bad/name;", "t.conf:1: bad interface name" },
		{ "announce-linger 2;", "t.conf:1: bad announce-linger" },
		{ "service a { listen 1.2.3.4:5; node-id 3; }",
		  "t.conf:1: 'node-id' is not allowed in the service block" },
	};
	const char *text =
		"announce-linger 500ms;\n"
		"ha {\n"
		"  node-id 7;\n"
		"  listen 10.78.0.11:7072;\n"
		"  key-file /etc/albm/sync.key;\n"
		"  peer d2 10.78.0.12:7072 node-id 8;\n"
		"  peer d3 10.78.0.13:7072 node-id 9;\n"
		"  flow-sync off;\n"
		"  table-interval 2s;\n"
		"}\n"
		"service w { listen 10.78.9.100:80; mode dr; interface eth0; announce on;\n"
		"  server s1 10.78.0.21; }\n"
		"service v { listen 10.78.9.101:80; mode dr; interface eth0; server s1 10.78.0.21; }\n";
	struct albmd_config cfg;
	char err[1024], buf[ALBM_ADDRSTRLEN];
	(void)state;

	assert_int_equal(parse(text, &cfg, err, sizeof(err)), 0);
	assert_true(cfg.has_ha);
	assert_int_equal(cfg.ha_line, 2);
	assert_int_equal(cfg.ha.node_id, 7);
	assert_string_equal(albm_addr_format(&cfg.ha.listen, buf, sizeof(buf)), "10.78.0.11:7072");
	assert_string_equal(cfg.ha.key_file, "/etc/albm/sync.key");
	assert_int_equal(cfg.ha.key_file_line, 5);
	assert_int_equal(cfg.ha.npeers, 2);
	assert_string_equal(cfg.ha.peers[1].name, "d3");
	assert_int_equal(cfg.ha.peers[1].node_id, 9);
	assert_int_equal(cfg.ha.peers[1].line, 7);
	assert_string_equal(albm_addr_format(&cfg.ha.peers[0].addr, buf, sizeof(buf)),
			    "10.78.0.12:7072");
	assert_false(cfg.ha.flow_sync);
	assert_int_equal(cfg.ha.table_interval_ms, 2000);
	assert_int_equal(cfg.ha.table_guard_ms, 200); /* defaults */
	assert_int_equal(cfg.ha.flush_ms, 20);
	assert_int_equal(cfg.ha.heartbeat_ms, 1000);
	assert_int_equal(cfg.ha.max_age_ms, 5000);
	assert_int_equal(cfg.announce_linger_ms, 500);
	assert_string_equal(cfg.announce_device, "albm-vip0");
	assert_true(cfg.services[0].announce);
	assert_false(cfg.services[1].announce);
	albmd_config_free(&cfg);

	/* without the block: no group; sync on by default when it is there */
	assert_int_equal(
		parse("ha { node-id 1; listen 1.2.3.4:5; key-file /k; }", &cfg, err, sizeof(err)),
		0);
	assert_true(cfg.ha.flow_sync);
	assert_int_equal(cfg.ha.npeers, 0);
	assert_int_equal(cfg.announce_linger_ms, 2000);
	albmd_config_free(&cfg);
	assert_int_equal(parse("announce-linger off;", &cfg, err, sizeof(err)), 0);
	assert_false(cfg.has_ha);
	assert_int_equal(cfg.announce_linger_ms, 0);
	albmd_config_free(&cfg);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i].text, &cfg, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: want '%s', got '%s'", i, bad[i].want, err);
	}
}

/* The connection queue and the albm directives: defaults, good values. */
static void test_queue_and_albm(void **state)
{
	static const struct {
		const char *line;
		double reserve;
		uint64_t qt_ms;
		uint32_t qmax;
		int policy;
		int overflow;
	} cases[] = {
		{ "", 0.20, 1000, 1024, ALBM_ALL_OVL_QUEUE,
		  ALBMD_QOVF_LEAST_LOADED }, /* defaults */
		{ "mem-reserve 0%; queue-timeout off; all-overloaded refuse;", 0, 0, 1024,
		  ALBM_ALL_OVL_REFUSE, ALBMD_QOVF_LEAST_LOADED },
		{ "mem-reserve 50%; queue-timeout 0; queue-max 0;", 0.5, 0, 0, ALBM_ALL_OVL_QUEUE,
		  ALBMD_QOVF_LEAST_LOADED },
		{ "mem-reserve 2.5%; queue-timeout 1.5s; queue-max 7; all-overloaded least-loaded;",
		  0.025, 1500, 7, ALBM_ALL_OVL_LEAST_LOADED, ALBMD_QOVF_LEAST_LOADED },
		{ "all-overloaded queue; queue-timeout 5s; queue-overflow close;", 0.20, 5000, 1024,
		  ALBM_ALL_OVL_QUEUE, ALBMD_QOVF_CLOSE },
		{ "queue-overflow least-loaded; queue-timeout 300ms;", 0.20, 300, 1024,
		  ALBM_ALL_OVL_QUEUE, ALBMD_QOVF_LEAST_LOADED },
	};
	struct albmd_config cfg;
	char text[512], err[1024];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct albmd_cfg_service *s;
		snprintf(text, sizeof(text), "service a {\n listen 127.0.0.1:1;\n %s\n}\n",
			 cases[i].line);
		if (parse(text, &cfg, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		s = &cfg.services[0];
		assert_true(s->adaptive.mem_reserve > cases[i].reserve - 1e-12 &&
			    s->adaptive.mem_reserve < cases[i].reserve + 1e-12);
		assert_int_equal(s->queue_timeout_ms, cases[i].qt_ms);
		assert_int_equal(s->queue_max, cases[i].qmax);
		assert_int_equal(s->adaptive.all_overloaded_policy, cases[i].policy);
		assert_int_equal(s->queue_overflow, cases[i].overflow);
		albmd_config_free(&cfg);
	}
}

/* The peers' parameters: the library's defaults, good values reach the config. */
static void test_peer_params(void **state)
{
	struct albmd_config cfg;
	const struct albmd_cfg_service *s;
	char err[1024];
	(void)state;

	assert_int_equal(parse("service a {\n listen 127.0.0.1:1;\n}\n", &cfg, err, sizeof(err)),
			 0);
	s = &cfg.services[0];
	assert_int_equal(s->orca.blackout_ms, 10000);
	assert_int_equal(s->orca.expiration_ms, 180000);
	assert_int_equal(s->orca.update_ms, 1000);
	assert_true(s->orca.error_penalty == 1.0);
	assert_true(s->prequal.q_rif == 0.84);
	assert_int_equal(s->prequal.pool, 16);
	assert_int_equal(s->prequal.latency_max_age_ms, 2000);
	assert_int_equal(s->lr.choice_count, 2);
	assert_true(s->lr.active_request_bias == 1.0);
	albmd_config_free(&cfg);

	if (parse("service a {\n listen 127.0.0.1:1;\n orca-blackout off; orca-expiration 30s;\n"
		  " orca-update 250ms; orca-error-penalty 2.5; prequal-q-rif 0.6; prequal-pool 4;\n"
		  " prequal-latency-max-age 500ms; lr-choices 3; lr-active-request-bias 0;\n}\n",
		  &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	s = &cfg.services[0];
	assert_int_equal(s->orca.blackout_ms, 0);
	assert_int_equal(s->orca.expiration_ms, 30000);
	assert_int_equal(s->orca.update_ms, 250);
	assert_true(s->orca.error_penalty == 2.5);
	assert_true(s->prequal.q_rif == 0.6);
	assert_int_equal(s->prequal.pool, 4);
	assert_int_equal(s->prequal.latency_max_age_ms, 500);
	assert_int_equal(s->lr.choice_count, 3);
	assert_true(s->lr.active_request_bias == 0.0);
	albmd_config_free(&cfg);
}

/* What the repeat and overlap rules must still accept. */
static void test_repeats_and_overlaps_allowed(void **state)
{
	static const char *const ok[] = {
		/* lists and blocks that may repeat */
		"service a {\n listen 1.2.3.4:5;\n sched-flags sh-port;\n sched-flags sh-fallback;\n"
		" server s1 1.2.3.4:6; server s2 1.2.3.4:7;\n}\nservice b { listen 1.2.3.4:8; }",
		/* the same name in different blocks */
		"maxconn 5;\nagents { listen 127.0.0.1:7; key-file /k; timeout 1s; }\n"
		"service a { listen 1.2.3.4:5; maxconn 3; health-check tcp timeout 1s;\n"
		" server s 1.2.3.4:6 maxconn 2; }",
		/* IPv6 sockets are V6ONLY: [::] does not cover IPv4 */
		"service a { listen 0.0.0.0:80; }\nservice b { listen [::]:80; }",
		/* other ports, other specific addresses */
		"service a { listen 0.0.0.0:80; }\nservice b { listen 127.0.0.1:81; }\n"
		"service c { listen 127.0.0.2:81; }\ncontrol { http 9090; }",
		/* mode dr binds no socket */
		"service a { listen 0.0.0.0:80; }\n"
		"service d { listen 10.0.0.1:80; mode dr; interface eth0; server r 10.0.0.2; }",
	};
	struct albmd_config cfg;
	char err[1024];
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i], &cfg, err, sizeof(err)) != 0)
			fail_msg("case %zu rejected: %s", i, err);
		albmd_config_free(&cfg);
	}
	assert_int_equal(parse(ok[0], &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.services[0].sched_flags,
			 ALBM_SVC_F_SCHED_FALLBACK | ALBM_SVC_F_SCHED_PORT);
	albmd_config_free(&cfg);
}

/* The admin surfaces and the L7 check: accepted forms and their defaults. */
static void test_admin_and_http_check(void **state)
{
	static const char text[] =
		"state-dir /var/lib/albm;\n"
		"control { http 0.0.0.0:9100; http-token-file /etc/albm/http.token; chart-js /x.js; }\n"
		"service a { listen 127.0.0.1:80; health-check http /healthz expect 204 host h.test "
		"rise 3; server s 127.0.0.1:81; }\n"
		"service b { listen 127.0.0.1:82; health-check tcp; server s 127.0.0.1:83; }\n";
	struct albmd_config cfg;
	char err[1024];
	(void)state;

	if (albmd_config_parse("t.conf", text, strlen(text), &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.state_dir, "/var/lib/albm");
	assert_string_equal(cfg.http_token_file, "/etc/albm/http.token");
	assert_int_equal(cfg.http_token_line, 2);
	assert_string_equal(cfg.chart_js, "/x.js");
	assert_int_equal(cfg.services[0].health.kind, ALBMD_HC_HTTP);
	assert_string_equal(cfg.services[0].health.path, "/healthz");
	assert_int_equal(cfg.services[0].health.expect, 204);
	assert_string_equal(cfg.services[0].health.host, "h.test");
	assert_int_equal(cfg.services[0].health.rise, 3);
	assert_int_equal(cfg.services[1].health.kind, ALBMD_HC_TCP);
	assert_int_equal(cfg.services[1].health.expect, 200);
	albmd_config_free(&cfg);
	/* defaults: the Debian chart library; loopback needs no token */
	static const char lo[] = "control { http 127.0.0.2:9100; }";
	assert_int_equal(albmd_config_parse("t.conf", lo, sizeof(lo) - 1, &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.chart_js, ALBMD_DEFAULT_CHART_JS);
	assert_string_equal(cfg.state_dir, "");
	albmd_config_free(&cfg);
}

/* The directive table itself: one line per name and block, slots inside their
 * struct, keyword lists where the keyword setter is, every directive documented. */
static void test_directive_table(void **state)
{
	static const struct {
		unsigned where;
		size_t size;
	} structs[] = {
		{ CFG_MAIN | CFG_AGENTS | CFG_CONTROL, sizeof(struct albmd_config) },
		{ CFG_HA, sizeof(struct albmd_cfg_ha) },
		{ CFG_PEER, sizeof(struct albmd_cfg_peer) },
		{ CFG_SERVICE, sizeof(struct albmd_cfg_service) },
		{ CFG_SERVER, sizeof(struct albmd_cfg_server) },
		{ CFG_HEALTH, sizeof(struct albmd_cfg_health) },
		{ CFG_SLOW_START, sizeof(struct albm_adaptive_params) },
	};
	FILE *f = fopen("docs/config.md", "r");
	static char doc[65536];
	size_t len;
	(void)state;

	assert_non_null(f);
	len = fread(doc, 1, sizeof(doc) - 1, f);
	doc[len] = '\0';
	fclose(f);
	for (size_t i = 0; i < cfg_ncmds; i++) {
		const struct cfg_cmd *c = &cfg_cmds[i];
		char pat[2][64];
		assert_non_null(c->set);
		assert_true(c->where && !(c->where & (c->where - 1))); /* one block each */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg_cmds[j].name, c->name) && (cfg_cmds[j].where & c->where))
				fail_msg("'%s' twice in one block", c->name);
		for (size_t k = 0; k < sizeof(structs) / sizeof(structs[0]); k++)
			if (c->where & structs[k].where)
				assert_true(c->off + c->size <= structs[k].size);
		assert_true((c->set == cfg_set_keyword) == (c->keywords != NULL));
		if (c->set == cfg_set_uint || c->set == cfg_set_duration ||
		    c->set == cfg_set_keyword || c->set == cfg_set_double ||
		    c->set == cfg_set_percent || c->set == cfg_set_addr || c->set == cfg_set_path ||
		    c->set == cfg_set_onoff || c->set == cfg_set_flag)
			assert_true(c->size > 0);
		if (c->where & (CFG_SERVER | CFG_HEALTH | CFG_SLOW_START | CFG_PEER))
			continue; /* options are documented on their directive's line */
		snprintf(pat[0], sizeof(pat[0]), "`%s ", c->name);
		snprintf(pat[1], sizeof(pat[1]), "`%s;", c->name);
		if (!strstr(doc, pat[0]) && !strstr(doc, pat[1]))
			fail_msg("directive '%s' is not in docs/config.md", c->name);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_true(albmd_name_valid("web-1.a_b"));
	assert_false(albmd_name_valid(""));
	assert_false(albmd_name_valid("-x"));
	assert_false(albmd_name_valid("a b"));
	assert_false(albmd_name_valid("a\"b"));
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(albmd_name_valid(longname));
}

static void test_load(void **state)
{
	struct albmd_config cfg;
	char err[512];
	(void)state;

	assert_int_equal(albmd_config_load("/nonexistent/albmd.conf", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/albmd.conf"));
	assert_int_equal(albmd_config_load("/", &cfg, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults_and_options),
		cmocka_unit_test(test_dr),
		cmocka_unit_test(test_ha),
		cmocka_unit_test(test_queue_and_albm),
		cmocka_unit_test(test_peer_params),
		cmocka_unit_test(test_repeats_and_overlaps_allowed),
		cmocka_unit_test(test_admin_and_http_check),
		cmocka_unit_test(test_directive_table),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
