/* ALBM: BPF_PROG_TEST_RUN fixtures for the DR XDP program (needs root / CAP_BPF; skips otherwise)
 */
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
#include "../lib/xdp_frames.h"

#define VIP    "10.77.0.100:80"
#define CLIENT "10.77.0.2"

static const uint8_t mac_r1[6] = { 0x02, 0x5e, 0, 0, 0, 0x11 };
static const uint8_t mac_r2[6] = { 0x02, 0x5e, 0, 0, 0, 0x12 };
static const uint8_t mac_r3[6] = { 0x02, 0x5e, 0, 0, 0, 0x13 };
static char skip_reason[256];

static struct albm_addr addr(const char *text)
{
	struct albm_addr a;
	char err[128];

	if (strchr(text, ':') && text[0] != '[' && strchr(text, '.'))
		assert_int_equal(albm_addr_parse(text, &a, err, sizeof(err)), 0);
	else if (text[0] == '[' && strstr(text, "]:"))
		assert_int_equal(albm_addr_parse(text, &a, err, sizeof(err)), 0);
	else
		assert_int_equal(albm_addr_parse_host(text, &a, err, sizeof(err)), 0);
	return a;
}

static struct dr_real real(const char *ip, const uint8_t *mac, uint32_t weight)
{
	struct dr_real r = { .addr = addr(ip), .weight = weight };

	memcpy(r.mac, mac, 6);
	return r;
}

static uint64_t stat(struct albm_dr *dr, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(dr_read_stat(dr, name, &v), 0);
	return v;
}

static struct dr_real_stats rstats(struct albm_dr *dr, const char *vip, const char *ip)
{
	struct dr_real_stats st;
	struct albm_addr v = addr(vip), r = addr(ip);

	assert_int_equal(dr_read_real_stats(dr, &v, &r, &st), 0);
	return st;
}

static void set_reals(struct albm_dr *dr, const char *vip, struct dr_real *r, size_t n)
{
	struct albm_addr v = addr(vip);
	char err[256] = "";

	if (dr_set_reals(dr, &v, r, n, err, sizeof(err)) != 0)
		fail_msg("dr_set_reals: %s", err);
}

