/* ALBM: the distributor <-> distributor flow-sync codec (batched flows, HMAC, replay window).
 * Wire format: docs/protocol.md, "Flow sync".  Shared by albmd and its tests. */
#ifndef ALBM_PROTO_SYNC_H
#define ALBM_PROTO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/report.h" /* ALBM_KEY_LEN, albm_key_load() */

#define ALBM_SYNC_VERSION   1
#define ALBM_SYNC_MAX       1452 /* largest datagram: one 1500-byte frame over IPv6 + UDP */
#define ALBM_SYNC_HDR_LEN   40
#define ALBM_SYNC_TAG_LEN   32
#define ALBM_SYNC_MAX_FLOWS ((ALBM_SYNC_MAX - ALBM_SYNC_HDR_LEN - ALBM_SYNC_TAG_LEN) / 18)
#define ALBM_SYNC_WINDOW    64   /* sequence numbers the replay window remembers */

/* One flow as the wire carries it: the client, the VIP, the real it is pinned to. */
struct albm_sync_flow {
	uint8_t family;     /* AF_INET or AF_INET6 */
	uint16_t sport;     /* client port (host order) */
	uint16_t dport;     /* VIP port (host order) */
	uint8_t saddr[16];  /* client address; IPv4 in the first 4 bytes */
	uint8_t daddr[16];  /* VIP */
	uint8_t raddr[16];  /* real server */
};

/* The header fields a sender chooses and a receiver checks. */
struct albm_sync_hdr {
	uint32_t sender;       /* the sending distributor's id (unique among peers) */
	uint64_t epoch;        /* the sender's start, wall-clock ms: grows across restarts */
	uint64_t seq;          /* 1, 2, ... within one epoch */
	uint64_t timestamp_ms; /* the sender's wall clock when sending */
};

/* Why a datagram was refused (0: accepted); albmd counts each by name. */
enum albm_sync_verdict {
	ALBM_SYNC_OK = 0,
	ALBM_SYNC_TRUNCATED,    /* shorter than a header + tag, or than its length field */
	ALBM_SYNC_BAD_MAGIC,    /* not a sync message */
	ALBM_SYNC_BAD_VERSION,  /* a version this build does not speak */
	ALBM_SYNC_BAD_LENGTH,   /* longer than its length field, or than ALBM_SYNC_MAX */
	ALBM_SYNC_FORGED,       /* HMAC does not verify: wrong key or tampered */
	ALBM_SYNC_MALFORMED,    /* authentic, but type, flags or an entry is invalid */
	ALBM_SYNC_UNKNOWN_PEER, /* authentic, from a sender id that is not a configured peer */
	ALBM_SYNC_REPLAY,       /* sequence seen or older than the window, or an old epoch */
	ALBM_SYNC_STALE,        /* timestamp too far from now (old capture, clock skew) */
	ALBM_SYNC_VERDICT__COUNT
};
/* "ok", "truncated", "bad_magic", ... (metric label values); NULL out of range. */
const char *albm_sync_verdict_name(enum albm_sync_verdict v);

/* Bytes f takes on the wire: 18 (IPv4), 54 (IPv6), 0 (bad family). */
size_t albm_sync_flow_size(const struct albm_sync_flow *f);

/*
 * Sign h and as many of f[0..n) as fit into buf (len bytes; ALBM_SYNC_MAX is the most a
 * datagram may have).  Returns the datagram length and sets *used to the number of flows
 * it holds (n == 0 gives a valid message without flows); -ENOSPC when len cannot hold
 * the header, the tag and one flow, -EINVAL for a flow of another family.  Send the
 * rest in the next datagram, with the next sequence number.
 */
int albm_sync_encode(const struct albm_sync_hdr *h, const struct albm_sync_flow *f, size_t n,
		     const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len, size_t *used);

/* Check structure and HMAC, decode the header and up to ALBM_SYNC_MAX_FLOWS flows into
 * out[] (*n of them).  Returns the verdict; err names the reason when not ALBM_SYNC_OK. */
enum albm_sync_verdict albm_sync_decode(const uint8_t *buf, size_t len,
					const uint8_t key[ALBM_KEY_LEN], struct albm_sync_hdr *h,
					struct albm_sync_flow *out, size_t *n, char *err,
					size_t errlen);

/* What a receiver remembers of one peer: its id, and its sequence window. */
struct albm_sync_peer {
	uint32_t id;
	bool seen;       /* false until its first accepted message */
	uint64_t epoch;  /* of the last accepted message */
	uint64_t top;    /* highest sequence accepted in that epoch */
	uint64_t window; /* bit i set: sequence top - i was accepted */
};

/*
 * Anti-replay (an IPsec-style sliding window): a message is accepted once, in any order
 * within the last ALBM_SYNC_WINDOW sequence numbers of the peer's current epoch; a newer
 * epoch (the peer restarted) starts a new window; an older epoch is a replay.  The
 * timestamp must be within max_age_ms of now_ms either way (a receiver that restarted
 * has no window yet: this bounds what can be replayed to it).  Updates p only when the
 * verdict is ALBM_SYNC_OK.
 */
enum albm_sync_verdict albm_sync_replay_check(struct albm_sync_peer *p,
					      const struct albm_sync_hdr *h, uint64_t now_ms,
					      uint64_t max_age_ms, char *err, size_t errlen);

/* decode, find the sender among peers[0..npeers), replay check: the whole receive path. */
enum albm_sync_verdict albm_sync_receive(struct albm_sync_peer *peers, size_t npeers,
					 const uint8_t *buf, size_t len,
					 const uint8_t key[ALBM_KEY_LEN], uint64_t now_ms,
					 uint64_t max_age_ms, struct albm_sync_hdr *h,
					 struct albm_sync_flow *out, size_t *n, char *err,
					 size_t errlen);

#endif
