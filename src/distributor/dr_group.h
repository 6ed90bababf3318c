/* ALBM: the DR plane's side of an ha group, as the group (ha.c) calls it */
#ifndef ALBM_DISTRIBUTOR_DR_GROUP_H
#define ALBM_DISTRIBUTOR_DR_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "distributor/daemon.h"
#include "dr/dr.h"
#include "proto/sync.h"

/* What became of a peer's flow (albm_ha_flows_installed_total, _refused_total). */
enum drd_install {
	DRD_INSTALLED = 0,  /* in the peers' map: followed if it reaches us unpinned */
	DRD_UNKNOWN_VIP,    /* not a VIP of a running DR service here */
	DRD_UNKNOWN_REAL,   /* the real is not in that service's set here */
	DRD_INSTALL_FAILED, /* the map update failed (logged) */
	DRD_INSTALL__COUNT
};
const char *drd_install_name(enum drd_install r);

/* All with d->lock held. */

/* What the XDP programs loaded with flow sync published and lost (ring full), summed. */
void drd_group_ring_stats(struct albmd *d, struct dr_sync_stats *sum);

/* A peer's datagram of flows f[0..n): each into the peers' map of the service of its
 * VIP (one system call per service); counts[outcome] += 1 per flow. */
void drd_group_install(struct albmd *d, const struct albm_sync_flow *f, size_t n,
		       uint64_t counts[DRD_INSTALL__COUNT]);
/* This distributor's tables for a heartbeat: the group's DR services with a table
 * (VIP, the boundary its weights were taken at, digest); at most max, returns how many. */
size_t drd_group_tables(struct albmd *d, struct albm_sync_table *out, size_t max);
/* Compare a peer's table with ours: 0 with *equal and the service's name, -ENOENT
 * when the VIP is not a group service here or has no table yet, -EINVAL. */
int drd_group_compare(struct albmd *d, const struct albm_sync_table *t, bool *equal,
		      const char **service);

#endif
