/* ALBM: the contract between the sockmap relay program and albmd — keys, values, counters */
#ifndef ALBM_BPF_ALBM_SOCKMAP_H
#define ALBM_BPF_ALBM_SOCKMAP_H

/*
 * Included by albm_sockmap.bpf.c and by src/distributor/proxy/relay_sockmap.c.
 * Fixed-width types only.  Every socket is named by its socket cookie (SO_COOKIE,
 * bpf_get_socket_cookie()): a key both sides can compute and the kernel never reuses.
 */
#include <linux/types.h>

#ifndef ALBM_SK_MAX
#define ALBM_SK_MAX 65536 /* sockets in the relay at once: 32768 connections */
#endif

/* Per socket in the relay: what its verdict program passed on to the peer. */
struct albm_sk_count {
	__u64 bytes;   /* payload bytes redirected to the peer */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last of them (CLOCK_MONOTONIC) */
};

/* Global counters, per CPU (enum albm_sk_stat indexes albm_sk_stats). */
enum albm_sk_stat {
	ALBM_SK_REDIRECTED = 0, /* skbs handed to the peer */
	ALBM_SK_NO_PEER = 1,    /* skbs dropped: the peer had left the map (closing, reset) */
	ALBM_SK_STAT__COUNT
};

#endif
