/* ALBM: a trivial XDP program that passes every frame (for veth peers in native mode) */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Native XDP_TX on a veth needs an XDP program on the peer; this one does nothing. */
SEC("xdp")
int albm_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
