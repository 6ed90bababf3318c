/* ALBM: unit tests of albmd's ha group — two daemons' groups on loopback: heartbeats, flow batches,
 * refusals */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/ha.h"

/*
 * Two struct albmd, each with only an ha block (no service), in one thread: their
 * loops run in turn for a few ms.  Real UDP sockets on 127.0.0.1, real signed
 * datagrams.  A flow that reaches a daemon without DR services is refused as
 * unknown_vip (the DR side is tested by test_xdp_sync and 604/607).
 */

struct node {
	struct albmd d;
	struct evl_timer stop;
};

static char key_path[64], other_path[64];

static void stop_cb(struct evl *loop, struct evl_timer *t)
{
	(void)t;
	evl_stop(loop);
}

/* Run n's loop for ms. */
static void spin(struct node *n, uint64_t ms)
{
	evl_timer_start(n->d.loop, &n->stop, ms, stop_cb);
	evl_run(n->d.loop);
}

static void spin_both(struct node *a, struct node *b, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		spin(a, 5);
		spin(b, 5);
	}
}

static uint16_t bound_port(const struct albmd_ha *ha)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(ha->io.fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void node_init(struct node *n, uint32_t id, uint32_t peer, const char *key)
{
	struct albmd_cfg_ha cfg = { .node_id = id,
				    .flow_sync = true,
				    .table_interval_ms = 1000,
				    .heartbeat_ms = 50,
				    .max_age_ms = 5000,
				    .npeers = 1 };
	char err[256];

	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->d.lock, NULL);
	evl_timer_init(&n->stop);
	n->d.loop = evl_create(err, sizeof(err));
	assert_non_null(n->d.loop);
	evl_set_data(n->d.loop, &n->d);
	assert_int_equal(albm_addr_parse("127.0.0.1:1", &cfg.listen, err, sizeof(err)), 0);
	albm_addr_set_port(&cfg.listen, 0); /* any free port: bound_port() says which */
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", key);
	snprintf(cfg.peers[0].name, sizeof(cfg.peers[0].name), "n%u", peer);
	cfg.peers[0].node_id = peer;
	n->d.ha = albmd_ha_open(&cfg, err, sizeof(err));
	if (!n->d.ha)
		fail_msg("%s", err);
}

