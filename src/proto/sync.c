/* ALBM: flow-sync codec — batched flow entries, HMAC-SHA256 tag, per-peer replay window */
#include "proto/sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/util.h"

/*
 * Layout of version 1 (docs/protocol.md has the same tables), big-endian:
 *
 *   off len  field
 *     0   4  magic "ALBS"
 *     4   1  version (1)
 *     5   1  type (1 = flows)
 *     6   2  total datagram length, tag included
 *     8   4  sender id
 *    12   2  count: number of flow entries
 *    14   2  flags (0; reserved)
 *    16   8  epoch
 *    24   8  seq
 *    32   8  timestamp_ms
 *    40   .  count entries: family (4|6), flags (0), sport, dport, then client,
 *            VIP and real address (4 or 16 bytes each): 18 or 54 bytes
 *   end  32  HMAC-SHA256(key, every byte before the tag)
 */
#define SYNC_MAGIC "ALBS"
#define SYNC_TYPE_FLOWS 1
#define ENTRY_FIXED 6

static const char *const verdict_names[ALBM_SYNC_VERDICT__COUNT] = {
	[ALBM_SYNC_OK] = "ok",
	[ALBM_SYNC_TRUNCATED] = "truncated",
	[ALBM_SYNC_BAD_MAGIC] = "bad_magic",
	[ALBM_SYNC_BAD_VERSION] = "bad_version",
	[ALBM_SYNC_BAD_LENGTH] = "bad_length",
	[ALBM_SYNC_FORGED] = "forged",
	[ALBM_SYNC_MALFORMED] = "malformed",
	[ALBM_SYNC_UNKNOWN_PEER] = "unknown_peer",
	[ALBM_SYNC_REPLAY] = "replay",
	[ALBM_SYNC_STALE] = "stale",
};

