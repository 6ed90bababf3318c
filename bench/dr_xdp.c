/* ALBM benchmark: packets/s of the DR XDP program on one core (BPF_PROG_TEST_RUN, SYN-sized frames)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "common/addr.h"
#include "common/util.h"
#include "dr/dr.h"
#include "proto/sync.h"
#include "../tests/lib/xdp_frames.h"

/*
 * The kernel runs the program `repeat` times on one frame and reports the mean time
 * per run (no syscall in it), on the CPU we are pinned to.  Three paths:
 *   established  a flow already in the connection table (the common case);
 *   new flow     hash + table lookup + connection insert: distinct SYNs, one run each;
 *   pass         TCP to an address that is not a VIP (parse, VIP miss, XDP_PASS).
 * Usage: dr_xdp [REPEAT]   (default 2000000)
 */

#define NEW_FLOWS 20000

static int run_repeat(struct albm_dr *dr, const uint8_t *f, size_t len, uint32_t repeat, int want,
		      double *ns)
{
	uint8_t out[FR_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	int rc = bpf_prog_test_run_opts(dr_prog_fd(dr), &o);

	if (rc < 0)
		return rc;
	if ((int)o.retval != want)
		return -EPROTO;
	*ns = o.duration; /* mean ns per run, measured by the kernel */
	return 0;
}

/* Mean ns of NEW_FLOWS distinct SYNs, each run once: the first pass takes the
 * new-flow path, a second pass over the same frames the established path with the
 * same per-run overhead (timer, frame setup), so the two can be compared. */
static int run_new_flows(struct albm_dr *dr, double *ns)
{
	uint8_t f[FR_MAX];
	char src[32];
	double sum = 0, one;
	int rc;

	for (int i = 0; i < NEW_FLOWS; i++) {
		snprintf(src, sizeof(src), "10.%d.%d.%d", 100 + i / 65536, (i / 256) % 256,
			 i % 256);
		size_t len = fr_tcp4(f, src, 1024 + i % 60000, "10.77.0.100", 80, TCP_SYN);

		rc = run_repeat(dr, f, len, 1, XDP_TX, &one);
		if (rc < 0)
			return rc;
		sum += one;
	}
	*ns = sum / NEW_FLOWS;
	return 0;
}

static void report(const char *what, double ns)
{
	printf("  %-34s %8.1f ns/pkt  %6.2f Mpps\n", what, ns, ns > 0 ? 1e3 / ns : 0);
}

static struct albm_dr *setup(bool sync, char *err, size_t errlen)
{
	struct dr_opts o = { .conn_max = 65536, .flow_sync = sync, .flow_ring = 4u << 20 };
	struct dr_real reals[4];
	struct albm_addr vip;
	struct albm_dr *dr;

	memcpy(o.own_mac, fr_own_mac, 6);
	dr = dr_open_detached(&o, err, errlen);
	if (!dr)
		return NULL;
	albm_addr_parse("10.77.0.100:80", &vip, err, errlen);
	memset(reals, 0, sizeof(reals));
	for (int i = 0; i < 4; i++) {
		char ip[16];

		snprintf(ip, sizeof(ip), "10.77.0.%d", 11 + i);
		albm_addr_parse_host(ip, &reals[i].addr, err, errlen);
		memcpy(reals[i].mac, (uint8_t[6]){ 0x02, 0x5e, 0, 0, 0, (uint8_t)(0x11 + i) }, 6);
		reals[i].weight = 1 + i;
	}
	if (dr_add_vip(dr, &vip, err, errlen) < 0 ||
	    dr_set_reals(dr, &vip, reals, 4, err, errlen) < 0) {
		dr_close(dr);
		return NULL;
	}
	return dr;
}

/* Flow sync: collect the drained flows and encode them as the sync protocol would. */
struct sync_batch {
	struct albm_sync_flow f[NEW_FLOWS];
	size_t n;
};

static void on_flow(const struct dr_flow *fl, void *ctx)
{
	struct sync_batch *b = ctx;
	struct albm_sync_flow *o = &b->f[b->n++ % NEW_FLOWS];

	o->family = AF_INET;
	o->sport = (uint16_t)albm_addr_port(&fl->client);
	o->dport = (uint16_t)albm_addr_port(&fl->vip);
	memcpy(o->saddr, &fl->client.u.sin.sin_addr, 4);
	memcpy(o->daddr, &fl->vip.u.sin.sin_addr, 4);
	memcpy(o->raddr, &fl->real.u.sin.sin_addr, 4);
}

/* The same new-flow runs with sync on (the program publishes each flow), then the user
 * space half: drain the ring and encode the flows into signed datagrams. */
static int bench_sync(double est)
{
	static struct sync_batch b;
	static const uint8_t key[ALBM_KEY_LEN];
	struct albm_sync_hdr h = { .sender = 1, .epoch = 1 };
	uint8_t buf[ALBM_SYNC_MAX];
	double fresh, again, t0, drain_ns, enc_ns;
	size_t used, done = 0, msgs = 0;
	struct albm_dr *dr;
	char err[256];

	dr = setup(true, err, sizeof(err));
	if (!dr || run_new_flows(dr, &fresh) < 0) {
		printf("dr_xdp: sync run failed: %s\n", dr ? "test run" : err);
		dr_close(dr);
		return 1;
	}
	t0 = (double)albm_now_ns();
	dr_flow_drain(dr, on_flow, &b);
	drain_ns = (double)albm_now_ns() - t0;
	if (run_new_flows(dr, &again) < 0) { /* established: nothing published */
		dr_close(dr);
		return 1;
	}
	t0 = (double)albm_now_ns();
	while (done < b.n) {
		h.seq++;
		int len =
			albm_sync_encode(&h, b.f + done, b.n - done, key, buf, sizeof(buf), &used);

		if (len < 0)
			break;
		done += used;
		msgs++;
	}
	enc_ns = (double)albm_now_ns() - t0;
	report("new flow with sync (XDP_TX), est.", est + fresh - again);
	printf("  sync, user space: %zu flows drained in %.0f us, encoded into %zu datagrams in "
	       "%.0f us: %.1f us per 1000 new flows\n",
	       b.n, drain_ns / 1e3, msgs, enc_ns / 1e3,
	       (drain_ns + enc_ns) / 1e3 / (double)b.n * 1000);
	dr_close(dr);
	return b.n == NEW_FLOWS && done == b.n ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint32_t repeat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000000;
	uint8_t f[FR_MAX];
	char err[256];
	cpu_set_t cpus;
	double est, fresh, again, pass;
	struct albm_dr *dr;
	size_t len;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus); /* one core; best effort */
	dr = setup(false, err, sizeof(err));
	if (!dr) {
		printf("dr_xdp: skipped: %s\n", err);
		return 0;
	}
	len = fr_tcp4(f, "10.1.2.3", 40000, "10.77.0.100", 80, TCP_SYN);
	if (run_repeat(dr, f, len, repeat, XDP_TX, &est) < 0 || run_new_flows(dr, &fresh) < 0 ||
	    run_new_flows(dr, &again) < 0) {
		printf("dr_xdp: test run failed\n");
		dr_close(dr);
		return 1;
	}
	len = fr_tcp4(f, "10.1.2.3", 40000, "10.77.0.99", 80, TCP_SYN);
	if (run_repeat(dr, f, len, repeat, XDP_PASS, &pass) < 0) {
		printf("dr_xdp: test run failed\n");
		dr_close(dr);
		return 1;
	}
	printf("dr_xdp: %zu-byte TCP SYN frames, BPF_PROG_TEST_RUN on CPU 0 (4 reals, weights 1..4)\n",
	       (size_t)54);
	report("established flow (XDP_TX)", est);
	report("not a VIP (XDP_PASS)", pass);
	/* One run per frame carries a fixed overhead; first run minus second run of the
	 * same distinct frames is the extra cost of scheduling a new flow. */
	report("new flow (XDP_TX), estimated", est + fresh - again);
	printf("  (%d distinct SYNs, one run each: first %.1f ns, again %.1f ns)\n", NEW_FLOWS,
	       fresh, again);
	dr_close(dr);
	return bench_sync(est);
}