/* Fresh program and maps per test; VIP 10.77.0.100:80 with r1 (w1) and r2 (w1). */
static int setup(void **state)
{
	struct dr_opts o = { .conn_max = 4096 };
	struct dr_real r[2] = { real("10.77.0.11", mac_r1, 1), real("10.77.0.12", mac_r2, 1) };
	struct albm_addr v;
	struct albm_dr *dr;
	char err[256];

	*state = NULL;
	if (skip_reason[0])
		return 0;
	memcpy(o.own_mac, fr_own_mac, 6);
	dr = dr_open_detached(&o, err, sizeof(err));
	if (!dr) {
		/* Only a missing privilege or kernel feature skips; a verifier
		 * rejection is a failure of the program under test. */
		if (errno != EPERM && errno != EACCES && errno != ENOSYS && geteuid() == 0)
			fail_msg("%s", err);
		snprintf(skip_reason, sizeof(skip_reason), "%s", err);
		return 0;
	}
	v = addr(VIP);
	assert_int_equal(dr_add_vip(dr, &v, err, sizeof(err)), 0);
	set_reals(dr, VIP, r, 2);
	*state = dr;
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

/* Send one v4 TCP packet; assert XDP_TX and return which real's MAC it got (1..3). */
static int send4(struct albm_dr *dr, const char *src, uint16_t sport, uint8_t flags)
{
	uint8_t f[FR_MAX], out[FR_MAX];
	uint32_t olen = 0;
	size_t len = fr_tcp4(f, src, sport, "10.77.0.100", 80, flags);

	assert_int_equal(fr_run(dr, f, len, out, &olen), XDP_TX);
	assert_int_equal(olen, len);
	assert_memory_equal(out + 6, fr_own_mac, 6);     /* source: our own MAC */
	assert_memory_equal(out + 12, f + 12, len - 12); /* IP and TCP untouched */
	if (memcmp(out, mac_r1, 6) == 0)
		return 1;
	if (memcmp(out, mac_r2, 6) == 0)
		return 2;
	if (memcmp(out, mac_r3, 6) == 0)
		return 3;
	fail_msg("destination MAC is no real's");
	return 0;
}

static void test_syn_rewritten_and_tx(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real_stats st;
	int r = send4(dr, CLIENT, 40000, TCP_SYN);

	assert_int_equal(stat(dr, "tx"), 1);
	assert_int_equal(stat(dr, "new_flow"), 1);
	assert_int_equal(stat(dr, "rx"), 1);
	st = rstats(dr, VIP, r == 1 ? "10.77.0.11" : "10.77.0.12");
	assert_int_equal(st.pkts, 1);
	assert_int_equal(st.bytes, FR_ETH_LEN + FR_IP4_LEN + FR_TCP_LEN);
	assert_int_equal(st.new_flows, 1);
	st = rstats(dr, VIP, r == 1 ? "10.77.0.12" : "10.77.0.11");
	assert_int_equal(st.pkts, 0);
}

static void test_flow_keeps_its_real(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	int seen[3] = { 0 };

	/* 50 flows, each SYN then 5 ACKs: every packet of a flow to the same real. */
	for (uint16_t p = 0; p < 50; p++) {
		int r = send4(dr, CLIENT, 41000 + p, TCP_SYN);

		seen[r]++;
		for (int i = 0; i < 5; i++)
			assert_int_equal(send4(dr, CLIENT, 41000 + p, TCP_ACK), r);
	}
	assert_int_equal(stat(dr, "new_flow"), 50);
	assert_int_equal(stat(dr, "tx"), 300);
	assert_true(seen[1] > 0 && seen[2] > 0); /* and both reals got flows */
}

static void test_weights_share_new_flows(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real r[2] = { real("10.77.0.11", mac_r1, 1), real("10.77.0.12", mac_r2, 3) };
	int seen[4] = { 0 };
	char src[32];

	set_reals(dr, VIP, r, 2);
	for (int i = 0; i < 4000; i++) {
		snprintf(src, sizeof(src), "10.77.%d.%d", 1 + i / 250, 1 + i % 250);
		seen[send4(dr, src, 30000 + i % 7, TCP_SYN)]++;
	}
	/* 1:3 → r2 expects 75 %; hash noise over 4000 flows is ~0.7 %. */
	print_message("weights 1:3 -> r1 %d, r2 %d of 4000\n", seen[1], seen[2]);
	assert_in_range(seen[2], 2800, 3200);
	assert_int_equal(rstats(dr, VIP, "10.77.0.12").new_flows, (uint64_t)seen[2]);
}

/* Run a frame that must come back untouched with XDP_PASS, counted under `counter`. */
static void expect_pass(struct albm_dr *dr, const uint8_t *f, size_t len, const char *counter)
{
	uint8_t out[FR_MAX];
	uint32_t olen = 0;
	uint64_t before = stat(dr, counter), tx = stat(dr, "tx");

	assert_int_equal(fr_run(dr, f, len, out, &olen), XDP_PASS);
	assert_int_equal(olen, len);
	assert_memory_equal(out, f, len);
	assert_int_equal(stat(dr, counter), before + 1);
	assert_int_equal(stat(dr, "tx"), tx);
}

static void test_non_vip_passes(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	uint8_t f[FR_MAX];
	size_t len;

	len = fr_tcp4(f, CLIENT, 40000, "10.77.0.101", 80, TCP_SYN); /* other address */
	expect_pass(dr, f, len, "pass_not_vip");
	len = fr_tcp4(f, CLIENT, 40000, "10.77.0.100", 81, TCP_SYN); /* other port */
	expect_pass(dr, f, len, "pass_not_vip");
	len = fr_tcp4(f, CLIENT, 40000, "10.77.0.100", 80, TCP_SYN);
	f[FR_ETH_LEN + 9] = 17; /* UDP to the VIP */
	expect_pass(dr, f, len, "pass_not_tcp");
	len = fr_tcp4(f, CLIENT, 40000, "10.77.0.100", 80, TCP_SYN);
	f[FR_ETH_LEN + 9] = 1; /* ICMP */
	expect_pass(dr, f, len, "pass_not_tcp");
	memset(f, 0, 60);
	len = fr_eth(f, 0x0806) + 28; /* ARP */
	expect_pass(dr, f, len, "pass_not_ip");
	len = fr_tcp6(f, "fd77::2", 40000, "fd77::100", 80, TCP_SYN); /* v6, no v6 VIP */
	expect_pass(dr, f, len, "pass_not_vip");
	assert_int_equal(stat(dr, "new_flow"), 0);
}

/* Malformed and unusual frames: each one passes (the kernel judges it) and is counted. */
static void test_malformed_frames(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	uint8_t f[FR_MAX], *ip = f + FR_ETH_LEN;
	size_t len;

	len = fr_eth(f, 0x0800); /* Ethernet header only */
	expect_pass(dr, f, len, "pass_short_ip");
	len = fr_tcp4(f, CLIENT, 1, "10.77.0.100", 80, TCP_SYN);
	expect_pass(dr, f, FR_ETH_LEN + 19, "pass_short_ip"); /* IPv4 header cut */
	ip[0] = 0x44;                                         /* IHL 4 */
	expect_pass(dr, f, len, "pass_bad_ip");
	ip[0] = 0x65; /* version 6 in an IPv4 EtherType */
	expect_pass(dr, f, len, "pass_bad_ip");
	ip[0] = 0x4f; /* IHL 15: 60 bytes of header, the frame has 40 */
	expect_pass(dr, f, len, "pass_short_ip");
	ip[0] = 0x45;
	fr_put16(ip + 2, 30); /* total length shorter than IP + TCP headers */
	expect_pass(dr, f, len, "pass_bad_ip");
	fr_put16(ip + 2, 40);
	fr_put16(ip + 6, 0x2000); /* more fragments */
	expect_pass(dr, f, len, "pass_fragment");
	fr_put16(ip + 6, 0x0010); /* fragment offset 16 */
	expect_pass(dr, f, len, "pass_fragment");
	fr_put16(ip + 6, 0x4000);
	expect_pass(dr, f, FR_ETH_LEN + FR_IP4_LEN + 12, "pass_short_tcp"); /* TCP cut */
	ip[FR_IP4_LEN + 12] = 4 << 4;                                       /* TCP data offset 4 */
	expect_pass(dr, f, len, "pass_short_tcp");
	assert_int_equal(stat(dr, "tx"), 0);
}

static void test_vlan_and_ipv6_ext_pass(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	uint8_t f[FR_MAX], g[FR_MAX];
	size_t len;

	len = fr_tcp4(g, CLIENT, 40000, "10.77.0.100", 80, TCP_SYN);
	memcpy(f, g, 12); /* insert an 802.1Q tag (VLAN 7) */
	fr_put16(f + 12, 0x8100);
	fr_put16(f + 14, 7);
	memcpy(f + 16, g + 12, len - 12);
	expect_pass(dr, f, len + 4, "pass_vlan");
	len = fr_tcp6(f, "fd77::2", 40000, "fd77::100", 80, TCP_SYN);
	f[FR_ETH_LEN + 6] = 0; /* hop-by-hop options first */
	expect_pass(dr, f, len, "pass_ipv6_ext");
	f[FR_ETH_LEN + 6] = 17;
	expect_pass(dr, f, len, "pass_not_tcp");
	expect_pass(dr, f, FR_ETH_LEN + 39, "pass_short_ip");
}

/* IPv4 options are legal: the TCP header is found after them, the frame forwarded. */
static void test_ip_options_forwarded(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	uint8_t f[FR_MAX], g[FR_MAX], out[FR_MAX];
	size_t len = fr_tcp4(g, CLIENT, 40000, "10.77.0.100", 80, TCP_SYN);

	memcpy(f, g, FR_ETH_LEN + FR_IP4_LEN);
	f[FR_ETH_LEN] = 0x46; /* IHL 6 */
	fr_put16(f + FR_ETH_LEN + 2, 44);
	memset(f + FR_ETH_LEN + FR_IP4_LEN, 1, 4); /* four NOP options */
	memcpy(f + FR_ETH_LEN + 24, g + FR_ETH_LEN + FR_IP4_LEN, FR_TCP_LEN);
	assert_int_equal(fr_run(dr, f, len + 4, out, NULL), XDP_TX);
	assert_int_equal(stat(dr, "new_flow"), 1);
	/* ... and it is the same flow as without options (ports read at the right place). */
	assert_int_equal(fr_run(dr, g, len, out, NULL), XDP_TX);
	assert_int_equal(stat(dr, "new_flow"), 1);
}

static void test_weight0_keeps_established(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real r[2] = { real("10.77.0.11", mac_r1, 0), real("10.77.0.12", mac_r2, 1) };
	int first[64];
	uint64_t r1_new;

	for (int p = 0; p < 64; p++)
		first[p] = send4(dr, CLIENT, 42000 + p, TCP_SYN);
	set_reals(dr, VIP, r, 2); /* drain r1 */
	r1_new = rstats(dr, VIP, "10.77.0.11").new_flows;
	assert_true(r1_new > 0);
	for (int p = 0; p < 64; p++) /* established flows: unchanged */
		assert_int_equal(send4(dr, CLIENT, 42000 + p, TCP_ACK), first[p]);
	for (int p = 0; p < 500; p++) /* new flows: never r1 */
		assert_int_equal(send4(dr, CLIENT, 50000 + p, TCP_SYN), 2);
	assert_int_equal(rstats(dr, VIP, "10.77.0.11").new_flows, r1_new);
	assert_int_equal(stat(dr, "resched_removed_real"), 0);
}

/* Documented policy: a removed real's flows are rescheduled (counted), not dropped. */
static void test_removed_real_rescheduled(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real only2[1] = { real("10.77.0.12", mac_r2, 1) };
	struct albm_addr v, r1;
	struct dr_real_stats st;
	int on1 = -1;

	for (int p = 0; p < 64 && on1 < 0; p++)
		if (send4(dr, CLIENT, 43000 + p, TCP_SYN) == 1)
			on1 = 43000 + p;
	assert_true(on1 > 0);
	set_reals(dr, VIP, only2, 1);
	v = addr(VIP);
	r1 = addr("10.77.0.11");
	assert_int_equal(dr_read_real_stats(dr, &v, &r1, &st), -ENOENT); /* gone */
	assert_int_equal(send4(dr, CLIENT, on1, TCP_ACK), 2);
	assert_int_equal(stat(dr, "resched_removed_real"), 1);
	assert_int_equal(send4(dr, CLIENT, on1, TCP_ACK), 2); /* pinned again, to r2 */
	assert_int_equal(stat(dr, "resched_removed_real"), 1);
	assert_int_equal(rstats(dr, VIP, "10.77.0.12").new_flows, 1);
}

/* A removed real's index given to a new real: old flows must not follow it there. */
static void test_index_reuse_does_not_inherit_flows(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real only2[1] = { real("10.77.0.12", mac_r2, 1) };
	struct dr_real r3[2] = { real("10.77.0.12", mac_r2, 0), real("10.77.0.13", mac_r3, 1) };
	int on1 = -1;

	for (int p = 0; p < 64 && on1 < 0; p++)
		if (send4(dr, CLIENT, 44000 + p, TCP_SYN) == 1)
			on1 = 44000 + p;
	assert_true(on1 > 0);
	set_reals(dr, VIP, only2, 1);
	set_reals(dr, VIP, r3, 2);
	assert_int_equal(r3[1].index, 1); /* r3 got r1's freed index (the lowest free) */
	/* r1's flow is rescheduled; the only real with weight is r3 */
	assert_int_equal(send4(dr, CLIENT, on1, TCP_ACK), 3);
	assert_int_equal(stat(dr, "resched_removed_real"), 1);
}

/* A client that reuses the ports of a flow it closed opens a new connection: its SYN
 * is scheduled from the current table (IPVS conn_reuse_mode), not sent after the old
 * flow to a drained real; a SYN on an open flow (a retransmission) stays pinned. */
static void test_syn_on_closed_flow_rescheduled(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real r[2] = { real("10.77.0.11", mac_r1, 1), real("10.77.0.12", mac_r2, 1) };
	struct dr_real drain1[2] = { real("10.77.0.11", mac_r1, 0), real("10.77.0.12", mac_r2, 1) };
	int open1 = -1, closed1 = -1;
	uint64_t r2_new;

	set_reals(dr, VIP, r, 2);
	for (int p = 0; p < 128 && (open1 < 0 || closed1 < 0); p++) {
		if (send4(dr, CLIENT, 47000 + p, TCP_SYN) != 1)
			continue;
		if (open1 < 0)
			open1 = 47000 + p;
		else
			closed1 = 47000 + p;
	}
	assert_true(open1 > 0 && closed1 > 0);
	r2_new = rstats(dr, VIP, "10.77.0.12").new_flows;
	assert_int_equal(send4(dr, CLIENT, closed1, TCP_FIN | TCP_ACK), 1);
	set_reals(dr, VIP, drain1, 2);
	assert_int_equal(send4(dr, CLIENT, closed1, TCP_ACK), 1); /* late ACK: still pinned */
	assert_int_equal(send4(dr, CLIENT, open1, TCP_SYN), 1);   /* SYN retransmission */
	assert_int_equal(send4(dr, CLIENT, closed1, TCP_SYN), 2); /* port reused: new flow */
	assert_int_equal(send4(dr, CLIENT, closed1, TCP_ACK), 2); /* ... pinned to r2 */
	assert_int_equal(rstats(dr, VIP, "10.77.0.12").new_flows, r2_new + 1);
}

static void test_no_real_drops(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct dr_real zero[2] = { real("10.77.0.11", mac_r1, 0), real("10.77.0.12", mac_r2, 0) };
	uint8_t f[FR_MAX], out[FR_MAX];
	size_t len = fr_tcp4(f, CLIENT, 45000, "10.77.0.100", 80, TCP_SYN);

	set_reals(dr, VIP, zero, 2);
	assert_int_equal(fr_run(dr, f, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(dr, "drop_no_real"), 1);
	set_reals(dr, VIP, NULL, 0);
	assert_int_equal(fr_run(dr, f, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(dr, "drop_no_real"), 2);
	assert_int_equal(stat(dr, "tx"), 0);
}

static void test_fin_counts_closed_once(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	int r = send4(dr, CLIENT, 46000, TCP_SYN);
	const char *ip = r == 1 ? "10.77.0.11" : "10.77.0.12";

	assert_int_equal(send4(dr, CLIENT, 46000, TCP_ACK), r);
	assert_int_equal(rstats(dr, VIP, ip).closed_flows, 0);
	assert_int_equal(send4(dr, CLIENT, 46000, TCP_FIN | TCP_ACK), r);
	assert_int_equal(send4(dr, CLIENT, 46000, TCP_FIN | TCP_ACK), r); /* retransmitted */
	assert_int_equal(send4(dr, CLIENT, 46000, TCP_RST), r);
	assert_int_equal(rstats(dr, VIP, ip).closed_flows, 1);
	assert_int_equal(rstats(dr, VIP, ip).new_flows, 1);
	/* a flow first seen with its RST (table entry lost) is new and closed at once */
	r = send4(dr, CLIENT, 46001, TCP_RST);
	ip = r == 1 ? "10.77.0.11" : "10.77.0.12";
	assert_int_equal(rstats(dr, VIP, ip).closed_flows, rstats(dr, VIP, ip).new_flows);
}

static void test_ipv6_vip(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct albm_addr v = addr("[fd77::100]:443");
	struct dr_real r[1] = { real("fd77::11", mac_r3, 5) };
	uint8_t f[FR_MAX], out[FR_MAX];
	char err[256];
	size_t len;

	assert_int_equal(dr_add_vip(dr, &v, err, sizeof(err)), 0);
	set_reals(dr, "[fd77::100]:443", r, 1);
	len = fr_tcp6(f, "fd77::2", 40000, "fd77::100", 443, TCP_SYN);
	assert_int_equal(fr_run(dr, f, len, out, NULL), XDP_TX);
	assert_memory_equal(out, mac_r3, 6);
	assert_memory_equal(out + 6, fr_own_mac, 6);
	assert_memory_equal(out + 12, f + 12, len - 12);
	assert_int_equal(rstats(dr, "[fd77::100]:443", "fd77::11").new_flows, 1);
	/* the v4 VIP is unaffected, and removing the v6 VIP passes its traffic again */
	assert_int_equal(dr_del_vip(dr, &v, err, sizeof(err)), 0);
	expect_pass(dr, f, len, "pass_not_vip");
}

static void test_api_errors(void **state)
{
	struct albm_dr *dr = NEED_DR(state);
	struct albm_addr v = addr(VIP), other = addr("10.77.0.99:80");
	struct dr_real bad[2];
	char err[256];

	err[0] = '\0';
	assert_int_equal(dr_add_vip(dr, &v, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "10.77.0.100:80"));
	assert_int_equal(dr_set_reals(dr, &other, NULL, 0, err, sizeof(err)), -ENOENT);
	bad[0] = real("fd77::11", mac_r1, 1); /* wrong family */
	assert_int_equal(dr_set_reals(dr, &v, bad, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fd77::11"));
	bad[0] = real("10.77.0.11", mac_r1, 1);
	bad[1] = real("10.77.0.11", mac_r2, 1); /* twice */
	assert_int_equal(dr_set_reals(dr, &v, bad, 2, err, sizeof(err)), -EINVAL);
	bad[1] = real("10.77.0.13", (const uint8_t[6]){ 0 }, 1); /* no MAC */
	assert_int_equal(dr_set_reals(dr, &v, bad, 2, err, sizeof(err)), -EINVAL);
	bad[1] = real("10.77.0.13", (const uint8_t[6]){ 0x01, 0, 0x5e, 0, 0, 1 }, 1);
	assert_int_equal(dr_set_reals(dr, &v, bad, 2, err, sizeof(err)), -EINVAL);
	assert_int_equal(dr_stat_id("no_such_counter"), -ENOENT);
	assert_int_equal(
		dr_resolve_mac("albm-nosuchif", &other, (uint8_t[6]){ 0 }, 10, err, sizeof(err)),
		-ENODEV);
	assert_non_null(strstr(err, "albm-nosuchif"));
	/* after the failed calls the VIP still forwards to its two reals */
	assert_true(send4(dr, CLIENT, 47000, TCP_SYN) >= 1);
}

static void test_counter_names(void **state)
{
	(void)state;
	assert_true(dr_stat_count() >= 15);
	for (size_t i = 0; i < dr_stat_count(); i++) {
		assert_non_null(dr_stat_name(i));
		assert_int_equal(dr_stat_id(dr_stat_name(i)), (int)i);
	}
	assert_null(dr_stat_name(dr_stat_count()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test_setup_teardown(test_syn_rewritten_and_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_keeps_its_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights_share_new_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_vip_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_and_ipv6_ext_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_options_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weight0_keeps_established, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_real_rescheduled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_reuse_does_not_inherit_flows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_real_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_counts_closed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_on_closed_flow_rescheduled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_vip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
