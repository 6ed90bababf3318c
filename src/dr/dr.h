/* ALBM: Direct Routing data plane — load the XDP program, manage VIPs, reals and counters */
#ifndef ALBM_DR_DR_H
#define ALBM_DR_DR_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

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
};

/*
 * Load the program and attach it to ifname (through a BPF link: it is detached
 * when the process exits, even after a crash).  Fails with -EBUSY when another
 * XDP program is attached there.  Returns NULL with err filled on failure.
 */
struct albm_dr *dr_open(const char *ifname, const struct dr_opts *opts, char *err,
			size_t errlen);
/* Load without attaching (tests, benchmarks): run frames with dr_prog_fd(). */
struct albm_dr *dr_open_detached(const struct dr_opts *opts, char *err, size_t errlen);
/* Detach, free the maps and dr itself.  NULL is ignored. */
void dr_close(struct albm_dr *dr);
/* The XDP program's fd (for BPF_PROG_TEST_RUN); the interface's index (0: detached). */
int dr_prog_fd(const struct albm_dr *dr);
int dr_ifindex(const struct albm_dr *dr);

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
int dr_set_reals(struct albm_dr *dr, const struct albm_addr *vip, struct dr_real *reals,
		 size_t n, char *err, size_t errlen);

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

/* Forget every pinned flow (tests; a restart of the service). */
int dr_flush_conns(struct albm_dr *dr);

#endif
