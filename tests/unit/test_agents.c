/* ALBM: unit tests for albmd's agent receiver (src/distributor/agents.c): signed
 * reports built with the real codec, accepted or rejected by reason, followers */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/reload.h"
#include "distributor/service.h"
#include "distributor/state.h"
#include "proto/report.h"

/*
 * The rig: an albmd in memory with a real agents receiver (UDP socket on an
 * ephemeral loopback port, a key file in a temp dir) and three services built from
 * a parsed config and attached as a reload attaches them:
 *   a: s1 s2 (albm)   b: s1 s3 (wrr)   c: s2 (rr)
 * so agent s1 has 2 followers, s2 2, s3 1.  The data planes are not started.
 */
struct rig {
	struct albmd d;
	struct albmd_config cfg;
	char dir[64], keypath[96];
	uint8_t key[ALBM_KEY_LEN];
	uint64_t boot, seq;
};

static const char rig_services[] = "service a { listen 127.0.0.1:1; scheduler albm;\n"
				   "  server s1 127.0.0.1:9001; server s2 127.0.0.1:9002; }\n"
				   "service b { listen 127.0.0.1:2; scheduler wrr;\n"
				   "  server s1 127.0.0.1:9101; server s3 127.0.0.1:9103; }\n"
				   "service c { listen 127.0.0.1:3; scheduler rr;\n"
				   "  server s2 127.0.0.1:9202; }\n";

/* Parse "agents { ... }" plus svc_text into cfg (the rig's key file). */
static void rig_parse(struct rig *r, const char *svc_text, struct albmd_config *cfg)
{
	char text[2048], err[1024];

	snprintf(text, sizeof(text), "agents { listen 127.0.0.1:1; key-file %s; timeout 1s; }\n%s",
		 r->keypath, svc_text);
	if (albmd_config_parse("rig.conf", text, strlen(text), cfg, err, sizeof(err)) < 0)
		fail_msg("rig config: %s", err);
}

static struct albmd_service *rig_add_service(struct rig *r, const struct albmd_cfg_service *cs)
{
	struct albmd_service *svc;
	char err[256];

	svc = albmd_service_new(&r->d, cs, err, sizeof(err));
	if (!svc)
		fail_msg("service %s: %s", cs->name, err);
	for (size_t j = 0; j < svc->sched.ndests; j++) /* as plan_commit does */
		albmd_server_attach(&r->d, albmd_dest_server(svc->sched.dests[j]));
	return svc;
}

