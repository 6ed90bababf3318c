/* ALBM: every map of the XDP data plane, one comment each */
#ifndef ALBM_BPF_ALBM_MAPS_H
#define ALBM_BPF_ALBM_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "albm_shared.h"

/* VIP:port:proto -> active lookup table.  Written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALBM_MAX_VIPS);
	__type(key, struct albm_vip_key);
	__type(value, struct albm_vip);
} albm_vips SEC(".maps");

/*
 * The lookup tables, ALBM_TABLES of ALBM_TABLE_SIZE slots each, flattened:
 * slot s of table t is element t * ALBM_TABLE_SIZE + s.  A slot holds a real
 * index (0 = no real: drop).  User space fills a table that no VIP points to,
 * then flips the VIP to it, so a packet never sees a half-written table.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALBM_TABLES *ALBM_TABLE_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} albm_tables SEC(".maps");

/* Real index -> MAC, validity and generation.  Written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALBM_MAX_REALS);
	__type(key, __u32);
	__type(value, struct albm_real);
} albm_reals SEC(".maps");

/* 5-tuple -> pinned real: established flows keep their server.  Written by XDP;
 * the least recently used flows make room for new ones.  max_entries is set by
 * the loader (ALBM_CONN_MAX by default). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ALBM_CONN_MAX);
	__type(key, struct albm_flow_key);
	__type(value, struct albm_conn);
} albm_conns SEC(".maps");

/* 5-tuple -> the real a PEER distributor pinned the flow to (flow sync: written by
 * user space, dr_flow_install).  Looked at only when a packet's flow is not in
 * albm_conns: this distributor's own decision always wins, and user space can write
 * a peer's datagram of flows in one batch without looking at albm_conns first.  The
 * entry names this distributor's index and generation of that real.  max_entries is
 * set by the loader (as albm_conns; 1 with sync off). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ALBM_CONN_MAX);
	__type(key, struct albm_flow_key);
	__type(value, struct albm_conn);
} albm_peer_conns SEC(".maps");

/* Global counters by enum albm_stat, per CPU (no atomics on the hot path). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALBM_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} albm_stats SEC(".maps");

/* Per-real counters by real index, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALBM_MAX_REALS);
	__type(key, __u32);
	__type(value, struct albm_real_stats);
} albm_real_stats SEC(".maps");

/* New-flow events for flow-state sync (struct albm_flow_event), consumed by user
 * space (dr_flow_drain).  max_entries (bytes) is set by the loader; the program only
 * writes here when albm_sync_enabled, and counts ALBM_STAT_SYNC_LOST when it is full. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ALBM_FLOW_RING);
} albm_flow_events SEC(".maps");

#endif
