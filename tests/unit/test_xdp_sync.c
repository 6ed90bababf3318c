/* ALBM: BPF_PROG_TEST_RUN tests of flow sync (flow events, peer installs) and table digests */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "common/addr.h"
#include "common/util.h"
#include "dr/dr.h"
#include "dr/dr_priv.h"
#include "../lib/xdp_frames.h"

#define VIP    "10.77.0.100:80"
#define CLIENT "10.77.0.2"

static const uint8_t mac_r[3][6] = { { 0x02, 0x5e, 0, 0, 0, 0x11 },
				     { 0x02, 0x5e, 0, 0, 0, 0x12 },
				     { 0x02, 0x5e, 0, 0, 0, 0x13 } };
static char skip_reason[256];

static struct albm_addr host(const char *text)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse_host(text, &a, err, sizeof(err)), 0);
	return a;
}

static struct albm_addr hostport(const char *text)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse(text, &a, err, sizeof(err)), 0);
	return a;
}

/* Real i (0..2): 10.77.0.(11+i), MAC mac_r[i]. */
static struct dr_real real(int i, uint32_t weight)
{
	char ip[32];
	struct dr_real r = { .weight = weight };

	snprintf(ip, sizeof(ip), "10.77.0.%d", 11 + i);
	r.addr = host(ip);
	memcpy(r.mac, mac_r[i], 6);
	return r;
}

static void set_reals(struct albm_dr *dr, struct dr_real *r, size_t n)
{
	struct albm_addr v = hostport(VIP);
	char err[256] = "";

	if (dr_set_reals(dr, &v, r, n, err, sizeof(err)) != 0)
		fail_msg("dr_set_reals: %s", err);
}

/* A program with the VIP and reals r1, r2 (weight 1); NULL (skip) without privilege. */
static struct albm_dr *open_dr(bool sync, uint32_t ring)
{
	struct dr_opts o = { .conn_max = 4096, .flow_sync = sync, .flow_ring = ring };
	struct dr_real r[2] = { real(0, 1), real(1, 1) };
	struct albm_addr v = hostport(VIP);
	struct albm_dr *dr;
	char err[256];

	if (skip_reason[0])
		return NULL;
	memcpy(o.own_mac, fr_own_mac, 6);
	dr = dr_open_detached(&o, err, sizeof(err));
	if (!dr) {
		if (errno != EPERM && errno != EACCES && errno != ENOSYS && geteuid() == 0)
			fail_msg("%s", err);
		snprintf(skip_reason, sizeof(skip_reason), "%s", err);
		return NULL;
	}
	assert_int_equal(dr_add_vip(dr, &v, err, sizeof(err)), 0);
	set_reals(dr, r, 2);
	return dr;
}

static int setup_sync(void **state)
{
	*state = open_dr(true, 0);
	return 0;
}

static int setup_nosync(void **state)
{
	*state = open_dr(false, 0);
	return 0;
}

static int teardown(void **state)
{
	dr_close(*state);
	return 0;
}

#define NEED_DR(state)                                                                         \
	({                                                                                     \
		if (!*(state)) {                                                               \
			print_message("skip: cannot load the XDP program: %s\n", skip_reason); \
			skip();                                                                \
		}                                                                              \
		(struct albm_dr *)*(state);                                                    \
	})

/* One IPv4 packet from CLIENT:sport to the VIP; returns the real (0..2) or -1 (not TX). */
static int send4(struct albm_dr *dr, uint16_t sport, uint8_t flags)
{
	uint8_t f[FR_MAX], out[FR_MAX];
	size_t len = fr_tcp4(f, CLIENT, sport, "10.77.0.100", 80, flags);

	if (fr_run(dr, f, len, out, NULL) != XDP_TX)
		return -1;
	for (int i = 0; i < 3; i++)
		if (memcmp(out, mac_r[i], 6) == 0)
			return i;
	fail_msg("destination MAC is no real's");
	return -1;
}

/* What the drain callback saw. */
struct seen {
	int n;
	struct dr_flow last;
};

static void on_flow(const struct dr_flow *f, void *ctx)
{
	struct seen *s = ctx;

	s->n++;
	s->last = *f;
}

