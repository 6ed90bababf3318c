/* ALBM: Direct Routing data plane — match VIP:port, pin the flow to a real, rewrite MACs, XDP_TX */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "albm_maps.h"
#include "albm_shared.h"
#include "parsing.h"

/*
 * User space decides, this program executes (Katran's split).  For a TCP packet to
 * a configured VIP:port it
 *   1. looks the 5-tuple up in albm_conns; a flow whose real is still valid keeps it;
 *   2. otherwise picks slot hash(5-tuple) % ALBM_TABLE_SIZE of the VIP's active
 *      lookup table (filled by user space from the scheduler's weights) and pins
 *      the flow there;
 *   3. rewrites the destination MAC to the real's and the source MAC to this
 *      interface's (so the bridge never learns the client's MAC on our port), and
 *      sends the frame back out with XDP_TX.  IP and TCP are untouched: the real
 *      has the VIP on lo and answers the client directly.
 * Everything else goes to the kernel untouched (XDP_PASS); each pass and each drop
 * increments its own counter in albm_stats.
 */

/* The interface's own MAC, set by the loader before the program is loaded. */
const volatile __u8 albm_own_mac[ETH_ALEN] = {};
/* Flow-state sync: publish each new flow (albm_flow_events).  Read-only data set at
 * load: with 0 the verifier removes the branch, so sync off costs nothing. */
const volatile __u8 albm_sync_enabled = 0;

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&albm_stats, &stat);

	/* NULL only for stat >= ALBM_STAT__COUNT, which no caller passes. */
	if (v)
		*v += 1;
}

static __always_inline int pass(__u32 stat)
{
	count(stat);
	return XDP_PASS;
}

static __always_inline int drop(__u32 stat)
{
	count(stat);
	return XDP_DROP;
}

/* murmur3's 32-bit mixing steps over the ten words of the flow key: cheap, and
 * every input bit reaches every output bit, so "% ALBM_TABLE_SIZE" spreads. */
static __always_inline __u32 hash_flow(const struct albm_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 0x9747b28c, x;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*k) / 4); i++) {
		x = w[i] * 0xcc9e2d51;
		x = (x << 15) | (x >> 17);
		h ^= x * 0x1b873593;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64;
	}
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Parse IPv4 + TCP into key; returns 0 or the albm_stat pass reason. */
static __always_inline __u32 parse_v4(struct hdr_cursor *c, struct albm_flow_key *key,
				      struct tcphdr **tcpp)
{
	struct iphdr *iph;
	struct tcphdr *tcp;
	int bad;

	iph = parse_iphdr(c, &bad);
	if (!iph)
		return bad ? ALBM_STAT_PASS_BAD_IP : ALBM_STAT_PASS_SHORT_IP;
	if (bpf_ntohs(iph->tot_len) < iph->ihl * 4 + sizeof(*tcp) && iph->protocol == IPPROTO_TCP)
		return ALBM_STAT_PASS_BAD_IP;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF or a fragment offset */
		return ALBM_STAT_PASS_FRAGMENT;
	if (iph->protocol != IPPROTO_TCP)
		return ALBM_STAT_PASS_NOT_TCP;
	tcp = parse_tcphdr(c, &bad);
	if (!tcp)
		return ALBM_STAT_PASS_SHORT_TCP;
	key->saddr[0] = iph->saddr;
	key->daddr[0] = iph->daddr;
	key->family = ALBM_AF_INET;
	*tcpp = tcp;
	return 0;
}

/* Parse IPv6 + TCP (no extension headers) into key; 0 or the pass reason. */
static __always_inline __u32 parse_v6(struct hdr_cursor *c, struct albm_flow_key *key,
				      struct tcphdr **tcpp)
{
	struct ipv6hdr *ip6h;
	struct tcphdr *tcp;
	int bad;