static int rig_setup(void **state)
{
	struct rig *r = xcalloc(1, sizeof(*r));
	char err[256];

	snprintf(r->dir, sizeof(r->dir), "/tmp/albm-test-agents.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->keypath, sizeof(r->keypath), "%s/agent.key", r->dir);
	assert_int_equal(albm_key_generate(r->keypath, err, sizeof(err)), 0);
	assert_int_equal(albm_key_load(r->keypath, r->key, err, sizeof(err)), 0);
	pthread_mutex_init(&r->d.lock, NULL);
	r->d.loop = evl_create(err, sizeof(err));
	assert_non_null(r->d.loop);
	evl_set_data(r->d.loop, &r->d);
	rig_parse(r, rig_services, &r->cfg);
	albm_addr_set_port(&r->cfg.agents_listen, 0); /* an ephemeral port, unique per run */
	r->d.agents = albmd_agents_open(&r->cfg, err, sizeof(err));
	if (!r->d.agents)
		fail_msg("agents: %s", err);
	r->d.services = xcalloc(r->cfg.nservices, sizeof(*r->d.services));
	for (size_t i = 0; i < r->cfg.nservices; i++)
		r->d.services[r->d.nservices++] = rig_add_service(r, &r->cfg.services[i]);
	r->boot = 0x5eed;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;

	for (size_t i = 0; i < r->d.nservices; i++)
		albmd_service_withdraw(&r->d, r->d.services[i]);
	free(r->d.services);
	albmd_lock_done(&r->d);
	albmd_agents_close(&r->d, r->d.agents);
	evl_destroy(r->d.loop);
	albmd_config_free(&r->cfg);
	unlink(r->keypath);
	rmdir(r->dir);
	free(r);
	return 0;
}

static struct albmd_server *srv_of(struct rig *r, const char *svc, const char *name)
{
	struct albmd_service *s = albmd_service_find(&r->d, svc);
	struct albmd_server *srv = s ? albmd_server_find(s, name) : NULL;

	assert_non_null(srv);
	return srv;
}

static struct albmd_agent *agent_of(struct rig *r, const char *name)
{
	for (struct albmd_agent *a = r->d.agents->list; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* A signed report of `name` with avail MB of 1000 available, sequence seq, dated
 * ts_ms (0: now); returns its length. */
static size_t make_report(struct rig *r, uint8_t *buf, const char *name, uint64_t seq,
			  uint64_t avail_mb, uint64_t ts_ms, const uint8_t *key)
{
	struct albm_report rep = {
		.version = ALBM_REPORT_VERSION,
		.boot_id = r->boot,
		.seq = seq,
		.timestamp_ms = ts_ms ? ts_ms : albm_wall_ms(),
		.interval_ms = 200,
	};
	int n;

	snprintf(rep.m.name, sizeof(rep.m.name), "%s", name);
	rep.m.mem_total_bytes = 1000ull << 20;
	rep.m.mem_available_bytes = avail_mb << 20;
	rep.m.cpu_util = 0.25;
	rep.m.state = ALBM_AGENT_OK;
	n = albm_report_encode(&rep, key ? key : r->key, buf, ALBM_REPORT_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

/* Feed a fresh report of name (the next sequence number); returns the input's rc. */
static int feed(struct rig *r, const char *name, uint64_t avail_mb)
{
	uint8_t buf[ALBM_REPORT_MAX];
	size_t n = make_report(r, buf, name, ++r->seq, avail_mb, 0, NULL);

	return albmd_agents_input(&r->d, buf, n);
}

/* The number of destinations of every listed service that hold a report. */
static size_t dests_with_report(struct rig *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->d.nservices; i++)
		for (size_t j = 0; j < r->d.services[i]->sched.ndests; j++)
			n += r->d.services[i]->sched.dests[j]->report != NULL;
	return n;
}

/* A report reaches exactly its agent's followers, in every service; the
 * measurement is stored once (the agent's), the destinations point at it. */
static void test_report_reaches_followers(void **state)
{
	struct rig *r = *state;
	struct albmd_agent *a1 = agent_of(r, "s1");
	struct albmd_server *a_s1 = srv_of(r, "a", "s1"), *b_s1 = srv_of(r, "b", "s1");

	assert_non_null(a1);
	assert_int_equal(a1->nfollowers, 2);
	assert_int_equal(agent_of(r, "s2")->nfollowers, 2);
	assert_int_equal(agent_of(r, "s3")->nfollowers, 1);
	/* agents configured, nothing reported: unknown, served on static weight */
	assert_int_equal(albmd_server_state(&r->d, a_s1), ALBMD_ST_UNKNOWN);
	assert_true(a_s1->dest->flags & ALBM_DEST_F_AVAILABLE);

	assert_int_equal(feed(r, "s1", 400), 2); /* two servers updated */
	assert_int_equal(dests_with_report(r), 2);
	assert_ptr_equal(a_s1->dest->report, &a1->m);
	assert_ptr_equal(b_s1->dest->report, &a1->m);
	assert_ptr_equal(a_s1->agent, a1);
	assert_int_equal(a1->m.mem_available_bytes, 400ull << 20);
	assert_int_equal(a1->reports, 1);
	assert_int_equal(albmd_server_state(&r->d, a_s1), ALBMD_ST_UP);
	assert_int_equal(albmd_server_state(&r->d, b_s1), ALBMD_ST_UP);
	assert_int_equal(albmd_server_state(&r->d, srv_of(r, "a", "s2")), ALBMD_ST_UNKNOWN);
	assert_null(srv_of(r, "c", "s2")->dest->report);
	/* the albm scheduler acted on it: 400 of 1000 MB free */
	assert_true(a_s1->dest->eff_weight > 0.39 && a_s1->dest->eff_weight < 0.41);

	/* the next report replaces the one copy: both followers see it */
	assert_int_equal(feed(r, "s1", 900), 2);
	assert_int_equal(b_s1->dest->report->mem_available_bytes, 900ull << 20);
	assert_int_equal(r->d.agents->received, 2);
}

/* list --json shows the same measurement for every server of the agent's name. */
static void test_json_shows_the_report(void **state)
{
	struct rig *r = *state;
	json_t *j, *svcs, *s, *srv;
	size_t i, k, seen = 0;

	assert_int_equal(feed(r, "s1", 700), 2);
	j = albmd_state_json(&r->d);
	svcs = json_object_get(j, "services");
	json_array_foreach(svcs, i, s)
	{
		json_array_foreach(json_object_get(s, "servers"), k, srv)
		{
			const char *name = json_string_value(json_object_get(srv, "name"));
			json_t *ag = json_object_get(srv, "agent");
			if (strcmp(name, "s1")) {
				assert_true(json_is_null(ag));
				continue;
			}
			seen++;
			assert_int_equal(
				json_integer_value(json_object_get(ag, "mem_available_bytes")),
				700ll << 20);
			assert_string_equal(json_string_value(json_object_get(ag, "name")), "s1");
			assert_string_equal(json_string_value(json_object_get(srv, "state")), "up");
		}
	}
	assert_int_equal(seen, 2);
	json_decref(j);
}

/* Each bad datagram is rejected for its reason, counted once, and changes nothing. */
static void test_rejects_by_reason(void **state)
{
	struct rig *r = *state;
	static const uint8_t wrong_key[ALBM_KEY_LEN] = "not the key of this albmd at all";
	uint8_t buf[ALBM_REPORT_MAX];
	struct albmd_agent *a1 = agent_of(r, "s1");
	uint64_t before[ALBMD_REJ_COUNT], accepted;
	size_t n;
	struct {
		const char *what;
		enum albmd_reject want;
		bool per_agent; /* counted on the (authenticated) agent too */
	} cases[] = {
		{ "truncated", ALBMD_REJ_MALFORMED, false },
		{ "version 9", ALBMD_REJ_VERSION, false },
		{ "wrong key", ALBMD_REJ_BAD_MAC, false },
		{ "replayed", ALBMD_REJ_REPLAY, true },
		{ "stale", ALBMD_REJ_STALE, true },
		{ "nobody's", ALBMD_REJ_UNKNOWN, false },
	};

	assert_int_equal(feed(r, "s1", 500), 2);
	accepted = r->seq;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t report_ms = srv_of(r, "a", "s1")->dest->report_ms, rej = a1->rejected;
		switch (cases[i].want) {
		case ALBMD_REJ_MALFORMED:
			n = make_report(r, buf, "s1", ++r->seq, 100, 0, NULL) - 1;
			break;
		case ALBMD_REJ_VERSION:
			n = make_report(r, buf, "s1", ++r->seq, 100, 0, NULL);
			buf[4] = 9; /* docs/protocol.md: the version byte follows the magic */
			break;
		case ALBMD_REJ_BAD_MAC:
			n = make_report(r, buf, "s1", ++r->seq, 100, 0, wrong_key);
			break;
		case ALBMD_REJ_REPLAY:
			n = make_report(r, buf, "s1", accepted, 100, 0, NULL); /* not newer */
			break;
		case ALBMD_REJ_STALE:
			n = make_report(r, buf, "s1", ++r->seq, 100,
					albm_wall_ms() - r->d.agents->max_age_ms - 5000, NULL);
			break;
		default:
			n = make_report(r, buf, "nobody", ++r->seq, 100, 0, NULL);
			break;
		}
		memcpy(before, r->d.agents->rejected, sizeof(before));
		if (albmd_agents_input(&r->d, buf, n) != -(int)cases[i].want - 1)
			fail_msg("case %s: not rejected as %s", cases[i].what,
				 albmd_reject_name(cases[i].want));
		for (int k = 0; k < ALBMD_REJ_COUNT; k++)
			assert_int_equal(r->d.agents->rejected[k],
					 before[k] + (k == (int)cases[i].want));
		assert_int_equal(a1->rejected, rej + cases[i].per_agent);
		/* nothing reached a server */
		assert_int_equal(srv_of(r, "a", "s1")->dest->report_ms, report_ms);
		assert_int_equal(a1->m.mem_available_bytes, 500ull << 20);
	}
	assert_null(agent_of(r, "nobody")); /* an unknown name creates no entry */
	assert_int_equal(a1->reports, 1);
	assert_string_equal(albmd_reject_name(ALBMD_REJ_UNKNOWN), "unknown_server");
}

/* No scan of the services: a follower the daemon does not list (a service a reload
 * is building) is updated all the same, and the count says only followers were. */
static void test_followers_not_a_scan(void **state)
{
	struct rig *r = *state;
	struct albmd_config cfg;
	struct albmd_service *hidden;
	size_t listed = r->d.nservices;

	rig_parse(r,
		  "service d { listen 127.0.0.1:4; scheduler rr;\n"
		  "  server s1 127.0.0.1:9301; server s3 127.0.0.1:9303; }\n",
		  &cfg);
	hidden = rig_add_service(r, &cfg.services[0]); /* not in r->d.services */
	assert_int_equal(agent_of(r, "s1")->nfollowers, 3);

	assert_int_equal(feed(r, "s1", 300), 3);
	assert_ptr_equal(albmd_server_find(hidden, "s1")->dest->report, &agent_of(r, "s1")->m);
	assert_null(albmd_server_find(hidden, "s3")->dest->report);
	assert_int_equal(dests_with_report(r), 2); /* of the 5 listed destinations */
	/* even with no service listed at all */
	r->d.nservices = 0;
	assert_int_equal(feed(r, "s3", 200), 2);
	r->d.nservices = listed;
	assert_int_equal(dests_with_report(r), 3);
	assert_int_equal(albmd_server_find(hidden, "s3")->dest->report->mem_available_bytes,
			 200ull << 20);

	albmd_service_withdraw(&r->d, hidden);
	assert_int_equal(agent_of(r, "s1")->nfollowers, 2);
	assert_int_equal(agent_of(r, "s3")->nfollowers, 1);
	albmd_config_free(&cfg);
}

/* Wait (bounded) until the tick has marked srv's agent down. */
static bool tick_until_down(struct rig *r, struct albmd_server *srv)
{
	uint64_t deadline = albm_now_ms() + 5000;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	while (albm_now_ms() < deadline) {
		albmd_agents_tick(&r->d);
		if (srv->agent_down)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A silent agent takes its servers down (only its own), a report brings them back. */
static void test_timeout_and_return(void **state)
{
	struct rig *r = *state;
	struct albmd_server *a_s1 = srv_of(r, "a", "s1"), *b_s1 = srv_of(r, "b", "s1");
	struct albmd_server *c_s2 = srv_of(r, "c", "s2");

	assert_int_equal(feed(r, "s1", 500), 2);
	r->d.agents->timeout_ms = 3600 * 1000; /* fresh (an hour, however loaded the machine) */
	albmd_agents_tick(&r->d);
	assert_false(a_s1->agent_down);
	r->d.agents->timeout_ms = 40;
	assert_true(tick_until_down(r, a_s1));
	assert_true(agent_of(r, "s1")->timed_out);
	assert_true(b_s1->agent_down);
	assert_int_equal(albmd_server_state(&r->d, a_s1), ALBMD_ST_DOWN);
	assert_int_equal(albmd_server_state(&r->d, b_s1), ALBMD_ST_DOWN);
	assert_false(b_s1->dest->flags & ALBM_DEST_F_AVAILABLE);
	/* an agent that never reported does not time out: its servers stay on static weight */
	assert_false(c_s2->agent_down);
	assert_int_equal(albmd_server_state(&r->d, c_s2), ALBMD_ST_UNKNOWN);

	assert_int_equal(feed(r, "s1", 500), 2);
	assert_false(agent_of(r, "s1")->timed_out);
	assert_false(a_s1->agent_down);
	assert_true(b_s1->dest->flags & ALBM_DEST_F_AVAILABLE);
	assert_int_equal(albmd_server_state(&r->d, b_s1), ALBMD_ST_UP);
}

/* A server added later (albmctl add, a reload) follows at once with the latest
 * report; one removed stops following; without agents the report is forgotten. */
static void test_attach_detach(void **state)
{
	struct rig *r = *state;
	struct albmd_service *c = albmd_service_find(&r->d, "c");
	struct albmd_cfg_server cs = { .name = "s1", .weight = 1 };
	struct albmd_agent *a1 = agent_of(r, "s1");
	struct albmd_server *srv, *a_s1 = srv_of(r, "a", "s1");
	char err[256];

	assert_int_equal(feed(r, "s1", 600), 2);
	assert_int_equal(albm_addr_parse("127.0.0.1:9201", &cs.addr, err, sizeof(err)), 0);
	srv = albmd_server_add(&r->d, c, &cs, err, sizeof(err));
	assert_non_null(srv);
	assert_null(srv->agent); /* service.c alone attaches nothing */
	albmd_server_attach(&r->d, srv);
	assert_int_equal(a1->nfollowers, 3);
	assert_ptr_equal(srv->dest->report, &a1->m);
	assert_int_equal(albmd_server_state(&r->d, srv), ALBMD_ST_UP);
	assert_int_equal(feed(r, "s1", 650), 3);

	albmd_server_detach(&r->d, srv);
	assert_null(srv->agent);
	assert_null(srv->dest->report);
	albmd_server_remove(&r->d, srv);
	assert_int_equal(a1->nfollowers, 2);
	assert_int_equal(feed(r, "s1", 660), 2);

	/* the agents block goes away (a reload): static weights, state up */
	albmd_agents_detach(&r->d, a_s1);
	albmd_server_refresh(&r->d, a_s1);
	assert_null(a_s1->dest->report);
	assert_int_equal(albmd_server_state(&r->d, a_s1), ALBMD_ST_UP);
	assert_int_equal(a1->nfollowers, 1);
	assert_int_equal(feed(r, "s1", 670), 1);
	assert_null(a_s1->dest->report);
}

/* After a reload drops every server of a name, prune forgets its agent (its reports
 * are unknown again); kept agents keep their report and replay state. */
static void test_prune_after_reload(void **state)
{
	struct rig *r = *state;
	struct albmd_config cfg;
	struct albmd_agent *a1;
	uint8_t buf[ALBM_REPORT_MAX];
	size_t n;

	assert_int_equal(feed(r, "s1", 450), 2);
	assert_int_equal(feed(r, "s2", 550), 2);
	n = make_report(r, buf, "s1", r->seq - 1, 100, 0, NULL); /* s1's last one */
	/* the new config: a keeps s1 (new address) and loses s2; c is gone */
	rig_parse(r,
		  "service a { listen 127.0.0.1:1; scheduler albm;\n"
		  "  server s1 127.0.0.1:9011; }\n"
		  "service b { listen 127.0.0.1:2; scheduler wrr;\n"
		  "  server s1 127.0.0.1:9101; server s3 127.0.0.1:9103; }\n",
		  &cfg);
	albmd_service_reconfigure(&r->d, albmd_service_find(&r->d, "a"), &cfg.services[0]);
	albmd_service_reconfigure(&r->d, albmd_service_find(&r->d, "b"), &cfg.services[1]);
	albmd_service_withdraw(&r->d, r->d.services[2]);
	r->d.nservices = 2;
	assert_non_null(agent_of(r, "s2")); /* no follower, not pruned yet */
	assert_int_equal(agent_of(r, "s2")->nfollowers, 0);
	albmd_agents_prune(&r->d);
	assert_null(agent_of(r, "s2"));
	assert_int_equal(feed(r, "s2", 550), -(int)ALBMD_REJ_UNKNOWN - 1);

	a1 = agent_of(r, "s1");
	assert_int_equal(a1->nfollowers, 2);
	/* the replaced server follows with the report it had, at once */
	assert_ptr_equal(srv_of(r, "a", "s1")->dest->report, &a1->m);
	assert_int_equal(albmd_server_state(&r->d, srv_of(r, "a", "s1")), ALBMD_ST_UP);
	/* the entry is the same one: its replay window still holds */
	assert_int_equal(albmd_agents_input(&r->d, buf, n), -(int)ALBMD_REJ_REPLAY - 1);
	assert_int_equal(feed(r, "s1", 470), 2);
	albmd_config_free(&cfg);
}

/* Stop the loop once the receiver has counted `want` datagrams, or at the deadline. */
struct wait_ctx {
	struct evl_timer t;
	struct rig *r;
	uint64_t want, deadline;
};

static void wait_tick(struct evl *loop, struct evl_timer *t)
{
	struct wait_ctx *w = (struct wait_ctx *)t;

	if (w->r->d.agents->received >= w->want || albm_now_ms() >= w->deadline)
		evl_stop(loop);
	else
		evl_timer_start(loop, t, 2, wait_tick);
}

/* The whole path: a datagram on the UDP socket, through the main loop, to both
 * followers' schedulers. */
static void test_socket_path(void **state)
{
	struct rig *r = *state;
	struct wait_ctx w = { .r = r, .want = 1, .deadline = albm_now_ms() + 5000 };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t buf[ALBM_REPORT_MAX];
	size_t n = make_report(r, buf, "s1", ++r->seq, 250, 0, NULL);
	int fd;

	albmd_agents_start(&r->d, r->d.agents);
	assert_int_equal(getsockname(r->d.agents->io.fd, (struct sockaddr *)&ss, &sl), 0);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, buf, n, 0, (struct sockaddr *)&ss, sl), (ssize_t)n);
	close(fd);
	evl_timer_init(&w.t);
	evl_timer_start(r->d.loop, &w.t, 0, wait_tick);
	evl_run(r->d.loop);
	evl_timer_stop(r->d.loop, &w.t);
	assert_int_equal(r->d.agents->received, 1);
	assert_int_equal(agent_of(r, "s1")->reports, 1);
	assert_int_equal(srv_of(r, "b", "s1")->dest->report->mem_available_bytes, 250ull << 20);
	assert_int_equal(albmd_server_state(&r->d, srv_of(r, "b", "s1")), ALBMD_ST_UP);
}

#define RIG_TEST(f) cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RIG_TEST(test_report_reaches_followers), RIG_TEST(test_json_shows_the_report),
		RIG_TEST(test_rejects_by_reason),        RIG_TEST(test_followers_not_a_scan),
		RIG_TEST(test_timeout_and_return),       RIG_TEST(test_attach_detach),
		RIG_TEST(test_prune_after_reload),       RIG_TEST(test_socket_path),
	};

	albm_log_init("test_agents", ALBM_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