static uint64_t stat(struct albm_dr *dr, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(dr_read_stat(dr, name, &v), 0);
	return v;
}

static void test_sync_off_publishes_nothing(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct seen s = { 0 };

	assert_int_equal(dr_flow_fd(dr), -1);
	assert_true(send4(dr, 40000, TCP_SYN) >= 0);
	assert_int_equal(dr_flow_drain(dr, on_flow, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(stat(dr, "sync_lost"), 0);
}

/* A new flow is one event naming client, VIP and the real BY ADDRESS; packets of an
 * established flow publish nothing. */
static void test_sync_publishes_new_flows(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct seen s = { 0 };
	struct albm_addr want;
	char ip[32];
	int r;

	assert_true(dr_flow_fd(dr) >= 0);
	r = send4(dr, 40001, TCP_SYN);
	assert_true(r >= 0);
	assert_int_equal(dr_flow_drain(dr, on_flow, &s), 1);
	want = hostport(CLIENT ":40001");
	assert_true(albm_addr_equal(&s.last.client, &want));
	want = hostport(VIP);
	assert_true(albm_addr_equal(&s.last.vip, &want));
	snprintf(ip, sizeof(ip), "10.77.0.%d", 11 + r);
	want = host(ip);
	assert_true(albm_addr_equal(&s.last.real, &want));
	for (int i = 0; i < 5; i++)
		assert_int_equal(send4(dr, 40001, TCP_ACK), r);
	assert_int_equal(dr_flow_drain(dr, on_flow, &s), 0);
	assert_int_equal(s.n, 1);
}

/* A full ring loses events and counts each one; published + lost = new flows. */
static void test_sync_ring_full_counts_lost(void **state)
{
	struct albm_dr *dr = open_dr(true, 4096); /* one page: 64 records of 64 bytes */
	struct dr_sync_stats st;
	struct seen s = { 0 };

	*state = dr;
	NEED_DR(state);
	for (uint16_t p = 0; p < 200; p++)
		assert_true(send4(dr, 41000 + p, TCP_SYN) >= 0);
	assert_true(dr_flow_drain(dr, on_flow, &s) > 0);
	assert_int_equal(dr_sync_stats(dr, &st), 0);
	print_message("200 new flows, ring of 4096 bytes: %d published, %llu lost\n", s.n,
		      (unsigned long long)st.lost);
	assert_true(st.lost > 0);
	assert_int_equal(st.published, (uint64_t)s.n);
	assert_int_equal(st.published + st.lost, 200);
	assert_int_equal(stat(dr, "new_flow"), 200);
}

static struct dr_flow flow(uint16_t sport, int real_i)
{
	char c[64], ip[32];
	struct dr_flow f;

	snprintf(c, sizeof(c), "%s:%u", CLIENT, sport);
	snprintf(ip, sizeof(ip), "10.77.0.%d", 11 + real_i);
	f.client = hostport(c);
	f.vip = hostport(VIP);
	f.real = host(ip);
	return f;
}

/* A peer's flow is pinned to the real it names, whatever this table's hash says; it
 * is not a new flow here and is not published again. */
static void test_install_pins_peer_flow(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct seen s = { 0 };
	struct dr_sync_stats st;
	struct dr_flow f;
	char err[256];
	int hashed;

	hashed = send4(dr, 42000, TCP_SYN); /* where this table would put it */
	assert_true(hashed >= 0);
	assert_int_equal(dr_flush_conns(dr), 0);
	(void)dr_flow_drain(dr, on_flow, &s);
	f = flow(42000, 1 - hashed);
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(send4(dr, 42000, TCP_ACK), 1 - hashed);
	assert_int_equal(stat(dr, "new_flow"), 1); /* only the first SYN */
	s.n = 0;
	assert_int_equal(dr_flow_drain(dr, on_flow, &s), 0);
	assert_int_equal(dr_sync_stats(dr, &st), 0);
	assert_int_equal(st.installed, 1);
	assert_int_equal(st.hits, 1); /* the first packet followed it, the rest are pinned */
}

/* Refusals, each counted: unknown VIP, unknown real; a live local pin wins over a
 * peer's entry (the program looks at the peers' map only for flows not pinned here). */
static void test_install_refusals(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_sync_stats st;
	struct dr_flow f;
	char err[256];
	int local;

	f = flow(43000, 0);
	f.vip = hostport("10.77.0.101:80");
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not a VIP"));
	f = flow(43000, 2); /* 10.77.0.13: not a real of this VIP here */
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "10.77.0.13"));
	f = flow(43000, 0);
	f.real = host("fd77::11");
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), -EINVAL);
	local = send4(dr, 43001, TCP_SYN);
	f = flow(43001, 1 - local);
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), 0);
	assert_int_equal(send4(dr, 43001, TCP_ACK), local); /* the local decision stands */
	assert_int_equal(dr_sync_stats(dr, &st), 0);
	assert_int_equal(st.unknown_vip, 1);
	assert_int_equal(st.unknown_real, 1);
	assert_int_equal(st.installed, 1);
	assert_int_equal(st.hits, 0);
}

