/* ALBM: the distributors' sync codec (batched flows, table heartbeats, HMAC, replay window).
 * Wire format: docs/protocol.md, "Flow sync".  Shared by albmd and its tests. */
#ifndef ALBM_PROTO_SYNC_H
#define ALBM_PROTO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/report.h" /* ALBM_KEY_LEN, albm_key_load() */

#define ALBM_SYNC_VERSION    1
#define ALBM_SYNC_MAX        1452 /* largest datagram: one 1500-byte frame over IPv6 + UDP */
#define ALBM_SYNC_HDR_LEN    40
#define ALBM_SYNC_TAG_LEN    32
#define ALBM_SYNC_MAX_FLOWS  ((ALBM_SYNC_MAX - ALBM_SYNC_HDR_LEN - ALBM_SYNC_TAG_LEN) / 18)
#define ALBM_SYNC_MAX_TABLES ((ALBM_SYNC_MAX - ALBM_SYNC_HDR_LEN - ALBM_SYNC_TAG_LEN) / 48)
#define ALBM_SYNC_WINDOW     64 /* sequence numbers the replay window remembers */
#define ALBM_SYNC_DIGEST_LEN 32 /* a table's digest (dr_table_digest: SHA-256) */

/* Message types: what the entries after the header are. */
enum albm_sync_type {
	ALBM_SYNC_T_FLOWS = 1,  /* new flows (struct albm_sync_flow) */
	ALBM_SYNC_T_TABLES = 2, /* a heartbeat: the sender's tables (struct albm_sync_table) */
};

/* One flow as the wire carries it: the client, the VIP, the real it is pinned to. */
struct albm_sync_flow {
	uint8_t family;    /* AF_INET or AF_INET6 */
	uint16_t sport;    /* client port (host order) */
	uint16_t dport;    /* VIP port (host order) */
	uint8_t saddr[16]; /* client address; IPv4 in the first 4 bytes */
	uint8_t daddr[16]; /* VIP */
	uint8_t raddr[16]; /* real server */
};

/* One VIP's lookup table as a heartbeat carries it: which weights it was built from and
 * its fingerprint, so that distributors see whether their tables agree (docs/ha.md). */
struct albm_sync_table {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint16_t port;    /* VIP port (host order) */
	uint8_t vip[16];  /* IPv4 in the first 4 bytes */
	uint64_t version; /* wall-clock ms of the boundary its weights were taken at */
	uint8_t digest[ALBM_SYNC_DIGEST_LEN];
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

/* A decoded datagram: its header, its type and its entries. */
struct albm_sync_msg {
	struct albm_sync_hdr h;
	enum albm_sync_type type;
	size_t n; /* entries in flows[] or tables[] */
	union {
		struct albm_sync_flow flows[ALBM_SYNC_MAX_FLOWS];
		struct albm_sync_table tables[ALBM_SYNC_MAX_TABLES];
	};
};

/* Bytes f takes on the wire: 18 (IPv4), 54 (IPv6), 0 (bad family). */
size_t albm_sync_flow_size(const struct albm_sync_flow *f);
/* Bytes t takes on the wire: 48 (IPv4), 60 (IPv6), 0 (bad family). */
size_t albm_sync_table_size(const struct albm_sync_table *t);

/*
 * The HMAC: the key's context is made once and reused (OpenSSL's one-shot HMAC()
 * looks the algorithm up on every call, which costs more than the hash of a datagram).
 * A process-wide cache remembers the last key; callers need not do anything.
 */

/*
 * Sign h and as many of f[0..n) as fit into buf (len bytes; ALBM_SYNC_MAX is the most a
 * datagram may have).  Returns the datagram length and sets *used to the number of flows
 * it holds (n == 0 gives a valid message without flows); -ENOSPC when len cannot hold
 * the header, the tag and one flow, -EINVAL for a flow of another family.  Send the
 * rest in the next datagram, with the next sequence number.
 */
int albm_sync_encode(const struct albm_sync_hdr *h, const struct albm_sync_flow *f, size_t n,
		     const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len, size_t *used);
/* The same for a heartbeat: tables t[0..n) (n == 0: a heartbeat without tables). */
int albm_sync_encode_tables(const struct albm_sync_hdr *h, const struct albm_sync_table *t,
			    size_t n, const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len,
			    size_t *used);

/* Check structure and HMAC, decode the header, the type and the entries into *m.
 * Returns the verdict (m->n is 0 unless ALBM_SYNC_OK); err names the reason. */
enum albm_sync_verdict albm_sync_decode(const uint8_t *buf, size_t len,
					const uint8_t key[ALBM_KEY_LEN], struct albm_sync_msg *m,
					char *err, size_t errlen);

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

/* decode, find the sender among peers[0..npeers), replay check: the whole receive path.
 * *m is the message (m->n is 0 unless ALBM_SYNC_OK); m->h.sender names the peer. */
enum albm_sync_verdict albm_sync_receive(struct albm_sync_peer *peers, size_t npeers,
					 const uint8_t *buf, size_t len,
					 const uint8_t key[ALBM_KEY_LEN], uint64_t now_ms,
					 uint64_t max_age_ms, struct albm_sync_msg *m, char *err,
					 size_t errlen);

#endif
