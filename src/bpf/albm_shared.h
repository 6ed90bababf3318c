/* ALBM: the contract between the XDP program and user space — limits, keys, values, counters */
#ifndef ALBM_BPF_ALBM_SHARED_H
#define ALBM_BPF_ALBM_SHARED_H

/*
 * Included by the BPF program and by the src/dr library.  Fixed-width types only, no
 * libc, no pointers, explicit padding: both sides must agree on every byte.
 * Addresses and ports are in network byte order; an IPv4 address lives in addr[0]
 * with addr[1..3] zero.
 */
#include <linux/types.h>

#ifndef ALBM_MAX_VIPS
#define ALBM_MAX_VIPS 32 /* virtual services per interface */
#endif
#ifndef ALBM_MAX_REALS
#define ALBM_MAX_REALS 1024 /* (VIP, real) pairs; index 0 is reserved as "unset" */
#endif
#ifndef ALBM_TABLE_SIZE
#define ALBM_TABLE_SIZE 4099 /* lookup table slots per VIP; prime (Maglev) */
#endif
#ifndef ALBM_CONN_MAX
#define ALBM_CONN_MAX 65536 /* default size of the LRU connection table */
#endif
#ifndef ALBM_FLOW_RING
#define ALBM_FLOW_RING (256 * 1024) /* default bytes of the flow-event ring (sync on) */
#endif
/* Two tables per VIP: user space fills the idle one, then flips albm_vip.table. */
#define ALBM_TABLES (ALBM_MAX_VIPS * 2)

#define ALBM_AF_INET  4
#define ALBM_AF_INET6 6

/* Key of the VIP map: destination address, port and protocol of the service. */
struct albm_vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP */
	__u8 family; /* ALBM_AF_INET / ALBM_AF_INET6 */
};

/* Value of the VIP map. */
struct albm_vip {
	__u32 table; /* active lookup table, 0..ALBM_TABLES-1 */
	__u32 flags; /* reserved, 0 */
};

/* Key of the connection table: the packet's 5-tuple as it arrives. */
struct albm_flow_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

#define ALBM_CONN_F_CLOSED (1u << 0) /* the client sent FIN or RST (counted once) */

/* Value of the connection table: the real the flow is pinned to. */
struct albm_conn {
	__u32 real;  /* index into albm_reals */
	__u32 gen;   /* albm_real.gen when pinned; a mismatch means "removed" */
	__u32 flags; /* ALBM_CONN_F_* */
	__u32 pad;
};

#define ALBM_REAL_F_VALID (1u << 0) /* in service; cleared when user space removes it */

/* One real server of one VIP (the albm_reals array, by index). */
struct albm_real {
	__u8 mac[6];    /* its MAC address on the segment */
	__u16 flags;    /* ALBM_REAL_F_* */
	__u32 gen;      /* bumped each time the index is (re)assigned */
	__be32 addr[4]; /* its IP address: what a flow event names (indices are local) */
};

/*
 * A flow the program has just scheduled, published to user space through the ring
 * buffer albm_flow_events when flow-state sync is on (albm_sync_enabled).  It names
 * the real by address, because real indices are local to one distributor; a peer
 * maps the address back to its own index (dr_flow_install).
 */
struct albm_flow_event {
	struct albm_flow_key key; /* the 5-tuple as it arrived (daddr:dport is the VIP) */
	__be32 real_addr[4];      /* the real it is pinned to (albm_real.addr) */
};

/* Per-real counters (per-CPU array by real index; user space sums the CPUs). */
struct albm_real_stats {
	__u64 pkts;         /* frames forwarded */
	__u64 bytes;        /* their length, Ethernet header included */
	__u64 new_flows;    /* flows scheduled to this real */
	__u64 closed_flows; /* of those, flows whose client sent FIN or RST */
};

/*
 * Global counters (per-CPU array by this enum).  Every XDP_PASS and XDP_DROP has
 * its own reason; the names user space prints are in src/dr/dr.c (dr_stat_name),
 * in this order.
 */
enum albm_stat {
	ALBM_STAT_RX,             /* every frame the program saw */
	ALBM_STAT_TX,             /* forwarded to a real (XDP_TX) */
	ALBM_STAT_NEW_FLOW,       /* flow scheduled from the lookup table */
	ALBM_STAT_RESCHED,        /* flow pinned to a removed real, scheduled again */
	ALBM_STAT_PASS_SHORT_ETH, /* frame shorter than an Ethernet header */
	ALBM_STAT_PASS_VLAN,      /* 802.1Q / 802.1ad tagged: not handled */
	ALBM_STAT_PASS_NOT_IP,    /* ARP, LLDP, any other EtherType */
	ALBM_STAT_PASS_SHORT_IP,  /* truncated IPv4 / IPv6 header */
	ALBM_STAT_PASS_BAD_IP,    /* IPv4 version/IHL < 5/total length inconsistent */
	ALBM_STAT_PASS_FRAGMENT,  /* IPv4 fragment: no ports to match on */
	ALBM_STAT_PASS_IPV6_EXT,  /* IPv6 extension header before TCP: not parsed */
	ALBM_STAT_PASS_NOT_TCP,   /* UDP, ICMP, ... */
	ALBM_STAT_PASS_SHORT_TCP, /* truncated TCP header or data offset < 5 */
	ALBM_STAT_PASS_NOT_VIP,   /* TCP, but not to a configured VIP:port */
	ALBM_STAT_DROP_NO_REAL,   /* VIP has no real with weight > 0 */
	ALBM_STAT_DROP_BAD_REAL,  /* table named an invalid real (update race) */
	ALBM_STAT_DROP_INTERNAL,  /* a map lookup that cannot fail did */
	ALBM_STAT_SYNC_LOST,      /* flow event not published: ring buffer full (sync on) */
	ALBM_STAT_SYNC_HIT,       /* flow not pinned here, continued to the real a peer
				   * pinned it to (sync on, albm_peer_conns) */
	ALBM_STAT__COUNT
};

#endif