	ip6h = parse_ipv6hdr(c, &bad);
	if (!ip6h)
		return bad ? ALBM_STAT_PASS_BAD_IP : ALBM_STAT_PASS_SHORT_IP;
	if (ip6h->nexthdr != IPPROTO_TCP)
		return ipv6_is_ext(ip6h->nexthdr) ? ALBM_STAT_PASS_IPV6_EXT
						  : ALBM_STAT_PASS_NOT_TCP;
	tcp = parse_tcphdr(c, &bad);
	if (!tcp)
		return ALBM_STAT_PASS_SHORT_TCP;
	__builtin_memcpy(key->saddr, &ip6h->saddr, sizeof(key->saddr));
	__builtin_memcpy(key->daddr, &ip6h->daddr, sizeof(key->daddr));
	key->family = ALBM_AF_INET6;
	*tcpp = tcp;
	return 0;
}

/* The real a flow is pinned to, if that real is still in service; else NULL. */
static __always_inline struct albm_real *pinned_real(struct albm_conn *conn)
{
	struct albm_real *real = bpf_map_lookup_elem(&albm_reals, &conn->real);

	/* NULL: index out of range, which user space never writes. */
	if (!real || !(real->flags & ALBM_REAL_F_VALID) || real->gen != conn->gen)
		return NULL;
	return real;
}

/* Pick a real for a new flow from the VIP's table and pin the flow to it.
 * Returns the real and its index, or NULL with *why set to the drop reason. */
static __always_inline struct albm_real *schedule(const struct albm_flow_key *key,
						  const struct albm_vip *vip, __u32 *idx,
						  __u32 *why)
{
	struct albm_conn conn = {};
	struct albm_real *real;
	__u32 slot, *ridx;

	slot = vip->table * ALBM_TABLE_SIZE + hash_flow(key) % ALBM_TABLE_SIZE;
	ridx = bpf_map_lookup_elem(&albm_tables, &slot);
	if (!ridx) { /* vip->table out of range: user space bug */
		*why = ALBM_STAT_DROP_INTERNAL;
		return NULL;
	}
	if (*ridx == 0) { /* no real with weight > 0 */
		*why = ALBM_STAT_DROP_NO_REAL;
		return NULL;
	}
	real = bpf_map_lookup_elem(&albm_reals, ridx);
	if (!real || !(real->flags & ALBM_REAL_F_VALID)) {
		*why = ALBM_STAT_DROP_BAD_REAL;
		return NULL;
	}
	conn.real = *ridx;
	conn.gen = real->gen;
	/* Failure (-ENOMEM under pressure) only costs the pinning: the next packet
	 * hashes to the same slot while the table is unchanged. */
	bpf_map_update_elem(&albm_conns, key, &conn, BPF_ANY);
	*idx = *ridx;
	return real;
}

/* A flow not pinned here that a peer pinned (flow sync): follow the peer's decision,
 * pinned here from now on.  NULL when the peers do not know it either, or its real is
 * no longer in service here. */
static __always_inline struct albm_real *peer_real(const struct albm_flow_key *key, __u32 *idx)
{
	struct albm_conn *peer = bpf_map_lookup_elem(&albm_peer_conns, key);
	struct albm_conn conn = {};
	struct albm_real *real;

	if (!peer)
		return NULL;
	real = pinned_real(peer);
	if (!real)
		return NULL;
	conn.real = peer->real;
	conn.gen = peer->gen;
	bpf_map_update_elem(&albm_conns, key, &conn, BPF_ANY);
	*idx = conn.real;
	return real;
}

/* Tell user space about a flow just scheduled (sync): one ring-buffer record. */
static __always_inline void publish(const struct albm_flow_key *key, const struct albm_real *real)
{
	struct albm_flow_event *ev;

	ev = bpf_ringbuf_reserve(&albm_flow_events, sizeof(*ev), 0);
	if (!ev) { /* full: user space is behind; the peer learns nothing of this flow */
		count(ALBM_STAT_SYNC_LOST);
		return;
	}
	__builtin_memcpy(&ev->key, key, sizeof(ev->key));
	__builtin_memcpy(ev->real_addr, real->addr, sizeof(ev->real_addr));
	bpf_ringbuf_submit(ev, 0);
}

/* Account the packet to its real; a client FIN/RST closes the flow once. */
static __always_inline void count_real(__u32 idx, __u64 len, int is_new, int closing,
				       struct albm_conn *conn)
{
	struct albm_real_stats *st = bpf_map_lookup_elem(&albm_real_stats, &idx);

