/* ALBM: Direct Routing data plane — load the XDP program, manage VIPs, reals and counters */
#ifndef ALBM_DR_DR_H
#define ALBM_DR_DR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "dr/dr-t.h"

/*
 * User space decides, XDP executes.  One struct albm_dr is the XDP program on one
 * interface with its own maps.  The caller (albmd's data plane) tells it, per VIP,
 * the set of reals with their MAC and current table weight; the library turns that
 * into a weighted Maglev lookup table the program hashes new flows into.
 * Established flows stay on their real (LRU connection table) while its weight
 * changes or drops to 0; when a real is removed from the set its flows are
 * rescheduled (docs/dr.md).  Every function returns 0 or -errno and, where given,
 * fills err with one line naming what failed.  Not thread-safe: one owner thread.
 */

struct albm_dr;

enum dr_mode {
	DR_MODE_GENERIC = 0, /* skb mode: works on every device; the default on veth */
	DR_MODE_NATIVE,      /* driver mode: real NICs (a veth also needs a peer program) */
};

struct dr_opts {
	enum dr_mode mode;
	uint32_t conn_max;  /* connection table entries; 0 = ALBM_CONN_MAX */
	uint8_t own_mac[6]; /* dr_open_detached only: the source MAC to write */
	bool flow_sync;     /* publish each new flow (dr_flow_drain); off: no cost at all */
	uint32_t flow_ring; /* bytes of the flow-event ring; 0 = ALBM_FLOW_RING (256 KiB) */
};

/*
 * Load the program and attach it to ifname (through a BPF link: it is detached
 * when the process exits, even after a crash).  Fails with -EBUSY when another
 * XDP program is attached there.  Returns NULL with err filled on failure.
 */
struct albm_dr *dr_open(const char *ifname, const struct dr_opts *opts, char *err, size_t errlen);
/* Load without attaching (tests, benchmarks): run frames with dr_prog_fd(). */
struct albm_dr *dr_open_detached(const struct dr_opts *opts, char *err, size_t errlen);
/* Detach, free the maps and dr itself.  NULL is ignored. */
void dr_close(struct albm_dr *dr);
/* The XDP program's fd (for BPF_PROG_TEST_RUN); the interface's index (0: detached). */
int dr_prog_fd(const struct albm_dr *dr);
int dr_ifindex(const struct albm_dr *dr);
/* Is the program still attached where dr_open put it?  1, 0 (detached: e.g. the
 * interface was deleted, or never attached), or -errno. */
int dr_attached(struct albm_dr *dr);

/* Add a TCP service address (VIP and port, IPv4 or IPv6); it drops every packet
 * until dr_set_reals gives it reals.  -EEXIST, -ENOSPC (ALBM_MAX_VIPS). */
int dr_add_vip(struct albm_dr *dr, const struct albm_addr *vip, char *err, size_t errlen);
/* Remove a VIP: its traffic goes to the kernel again; its reals are freed. */
int dr_del_vip(struct albm_dr *dr, const struct albm_addr *vip, char *err, size_t errlen);

/* One real server of a VIP as dr_set_reals takes it. */
struct dr_real {
	struct albm_addr addr; /* identity of the real (same family as the VIP; port ignored) */
	uint8_t mac[6];        /* its MAC on the segment (dr_resolve_mac) */
	uint32_t weight;       /* table weight: share of new flows; 0 = none (drained) */
	uint32_t index;        /* out: its index in the data plane (1..ALBM_MAX_REALS-1) */
};

/*
 * Make reals[0..n) the VIP's complete set: new reals get an index, known ones
 * (same address) keep theirs, reals missing from the set are removed (their
 * flows are rescheduled), and the lookup table is rebuilt from the weights and
 * switched atomically.  reals[i].index is filled in.  A rejected set (bad family,
 * MAC, duplicate, no free index: -EINVAL/-E2BIG/-ENOSPC) changes nothing; a failing
 * map update (should not happen) can leave part of the set applied: call again.
 */