/* Each node's peer is the other's socket. */
static void link_nodes(struct node *a, struct node *b)
{
	char text[32], err[128];

	snprintf(text, sizeof(text), "127.0.0.1:%u", bound_port(b->d.ha));
	assert_int_equal(albm_addr_parse(text, &a->d.ha->peers[0].addr, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "127.0.0.1:%u", bound_port(a->d.ha));
	assert_int_equal(albm_addr_parse(text, &b->d.ha->peers[0].addr, err, sizeof(err)), 0);
	albmd_ha_start(&a->d, a->d.ha);
	albmd_ha_start(&b->d, b->d.ha);
}

static void node_free(struct node *n)
{
	evl_timer_stop(n->d.loop, &n->stop);
	albmd_ha_close(&n->d, n->d.ha);
	evl_destroy(n->d.loop);
	pthread_mutex_destroy(&n->d.lock);
}

static struct dr_flow flow(int i)
{
	struct dr_flow f;
	char err[128], text[32];

	snprintf(text, sizeof(text), "10.78.1.2:%d", 20000 + i);
	assert_int_equal(albm_addr_parse(text, &f.client, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_parse("10.78.9.100:80", &f.vip, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_parse_host("10.78.0.21", &f.real, err, sizeof(err)), 0);
	return f;
}

static int setup(void **state)
{
	char err[256];
	(void)state;

	snprintf(key_path, sizeof(key_path), "/tmp/albm-test-ha-%d.key", (int)getpid());
	snprintf(other_path, sizeof(other_path), "/tmp/albm-test-ha-%d.other", (int)getpid());
	if (albm_key_generate(key_path, err, sizeof(err)) < 0 ||
	    albm_key_generate(other_path, err, sizeof(err)) < 0) {
		print_message("%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(key_path);
	unlink(other_path);
	return 0;
}

/* Heartbeats: both peers come up; silence: down. */
static void test_heartbeats(void **state)
{
	static struct node a, b;
	(void)state;

	node_init(&a, 1, 2, key_path);
	node_init(&b, 2, 1, key_path);
	link_nodes(&a, &b);
	spin_both(&a, &b, 4);
	assert_true(a.d.ha->peers[0].up);
	assert_true(b.d.ha->peers[0].up);
	assert_true(a.d.ha->peers[0].heartbeats >= 1);
	assert_true(b.d.ha->peers[0].msgs_received >= 1);
	assert_int_equal(a.d.ha->peers[0].tables_common, 0); /* no DR service: no table */
	for (int v = 1; v < ALBM_SYNC_VERDICT__COUNT; v++)
		assert_int_equal(b.d.ha->rejected[v], 0);
	/* a goes quiet: after 3 heartbeats of b's, a is down there */
	for (int i = 0; i < 6 && b.d.ha->peers[0].up; i++)
		spin(&b, 60);
	assert_false(b.d.ha->peers[0].up);
	node_free(&a);
	node_free(&b);
}

/* Flows: batched, flushed on size or on demand; the peer takes them in. */
static void test_flow_batches(void **state)
{
	static struct node a, b;
	struct dr_flow f;
	uint64_t sent;
	(void)state;

	node_init(&a, 1, 2, key_path);
	node_init(&b, 2, 1, key_path);
	link_nodes(&a, &b);
	spin_both(&a, &b, 2);
	sent = a.d.ha->msgs_sent;
	f = flow(0);
	albmd_ha_flow(&a.d, &f);
	assert_int_equal(a.d.ha->nbatch, 1); /* waits for more */
	albmd_ha_flush(&a.d);
	assert_int_equal(a.d.ha->nbatch, 0);
	assert_int_equal(a.d.ha->msgs_sent, sent + 1);
	spin(&b, 10);
	assert_int_equal(b.d.ha->peers[0].flows_received, 1);
	assert_int_equal(b.d.ha->installs[DRD_UNKNOWN_VIP], 1); /* no such VIP at b */
	/* a full batch leaves by itself: 76 IPv4 flows, one datagram */
	sent = a.d.ha->msgs_sent;
	for (int i = 1; i <= ALBM_SYNC_MAX_FLOWS; i++) {
		f = flow(i);
		albmd_ha_flow(&a.d, &f);
	}
	assert_int_equal(a.d.ha->nbatch, 0);
	assert_int_equal(a.d.ha->msgs_sent, sent + 1);
	assert_int_equal(a.d.ha->peers[0].flows_sent, 1 + ALBM_SYNC_MAX_FLOWS);
	spin(&b, 10);
	assert_int_equal(b.d.ha->peers[0].flows_received, 1 + ALBM_SYNC_MAX_FLOWS);
	assert_int_equal(a.d.ha->flows_queued, 1 + ALBM_SYNC_MAX_FLOWS);
	/* flow-sync off: nothing is batched */
	a.d.ha->cfg.flow_sync = false;
	albmd_ha_flow(&a.d, &f);
	assert_int_equal(a.d.ha->nbatch, 0);
	node_free(&a);
	node_free(&b);
}

/* What a stranger sends is refused and counted, and changes nothing. */
static void test_refusals(void **state)
{
	static struct node a, b, m;
	struct albm_sync_flow sf = { .family = AF_INET, .sport = 1, .dport = 80 };
	struct albm_sync_hdr h = { .sender = 1, .epoch = albm_wall_ms(), .seq = 1 };
	uint8_t key[ALBM_KEY_LEN], buf[ALBM_SYNC_MAX];
	struct albm_addr from;
	size_t used;
	char err[128];
	int len;
	(void)state;

	node_init(&a, 1, 2, key_path);
	node_init(&b, 2, 1, key_path);
	node_init(&m, 1, 2, other_path); /* claims a's id, with another key */
	link_nodes(&a, &b);
	m.d.ha->peers[0].addr = a.d.ha->peers[0].addr;
	albmd_ha_start(&m.d, m.d.ha);
	spin(&m, 5); /* its heartbeat reaches b */
	spin(&b, 5);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_FORGED], 1);
	assert_int_equal(b.d.ha->peers[0].msgs_received, 0);
	/* straight into the input: garbage, unknown peer, replay, stale */
	albm_addr_parse("127.0.0.1:9", &from, err, sizeof(err));
	memset(buf, 0x5a, 100);
	assert_int_equal(albmd_ha_input(&b.d, buf, 100, &from), ALBM_SYNC_BAD_MAGIC);
	assert_int_equal(albm_key_load(key_path, key, err, sizeof(err)), 0);
	h.timestamp_ms = albm_wall_ms();
	h.sender = 9;
	len = albm_sync_encode(&h, &sf, 1, key, buf, sizeof(buf), &used);
	assert_int_equal(albmd_ha_input(&b.d, buf, (size_t)len, &from), ALBM_SYNC_UNKNOWN_PEER);
	h.sender = 1;
	len = albm_sync_encode(&h, &sf, 1, key, buf, sizeof(buf), &used);
	assert_int_equal(albmd_ha_input(&b.d, buf, (size_t)len, &from), ALBM_SYNC_OK);
	assert_int_equal(albmd_ha_input(&b.d, buf, (size_t)len, &from), ALBM_SYNC_REPLAY);
	h.seq = 2;
	h.timestamp_ms = albm_wall_ms() - 60000;
	len = albm_sync_encode(&h, &sf, 1, key, buf, sizeof(buf), &used);
	assert_int_equal(albmd_ha_input(&b.d, buf, (size_t)len, &from), ALBM_SYNC_STALE);
	assert_int_equal(albmd_ha_input(&b.d, buf, 30, &from), ALBM_SYNC_TRUNCATED);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_BAD_MAGIC], 1);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_UNKNOWN_PEER], 1);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_REPLAY], 1);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_STALE], 1);
	assert_int_equal(b.d.ha->rejected[ALBM_SYNC_TRUNCATED], 1);
	assert_int_equal(b.d.ha->peers[0].flows_received, 1); /* the one accepted */
	node_free(&m);
	node_free(&a);
	node_free(&b);
}

