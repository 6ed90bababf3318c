/* ALBM fuzz target: arbitrary frames through the DR XDP program (BPF_PROG_TEST_RUN; needs root) */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "common/addr.h"
#include "dr/dr.h"
#include "../lib/xdp_frames.h"

/*
 * The verifier already proves memory safety; this checks the program's contract
 * on whatever the fuzzer makes of the seeds (VIP SYNs v4/v6, ARP, fragments...):
 *   - the action is XDP_PASS or XDP_TX (every real has a weight: no drop reason);
 *   - XDP_PASS leaves the frame byte for byte as it was;
 *   - XDP_TX only for an untagged IPv4/IPv6 frame addressed to a VIP, with the
 *     destination MAC of a real, our own source MAC and everything after the MACs
 *     untouched;
 *   - flow sync is on: a flow event comes only with an XDP_TX, at most one per frame,
 *     and names the VIP the frame was sent to and one of that VIP's reals.
 * Without the privilege to load BPF every input is accepted as is.
 */

static const uint8_t real_mac[2][6] = { { 0x02, 0x5e, 0, 0, 0, 0x11 },
					{ 0x02, 0x5e, 0, 0, 0, 0x12 } };

static int add(struct albm_dr *dr, const char *vip, const char *ip0, const char *ip1)
{
	struct dr_real r[2];
	struct albm_addr v;
	char err[256];

	memset(r, 0, sizeof(r));
	if (albm_addr_parse(vip, &v, err, sizeof(err)) < 0 ||
	    dr_add_vip(dr, &v, err, sizeof(err)) < 0 ||
	    albm_addr_parse_host(ip0, &r[0].addr, err, sizeof(err)) < 0 ||
	    albm_addr_parse_host(ip1, &r[1].addr, err, sizeof(err)) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		memcpy(r[i].mac, real_mac[i], 6);
		r[i].weight = 1 + i;
	}
	return dr_set_reals(dr, &v, r, 2, err, sizeof(err));
}

static struct albm_dr *fuzz_dr(void)
{
	static struct albm_dr *dr;
	static int tried;
	struct dr_opts o = { .conn_max = 1024, .flow_sync = true, .flow_ring = 4096 };
	char err[256];

	if (tried)
		return dr;
	tried = 1;
	memcpy(o.own_mac, fr_own_mac, 6);
	dr = dr_open_detached(&o, err, sizeof(err));
	if (dr && (add(dr, "10.77.0.100:80", "10.77.0.11", "10.77.0.12") < 0 ||
		   add(dr, "[fd77::100]:80", "fd77::11", "fd77::12") < 0))
		abort();
	return dr;
}

/* The frame is an untagged IPv4/IPv6 frame to one of the two VIP addresses. */
static int to_vip(const uint8_t *f, size_t len)
{
	static const uint8_t v4[4] = { 10, 77, 0, 100 };
	static const uint8_t v6[16] = { 0xfd, 0x77, [15] = 0x00 };

	if (len >= 34 && f[12] == 0x08 && f[13] == 0x00)
		return memcmp(f + 30, v4, 4) == 0;
	if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd)
		return memcmp(f + 38, v6, 14) == 0 && f[52] == 0x01 && f[53] == 0x00;
	return 0;
}

/* Every event of this frame: a VIP and one of its reals, both of the frame's family. */
static void on_flow(const struct dr_flow *f, void *ctx)
{
	char vip[ALBM_ADDRSTRLEN], real[ALBM_ADDRSTRLEN];

	++*(int *)ctx;
	albm_addr_format(&f->vip, vip, sizeof(vip));
	albm_addr_format_host(&f->real, real, sizeof(real));
	if (strcmp(vip, "10.77.0.100:80") == 0 &&
	    (strcmp(real, "10.77.0.11") == 0 || strcmp(real, "10.77.0.12") == 0))
		return;
	if (strcmp(vip, "[fd77::100]:80") == 0 &&
	    (strcmp(real, "fd77::11") == 0 || strcmp(real, "fd77::12") == 0))
		return;
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct albm_dr *dr = fuzz_dr();
	uint8_t out[FR_MAX];
	uint32_t olen = 0;
	int act, events = 0;

	if (!dr || size < FR_ETH_LEN || size > FR_MAX)
		return 0;
	act = fr_run(dr, data, size, out, &olen);
	if (act < 0 || olen != size)
		abort();
	if (act == XDP_PASS) {
		if (memcmp(out, data, size) != 0)
			abort();
	} else if (act == XDP_TX) {
		if (!to_vip(data, size) || memcmp(out + 6, fr_own_mac, 6) != 0 ||
		    memcmp(out + 12, data + 12, size - 12) != 0 ||
		    (memcmp(out, real_mac[0], 6) != 0 && memcmp(out, real_mac[1], 6) != 0))
			abort();
	} else {
		abort();
	}
	if (dr_flow_drain(dr, on_flow, &events) < 0 || events > 1 || (events && act != XDP_TX))
		abort();
	return 0;
}