int dr_set_reals(struct albm_dr *dr, const struct albm_addr *vip, struct dr_real *reals, size_t n,
		 char *err, size_t errlen);

/*
 * Find ip's MAC in ifname's neighbour table; when it is not there (or stale
 * resolution failed) ask the kernel to resolve it (ARP / neighbour solicitation)
 * and wait up to timeout_ms.  -EHOSTUNREACH with a message when it cannot be
 * resolved (not on the segment, down), -ENODEV for an unknown interface.
 */
int dr_resolve_mac(const char *ifname, const struct albm_addr *ip, uint8_t mac[6],
		   unsigned timeout_ms, char *err, size_t errlen);

/* ---- counters ---- */

/* The global counters: pass and drop reasons and totals, by name. */
size_t dr_stat_count(void);
const char *dr_stat_name(size_t id); /* "tx", "pass_not_vip", ...; NULL past the end */
int dr_stat_id(const char *name);    /* id, or -ENOENT */
/* Read all global counters (summed over CPUs) into vals[0..n); n <= dr_stat_count(). */
int dr_read_stats(struct albm_dr *dr, uint64_t *vals, size_t n);
/* One counter by name. */
int dr_read_stat(struct albm_dr *dr, const char *name, uint64_t *val);

struct dr_real_stats {
	uint64_t pkts;         /* frames forwarded to the real */
	uint64_t bytes;        /* their bytes (Ethernet header included) */
	uint64_t new_flows;    /* flows scheduled to it */
	uint64_t closed_flows; /* of those, flows whose client sent FIN or RST */
};
/* Counters of one real of one VIP since it was added; -ENOENT if not there. */
int dr_read_real_stats(struct albm_dr *dr, const struct albm_addr *vip,
		       const struct albm_addr *real, struct dr_real_stats *out);

/* Forget every pinned flow, and the peers' (tests; a restart of the service). */
int dr_flush_conns(struct albm_dr *dr);

/*
 * A fingerprint of the VIP's active lookup table: SHA-256 over the real ADDRESS of
 * every slot (indices are local to one distributor).  Two distributors fed the same
 * set of (address, weight) have equal digests; peers can compare them (docs/ha.md).
 * -ENOENT for an unknown VIP.
 */
int dr_table_digest(struct albm_dr *dr, const struct albm_addr *vip, uint8_t digest[32]);

/* ---- flow-state sync (docs/ha.md): new flows out, peers' flows in ---- */

/* struct dr_flow and dr_flow_cb: dr-t.h */

/* The ring buffer's fd to watch for readability (epoll), or -1 when sync is off. */
int dr_flow_fd(const struct albm_dr *dr);
/* Hand every flow the program published since the last call to cb; returns how many
 * (0 when sync is off) or -errno.  Never blocks. */
int dr_flow_drain(struct albm_dr *dr, dr_flow_cb cb, void *ctx);
/* Same, waiting up to timeout_ms for the first one (tools and tests). */
int dr_flow_poll(struct albm_dr *dr, dr_flow_cb cb, void *ctx, int timeout_ms);

/*
 * Remember a flow learnt from a peer: flow->real is mapped to THIS distributor's index
 * of that real for flow->vip and written to the peers' map, which the program looks at
 * only for a packet whose flow is not pinned here (counted: sync_hit) — so the local
 * decision always wins, because it is already forwarding that flow's packets, and a
 * closed or stale local entry gives way to the peer's.  -ENOENT (counted:
 * unknown_vip / unknown_real) when the VIP or the real is not ours.
 */
int dr_flow_install(struct albm_dr *dr, const struct dr_flow *flow, char *err, size_t errlen);
/* The same for flow[0..n) in one system call where it can (a peer's datagram of flows):
 * rcs[i] is what dr_flow_install would have returned for flow i.  Returns 0. */
int dr_flow_install_many(struct albm_dr *dr, const struct dr_flow *flow, size_t n, int *rcs);

/* What sync did in this process: struct dr_sync_stats (dr-t.h). */
int dr_sync_stats(struct albm_dr *dr, struct dr_sync_stats *out);

#endif
