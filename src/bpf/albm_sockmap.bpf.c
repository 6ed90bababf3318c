/* ALBM: the in-kernel relay of proxy mode — an sk_skb verdict that hands each socket's
 * data to its peer socket (BPF sockmap)
 *
 * User space decides, BPF executes: albmd picks the server, connects, sends any PROXY
 * header, and only then puts the pair into the maps (relay_sockmap.c).  This program
 * runs for each skb a paired socket receives and redirects it to the egress of the
 * other socket of the pair; it never sees FIN or RST (albmd watches them with epoll)
 * and never changes when a scheduler is added.
 *
 * Two maps so that pairing is race-free: albm_sk_peer (no program) is filled first
 * with cookie(A) -> B and cookie(B) -> A; only then are A and B put into
 * albm_sk_relay, whose attached program makes their data flow through here.  No skb
 * can therefore look for a peer that is not there yet.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "albm_sockmap.h"

char LICENSE[] SEC("license") = "GPL";

/* cookie(A) -> socket B: where A's data goes.  Written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, ALBM_SK_MAX);
	__type(key, __u64);
	__type(value, __u64);
} albm_sk_peer SEC(".maps");

/* cookie(A) -> socket A: the sockets whose data this program relays (the program is
 * attached to this map).  Written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, ALBM_SK_MAX);
	__type(key, __u64);
	__type(value, __u64);
} albm_sk_relay SEC(".maps");

/* cookie(A) -> what A passed on.  Created and deleted by user space, counted here;
 * allocated per entry (no 65536 entries held in advance). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ALBM_SK_MAX);
	__type(key, __u64);
	__type(value, struct albm_sk_count);
} albm_sk_counts SEC(".maps");

/* Global counters by enum albm_sk_stat, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALBM_SK_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} albm_sk_stats SEC(".maps");

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&albm_sk_stats, &i);

	if (v)
		*v += 1;
}

SEC("sk_skb/stream_verdict")
int albm_sk_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct albm_sk_count *cnt;
	__u32 len = skb->len;
	int verdict;

	/* A FIN alone comes as an empty skb: redirected, the peer's backlog would take the
	 * empty send for a broken pipe and set EPIPE on the peer.  TCP has already noted
	 * the FIN (EPOLLRDHUP for albmd), so the empty skb is dropped here. */
	if (len == 0)
		return SK_DROP;
	verdict = bpf_sk_redirect_hash(skb, &albm_sk_peer, &cookie, 0);
	if (verdict != SK_PASS) {
		stat_inc(ALBM_SK_NO_PEER);
		return SK_DROP;
	}
	cnt = bpf_map_lookup_elem(&albm_sk_counts, &cookie);
	if (cnt) {
		__sync_fetch_and_add(&cnt->bytes, len);
		cnt->last_ns = bpf_ktime_get_ns();
	}
	stat_inc(ALBM_SK_REDIRECTED);
	return SK_PASS;
}