/* A peer's datagram at once (one system call): new flows followed, a live local pin
 * kept, a closed one given up, an unknown real refused. */
static void test_install_many(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_flow f[6];
	struct dr_sync_stats st;
	int rcs[6], local, closed;

	local = send4(dr, 45001, TCP_SYN);
	closed = send4(dr, 45003, TCP_SYN);
	assert_int_equal(send4(dr, 45003, TCP_RST), closed);
	f[0] = flow(45000, 0);
	f[1] = flow(45001, 1 - local); /* pinned here: ours stands */
	f[2] = flow(45002, 1);
	f[3] = flow(45003, 1 - closed); /* pinned here, closed: the peer's */
	f[4] = flow(45004, 2);          /* no such real here */
	f[5] = flow(45005, 0);
	assert_int_equal(dr_flow_install_many(dr, f, 6, rcs), 0);
	assert_int_equal(rcs[0], 0);
	assert_int_equal(rcs[1], 0);
	assert_int_equal(rcs[2], 0);
	assert_int_equal(rcs[3], 0);
	assert_int_equal(rcs[4], -ENOENT);
	assert_int_equal(rcs[5], 0);
	assert_int_equal(send4(dr, 45000, TCP_ACK), 0);
	assert_int_equal(send4(dr, 45001, TCP_ACK), local);
	assert_int_equal(send4(dr, 45002, TCP_ACK), 1);
	assert_int_equal(send4(dr, 45003, TCP_SYN), 1 - closed); /* the client reuses it */
	assert_int_equal(send4(dr, 45005, TCP_ACK), 0);
	assert_int_equal(dr_sync_stats(dr, &st), 0);
	assert_int_equal(st.installed, 5);
	assert_int_equal(st.unknown_real, 1);
	assert_int_equal(st.hits, 4);
}

/* A closed local entry gives way when the client opens the port again (a SYN), and one
 * pinned to a removed real gives way at once: the peer's entry is followed. */
static void test_install_replaces_closed_or_stale(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real only[2] = { real(0, 1), real(2, 1) };
	struct dr_flow f;
	char err[256];
	uint16_t p;
	int a;

	a = send4(dr, 44000, TCP_SYN);
	assert_int_equal(send4(dr, 44000, TCP_FIN | TCP_ACK), a);
	f = flow(44000, 1 - a);
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), 0);
	assert_int_equal(send4(dr, 44000, TCP_ACK), a); /* the closing flow's late segments */
	assert_int_equal(send4(dr, 44000, TCP_SYN), 1 - a);
	assert_int_equal(send4(dr, 44000, TCP_ACK), 1 - a);
	/* a flow pinned to r2 (10.77.0.12); then r2 leaves the set */
	for (p = 44100; send4(dr, p, TCP_SYN) != 1; p++)
		assert_true(p < 44200);
	set_reals(dr, only, 2);
	f = flow(p, 2);
	assert_int_equal(dr_flow_install(dr, &f, err, sizeof(err)), 0);
	assert_int_equal(send4(dr, p, TCP_ACK), 2);
	assert_int_equal(stat(dr, "resched_removed_real"), 0); /* followed the peer instead */
	assert_int_equal(stat(dr, "sync_hit"), 2);
}