/* The group's JSON and metrics: every peer and counter by name. */
static void test_views(void **state)
{
	static struct node a, b;
	struct albmd_buf out = { 0 };
	json_t *j;
	(void)state;

	node_init(&a, 1, 2, key_path);
	node_init(&b, 2, 1, key_path);
	link_nodes(&a, &b);
	spin_both(&a, &b, 3);
	j = albmd_ha_json(&a.d);
	assert_int_equal(json_integer_value(json_object_get(j, "node_id")), 1);
	assert_true(json_is_true(json_object_get(j, "flow_sync")));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "peers"), 0), "state")),
			    "up");
	assert_non_null(json_object_get(json_object_get(j, "rejected"), "forged"));
	json_decref(j);
	albmd_ha_metrics(&a.d, &out);
	assert_non_null(strstr(out.p, "albm_ha_peer_up{peer=\"n2\"} 1\n"));
	assert_non_null(strstr(out.p, "albm_ha_datagrams_rejected_total{reason=\"replay\"} 0\n"));
	assert_non_null(strstr(out.p, "albm_ha_flows_installed_total 0\n"));
	out.len = 0;
	albmd_ha_text(&a.d, &out);
	assert_non_null(strstr(out.p, "HA group: node 1"));
	assert_non_null(strstr(out.p, "-> n2"));
	albmd_buf_free(&out);
	node_free(&a);
	node_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeats),
		cmocka_unit_test(test_flow_batches),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_views),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