const char *albm_sync_verdict_name(enum albm_sync_verdict v)
{
	return (unsigned)v < ALBM_SYNC_VERDICT__COUNT ? verdict_names[v] : NULL;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static size_t addr_len(uint8_t wire_family)
{
	return wire_family == 4 ? 4 : wire_family == 6 ? 16 : 0;
}

size_t albm_sync_flow_size(const struct albm_sync_flow *f)
{
	size_t a = f->family == AF_INET ? 4 : f->family == AF_INET6 ? 16 : 0;

	return a ? ENTRY_FIXED + 3 * a : 0;
}

static int sync_tag(const uint8_t key[ALBM_KEY_LEN], const uint8_t *buf, size_t len,
		    uint8_t tag[ALBM_SYNC_TAG_LEN])
{
	unsigned int tlen = ALBM_SYNC_TAG_LEN;

	if (!HMAC(EVP_sha256(), key, ALBM_KEY_LEN, buf, len, tag, &tlen) ||
	    tlen != ALBM_SYNC_TAG_LEN)
		return -EIO;
	return 0;
}

static size_t put_flow(uint8_t *p, const struct albm_sync_flow *f)
{
	size_t a = f->family == AF_INET ? 4 : 16;

	p[0] = f->family == AF_INET ? 4 : 6;
	p[1] = 0;
	put_be(p + 2, f->sport, 2);
	put_be(p + 4, f->dport, 2);
	memcpy(p + ENTRY_FIXED, f->saddr, a);
	memcpy(p + ENTRY_FIXED + a, f->daddr, a);
	memcpy(p + ENTRY_FIXED + 2 * a, f->raddr, a);
	return ENTRY_FIXED + 3 * a;
}

int albm_sync_encode(const struct albm_sync_hdr *h, const struct albm_sync_flow *f, size_t n,
		     const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len, size_t *used)
{
	size_t off = ALBM_SYNC_HDR_LEN, k = 0, sz;
	int rc;

	if (len > ALBM_SYNC_MAX)
		len = ALBM_SYNC_MAX;
	*used = 0;
	for (size_t i = 0; i < n; i++)
		if (!albm_sync_flow_size(&f[i]))
			return -EINVAL;
	if (len < ALBM_SYNC_HDR_LEN + ALBM_SYNC_TAG_LEN + (n ? albm_sync_flow_size(&f[0]) : 0))
		return -ENOSPC;
	for (; k < n; k++) {
		sz = albm_sync_flow_size(&f[k]);
		if (off + sz + ALBM_SYNC_TAG_LEN > len)
			break;
		off += put_flow(buf + off, &f[k]);
	}
	memcpy(buf, SYNC_MAGIC, 4);
	buf[4] = ALBM_SYNC_VERSION;
	buf[5] = SYNC_TYPE_FLOWS;
	put_be(buf + 6, off + ALBM_SYNC_TAG_LEN, 2);
	put_be(buf + 8, h->sender, 4);
	put_be(buf + 12, k, 2);
	put_be(buf + 14, 0, 2);
	put_be(buf + 16, h->epoch, 8);
	put_be(buf + 24, h->seq, 8);
	put_be(buf + 32, h->timestamp_ms, 8);
	rc = sync_tag(key, buf, off, buf + off);
	if (rc)
		return rc;
	*used = k;
	return (int)(off + ALBM_SYNC_TAG_LEN);
}

/* Structure that needs no key: size, magic, version, length field. */
static enum albm_sync_verdict sync_check_frame(const uint8_t *buf, size_t len, char *err,
					       size_t errlen)
{
	size_t said;

	if (len < ALBM_SYNC_HDR_LEN + ALBM_SYNC_TAG_LEN) {
		albm_seterr(err, errlen, "truncated sync message: %zu bytes, at least %d needed",
			    len, ALBM_SYNC_HDR_LEN + ALBM_SYNC_TAG_LEN);
		return ALBM_SYNC_TRUNCATED;
	}
	if (memcmp(buf, SYNC_MAGIC, 4)) {
		albm_seterr(err, errlen, "not an ALBM sync message (bad magic)");
		return ALBM_SYNC_BAD_MAGIC;
	}
	if (buf[4] != ALBM_SYNC_VERSION) {
		albm_seterr(err, errlen, "sync version %u not supported (this build speaks %d)",
			    buf[4], ALBM_SYNC_VERSION);
		return ALBM_SYNC_BAD_VERSION;
	}
	said = (size_t)get_be(buf + 6, 2);
	if (len < said) {
		albm_seterr(err, errlen, "truncated sync message: %zu of %zu bytes", len, said);
		return ALBM_SYNC_TRUNCATED;
	}
	if (len > said || said > ALBM_SYNC_MAX) {
		albm_seterr(err, errlen, "sync message of %zu bytes, its length field says %zu (at "
			    "most %d)", len, said, ALBM_SYNC_MAX);
		return ALBM_SYNC_BAD_LENGTH;
	}
	return ALBM_SYNC_OK;
}

/* Entries of an authentic message: exactly `count` valid ones filling the body. */
static enum albm_sync_verdict sync_parse_flows(const uint8_t *p, size_t body, size_t count,
					       struct albm_sync_flow *out, char *err,
					       size_t errlen)
{
	size_t off = 0, a;

	for (size_t i = 0; i < count; i++) {
		a = off + ENTRY_FIXED <= body ? addr_len(p[off]) : 0;
		if (!a || p[off + 1] != 0 || off + ENTRY_FIXED + 3 * a > body) {
			albm_seterr(err, errlen, "sync entry %zu of %zu: bad family, flags or length",
				    i + 1, count);
			return ALBM_SYNC_MALFORMED;
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].family = a == 4 ? AF_INET : AF_INET6;
		out[i].sport = (uint16_t)get_be(p + off + 2, 2);
		out[i].dport = (uint16_t)get_be(p + off + 4, 2);
		memcpy(out[i].saddr, p + off + ENTRY_FIXED, a);
		memcpy(out[i].daddr, p + off + ENTRY_FIXED + a, a);
		memcpy(out[i].raddr, p + off + ENTRY_FIXED + 2 * a, a);
		off += ENTRY_FIXED + 3 * a;
	}
	if (off != body) {
		albm_seterr(err, errlen, "sync message: %zu bytes after its %zu entries", body - off,
			    count);
		return ALBM_SYNC_MALFORMED;
	}
	return ALBM_SYNC_OK;
}

enum albm_sync_verdict albm_sync_decode(const uint8_t *buf, size_t len,
					const uint8_t key[ALBM_KEY_LEN], struct albm_sync_hdr *h,
					struct albm_sync_flow *out, size_t *n, char *err,
					size_t errlen)
{
	uint8_t tag[ALBM_SYNC_TAG_LEN];
	enum albm_sync_verdict v;
	size_t body, count;

	*n = 0;
	v = sync_check_frame(buf, len, err, errlen);
	if (v)
		return v;
	body = len - ALBM_SYNC_TAG_LEN;
	if (sync_tag(key, buf, body, tag) || CRYPTO_memcmp(tag, buf + body, ALBM_SYNC_TAG_LEN)) {
		albm_seterr(err, errlen, "bad HMAC (wrong key or tampered sync message)");
		return ALBM_SYNC_FORGED;
	}
	count = (size_t)get_be(buf + 12, 2);
	if (buf[5] != SYNC_TYPE_FLOWS || get_be(buf + 14, 2) != 0 || count > ALBM_SYNC_MAX_FLOWS) {
		albm_seterr(err, errlen, "sync type %u / flags %#x / count %zu not understood",
			    buf[5], (unsigned)get_be(buf + 14, 2), count);
		return ALBM_SYNC_MALFORMED;
	}
	h->sender = (uint32_t)get_be(buf + 8, 4);
	h->epoch = get_be(buf + 16, 8);
	h->seq = get_be(buf + 24, 8);
	h->timestamp_ms = get_be(buf + 32, 8);
	v = sync_parse_flows(buf + ALBM_SYNC_HDR_LEN, body - ALBM_SYNC_HDR_LEN, count, out, err,
			     errlen);
	if (!v)
		*n = count;
	return v;
}

/* Same epoch: is seq new?  Slides the window when it is above the top. */
static enum albm_sync_verdict window_accept(struct albm_sync_peer *p, uint64_t seq, char *err,
					    size_t errlen)
{
	uint64_t back;

	if (seq > p->top) {
		back = seq - p->top;
		p->window = back >= ALBM_SYNC_WINDOW ? 1 : (p->window << back) | 1;
		p->top = seq;
		return ALBM_SYNC_OK;
	}
	back = p->top - seq;
	if (back >= ALBM_SYNC_WINDOW || (p->window >> back) & 1) {
		albm_seterr(err, errlen, "replayed sync message: seq %llu (highest %llu)%s",
			    (unsigned long long)seq, (unsigned long long)p->top,
			    back >= ALBM_SYNC_WINDOW ? ", older than the window" : "");
		return ALBM_SYNC_REPLAY;
	}
	p->window |= 1ull << back;
	return ALBM_SYNC_OK;
}

enum albm_sync_verdict albm_sync_replay_check(struct albm_sync_peer *p,
					      const struct albm_sync_hdr *h, uint64_t now_ms,
					      uint64_t max_age_ms, char *err, size_t errlen)
{
	uint64_t skew = h->timestamp_ms > now_ms ? h->timestamp_ms - now_ms
						 : now_ms - h->timestamp_ms;
	struct albm_sync_peer next = *p;
	enum albm_sync_verdict v;

	if (skew > max_age_ms) {
		albm_seterr(err, errlen, "stale sync message from peer %u: %llu ms %s (limit %llu ms)",
			    h->sender, (unsigned long long)skew,
			    h->timestamp_ms > now_ms ? "ahead" : "old",
			    (unsigned long long)max_age_ms);
		return ALBM_SYNC_STALE;
	}
	if (p->seen && h->epoch < p->epoch) {
		albm_seterr(err, errlen, "replayed sync message: epoch %llu of peer %u is older "
			    "than its current %llu", (unsigned long long)h->epoch, h->sender,
			    (unsigned long long)p->epoch);
		return ALBM_SYNC_REPLAY;
	}
	if (!p->seen || h->epoch > p->epoch) { /* first message, or the peer restarted */
		next.seen = true;
		next.epoch = h->epoch;
		next.top = h->seq;
		next.window = 1;
		*p = next;
		return ALBM_SYNC_OK;
	}
	v = window_accept(&next, h->seq, err, errlen);
	if (!v)
		*p = next;
	return v;
}

enum albm_sync_verdict albm_sync_receive(struct albm_sync_peer *peers, size_t npeers,
					 const uint8_t *buf, size_t len,
					 const uint8_t key[ALBM_KEY_LEN], uint64_t now_ms,
					 uint64_t max_age_ms, struct albm_sync_hdr *h,
					 struct albm_sync_flow *out, size_t *n, char *err,
					 size_t errlen)
{
	enum albm_sync_verdict v = albm_sync_decode(buf, len, key, h, out, n, err, errlen);

	if (v)
		return v;
	for (size_t i = 0; i < npeers; i++) {
		if (peers[i].id == h->sender) {
			v = albm_sync_replay_check(&peers[i], h, now_ms, max_age_ms, err, errlen);
			if (v)
				*n = 0;
			return v;
		}
	}
	*n = 0;
	albm_seterr(err, errlen, "sync message from unknown peer id %u", h->sender);
	return ALBM_SYNC_UNKNOWN_PEER;
}