	if (!st) /* idx < ALBM_MAX_REALS was checked by the albm_reals lookup */
		return;
	st->pkts++;
	st->bytes += len;
	if (is_new)
		st->new_flows++;
	if (closing && conn && !(conn->flags & ALBM_CONN_F_CLOSED)) {
		conn->flags |= ALBM_CONN_F_CLOSED;
		st->closed_flows++;
	}
}

static __always_inline void rewrite_macs(struct ethhdr *eth, const struct albm_real *real)
{
	__builtin_memcpy(eth->h_dest, real->mac, ETH_ALEN);
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		eth->h_source[i] = albm_own_mac[i];
}

/* A TCP packet to a VIP: keep or choose its real, rewrite, transmit. */
static __always_inline int forward(struct xdp_md *ctx, struct ethhdr *eth,
				   struct albm_flow_key *key, const struct albm_vip *vip,
				   int closing, int syn)
{
	struct albm_conn *conn;
	struct albm_real *real = NULL;
	__u32 idx = 0, why = 0;
	int is_new = 0;

	conn = bpf_map_lookup_elem(&albm_conns, key);
	/* A SYN on the ports of a flow the client closed is a new connection (the client
	 * reused its port): schedule it from the current table, as IPVS does with
	 * conn_reuse_mode, instead of following the old flow to a drained server. */
	if (conn && syn && (conn->flags & ALBM_CONN_F_CLOSED))
		conn = NULL;
	if (conn) {
		real = pinned_real(conn);
		idx = conn->real;
	}
	/* Not pinned here (or to a real no longer in service): a peer may know where the
	 * flow lives (flow sync); the local decision, when there is one, always wins. */
	if (!real && albm_sync_enabled && (real = peer_real(key, &idx))) {
		is_new = 1; /* new to this real's counters here, not a new flow */
		conn = closing ? bpf_map_lookup_elem(&albm_conns, key) : NULL;
		count(ALBM_STAT_SYNC_HIT);
	}
	if (!real) {
		if (conn)
			count(ALBM_STAT_RESCHED);
		real = schedule(key, vip, &idx, &why);
		if (!real) {
			if (conn) /* do not keep pointing at a removed real */
				bpf_map_delete_elem(&albm_conns, key);
			return drop(why);
		}
		is_new = 1;
		/* The entry just written, for the CLOSED flag (a FIN opening a flow). */
		conn = closing ? bpf_map_lookup_elem(&albm_conns, key) : NULL;
		count(ALBM_STAT_NEW_FLOW);
		if (albm_sync_enabled)
			publish(key, real);
	}
	rewrite_macs(eth, real);
	count_real(idx, ctx->data_end - ctx->data, is_new, closing, conn);
	count(ALBM_STAT_TX);
	return XDP_TX;
}

SEC("xdp")
int albm_xdp(struct xdp_md *ctx)
{
	struct hdr_cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end };
	struct albm_flow_key key = {};
	struct albm_vip_key vkey = {};
	struct tcphdr *tcp = NULL;
	struct albm_vip *vip;
	struct ethhdr *eth;
	__u32 why;

	count(ALBM_STAT_RX);
	eth = parse_ethhdr(&c);
	if (!eth)
		return pass(ALBM_STAT_PASS_SHORT_ETH);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		why = parse_v4(&c, &key, &tcp);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		why = parse_v6(&c, &key, &tcp);
	else if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		why = ALBM_STAT_PASS_VLAN;
	else
		why = ALBM_STAT_PASS_NOT_IP;
	if (why || !tcp)
		return pass(why ? why : ALBM_STAT_PASS_NOT_IP);

	key.sport = tcp->source;
	key.dport = tcp->dest;
	key.proto = IPPROTO_TCP;
	__builtin_memcpy(vkey.addr, key.daddr, sizeof(vkey.addr));
	vkey.port = key.dport;
	vkey.proto = IPPROTO_TCP;
	vkey.family = key.family;
	vip = bpf_map_lookup_elem(&albm_vips, &vkey);
	if (!vip)
		return pass(ALBM_STAT_PASS_NOT_VIP);
	return forward(ctx, eth, &key, vip, tcp->fin || tcp->rst, tcp->syn && !tcp->ack);
}