/* The active table's real ADDRESS per slot, read from the maps the program uses. */
static void table_addrs(struct albm_dr *dr, uint8_t (*out)[16], uint32_t *idx)
{
	struct albm_vip_key k = { .port = htons(80), .proto = 6, .family = ALBM_AF_INET };
	int tfd = bpf_map__fd(dr->skel->maps.albm_tables);
	int rfd = bpf_map__fd(dr->skel->maps.albm_reals);
	struct albm_vip v;
	struct albm_real r;

	k.addr[0] = host("10.77.0.100").u.sin.sin_addr.s_addr;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(dr->skel->maps.albm_vips), &k, &v), 0);
	for (uint32_t s = 0; s < ALBM_TABLE_SIZE; s++) {
		uint32_t key = v.table * ALBM_TABLE_SIZE + s;

		assert_int_equal(bpf_map_lookup_elem(tfd, &key, &idx[s]), 0);
		assert_int_equal(bpf_map_lookup_elem(rfd, &idx[s], &r), 0);
		memcpy(out[s], r.addr, 16);
	}
}

/*
 * Two distributors that learnt the same reals in another order, through other
 * histories (so with other local indices), program tables that name the same real
 * address in every slot, and their digests agree; a weight change differs, and
 * changing it back agrees again.
 */
static void test_tables_agree_across_distributors(void **state)
{
	struct albm_dr *a = NEED_DR(state), *b = open_dr(false, 0);
	static uint8_t ta[ALBM_TABLE_SIZE][16], tb[ALBM_TABLE_SIZE][16];
	static uint32_t ia[ALBM_TABLE_SIZE], ib[ALBM_TABLE_SIZE];
	struct dr_real ra[3] = { real(0, 5), real(1, 3), real(2, 2) };
	struct dr_real rb1[1] = { real(2, 2) }, rb2[2] = { real(2, 2), real(1, 3) };
	struct dr_real rb3[3] = { real(1, 3), real(2, 2), real(0, 5) };
	struct dr_real rb4[3] = { real(1, 4), real(2, 2), real(0, 5) };
	struct albm_addr v = hostport(VIP);
	uint8_t da[32], db[32];
	size_t differ = 0;

	set_reals(a, ra, 3);
	set_reals(b, rb1, 1);
	set_reals(b, rb2, 2);
	set_reals(b, rb3, 3);
	assert_int_not_equal(ra[0].index, rb3[2].index); /* really other local indices */
	table_addrs(a, ta, ia);
	table_addrs(b, tb, ib);
	for (uint32_t s = 0; s < ALBM_TABLE_SIZE; s++) {
		assert_memory_equal(ta[s], tb[s], 16);
		differ += ia[s] != ib[s];
	}
	assert_true(differ > 0);
	assert_int_equal(dr_table_digest(a, &v, da), 0);
	assert_int_equal(dr_table_digest(b, &v, db), 0);
	assert_memory_equal(da, db, 32);
	set_reals(b, rb4, 3);
	assert_int_equal(dr_table_digest(b, &v, db), 0);
	assert_memory_not_equal(da, db, 32);
	set_reals(b, rb3, 3);
	assert_int_equal(dr_table_digest(b, &v, db), 0);
	assert_memory_equal(da, db, 32);
	v = hostport("10.9.9.9:80");
	assert_int_equal(dr_table_digest(a, &v, da), -ENOENT);
	dr_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_off_publishes_nothing, setup_nosync,
						teardown),
		cmocka_unit_test_setup_teardown(test_sync_publishes_new_flows, setup_sync,
						teardown),
		cmocka_unit_test_teardown(test_sync_ring_full_counts_lost, teardown),
		cmocka_unit_test_setup_teardown(test_install_pins_peer_flow, setup_sync, teardown),
		cmocka_unit_test_setup_teardown(test_install_refusals, setup_sync, teardown),
		cmocka_unit_test_setup_teardown(test_install_many, setup_sync, teardown),
		cmocka_unit_test_setup_teardown(test_install_replaces_closed_or_stale, setup_sync,
						teardown),
		cmocka_unit_test_setup_teardown(test_tables_agree_across_distributors, setup_nosync,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
