/* ALBM: bounds-checked header parsing for XDP (a cursor over the packet) */
#ifndef ALBM_BPF_PARSING_H
#define ALBM_BPF_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/*
 * Each parse_* helper checks that the whole header lies before data_end, advances
 * the cursor past it and returns a pointer to it, or NULL when the packet is too
 * short.  The verifier only accepts a packet access after such a comparison, so
 * every header goes through one of these.
 */
struct hdr_cursor {
	void *pos;
	void *end;
};

static __always_inline struct ethhdr *parse_ethhdr(struct hdr_cursor *c)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return NULL;
	c->pos = eth + 1;
	return eth;
}

/* The IPv4 header including its options (IHL * 4 bytes).  *bad is set when the
 * fixed part is there but IHL < 5 or the version is not 4. */
static __always_inline struct iphdr *parse_iphdr(struct hdr_cursor *c, int *bad)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	*bad = 0;
	if ((void *)(iph + 1) > c->end)
		return NULL;
	if (iph->version != 4 || iph->ihl < 5) {
		*bad = 1;
		return NULL;
	}
	hlen = iph->ihl * 4; /* 20..60: IHL is a 4-bit field */
	if (c->pos + hlen > c->end)
		return NULL;
	c->pos += hlen;
	return iph;
}

static __always_inline struct ipv6hdr *parse_ipv6hdr(struct hdr_cursor *c, int *bad)
{
	struct ipv6hdr *ip6h = c->pos;

	*bad = 0;
	if ((void *)(ip6h + 1) > c->end)
		return NULL;
	if (ip6h->version != 6) {
		*bad = 1;
		return NULL;
	}
	c->pos = ip6h + 1;
	return ip6h;
}

/* The fixed TCP header; *bad when its data offset is below 5 words. */
static __always_inline struct tcphdr *parse_tcphdr(struct hdr_cursor *c, int *bad)
{
	struct tcphdr *tcp = c->pos;

	*bad = 0;
	if ((void *)(tcp + 1) > c->end)
		return NULL;
	if (tcp->doff < 5) {
		*bad = 1;
		return NULL;
	}
	c->pos = tcp + 1;
	return tcp;
}

/* IPv6 next-header values that are extension headers (RFC 8200 section 4). */
static __always_inline int ipv6_is_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 || nh == 135 ||
	       nh == 139 || nh == 140;
}

#endif
