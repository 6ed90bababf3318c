/* ALBM: sync codec — batched flows and table heartbeats, HMAC-SHA256 tag, per-peer replay window */
#include "proto/sync.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/util.h"

/*
 * Layout of version 1 (docs/protocol.md has the same tables), big-endian:
 *
 *   off len  field
 *     0   4  magic "ALBS"
 *     4   1  version (1)
 *     5   1  type (1 = flows, 2 = tables: a heartbeat)
 *     6   2  total datagram length, tag included
 *     8   4  sender id
 *    12   2  count: number of entries
 *    14   2  flags (0; reserved)
 *    16   8  epoch
 *    24   8  seq
 *    32   8  timestamp_ms
 *    40   .  count entries of the type:
 *            flows: family (4|6), flags (0), sport, dport, then client, VIP and real
 *            address (4 or 16 bytes each): 18 or 54 bytes
 *            tables: family (4|6), flags (0), port, version (8), VIP (4 or 16 bytes),
 *            digest (32): 48 or 60 bytes
 *   end  32  HMAC-SHA256(key, every byte before the tag)
 */
#define SYNC_MAGIC  "ALBS"
#define ENTRY_FIXED 6
#define TABLE_FIXED (12 + ALBM_SYNC_DIGEST_LEN)

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

size_t albm_sync_table_size(const struct albm_sync_table *t)
{
	size_t a = t->family == AF_INET ? 4 : t->family == AF_INET6 ? 16 : 0;

	return a ? TABLE_FIXED + a : 0;
}

/*
 * The HMAC context of the last key, kept for the next message: HMAC() would fetch
 * the algorithm and set the key up each time (about 4 us; the cached context signs
 * a full datagram in about 2 us).  One mutex: albmd signs and verifies in one thread,
 * tests may use several.  The context lives until the process exits.
 */
static struct {
	pthread_mutex_t lock;
	EVP_MAC_CTX *ctx;
	uint8_t key[ALBM_KEY_LEN];
} mac_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A context keyed with key (cache locked); NULL when OpenSSL fails. */
static EVP_MAC_CTX *mac_ctx(const uint8_t key[ALBM_KEY_LEN])
{
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			   OSSL_PARAM_construct_end() };
	EVP_MAC *mac;

	if (mac_cache.ctx && !memcmp(mac_cache.key, key, ALBM_KEY_LEN))
		return EVP_MAC_init(mac_cache.ctx, NULL, 0, NULL) ? mac_cache.ctx : NULL;
	if (!mac_cache.ctx) {
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		mac_cache.ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac); /* the context holds its own reference */
		if (!mac_cache.ctx)
			return NULL;
	}
	if (!EVP_MAC_init(mac_cache.ctx, key, ALBM_KEY_LEN, p)) {
		memset(mac_cache.key, 0, sizeof(mac_cache.key)); /* never matches a loaded key */
		return NULL;
	}
	memcpy(mac_cache.key, key, ALBM_KEY_LEN);
	return mac_cache.ctx;
}

static int sync_tag(const uint8_t key[ALBM_KEY_LEN], const uint8_t *buf, size_t len,
		    uint8_t tag[ALBM_SYNC_TAG_LEN])
{
	size_t tlen = 0;
	EVP_MAC_CTX *ctx;
	int rc = -EIO;

	pthread_mutex_lock(&mac_cache.lock);
	ctx = mac_ctx(key);
	if (ctx && EVP_MAC_update(ctx, buf, len) &&
	    EVP_MAC_final(ctx, tag, &tlen, ALBM_SYNC_TAG_LEN) && tlen == ALBM_SYNC_TAG_LEN)
		rc = 0;
	pthread_mutex_unlock(&mac_cache.lock);
	return rc;
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

static size_t put_table(uint8_t *p, const struct albm_sync_table *t)
{
	size_t a = t->family == AF_INET ? 4 : 16;

	p[0] = t->family == AF_INET ? 4 : 6;
	p[1] = 0;
	put_be(p + 2, t->port, 2);
	put_be(p + 4, t->version, 8);
	memcpy(p + 12, t->vip, a);
	memcpy(p + 12 + a, t->digest, ALBM_SYNC_DIGEST_LEN);
	return TABLE_FIXED + a;
}

/* The entries of one type, for the one encoder. */
struct entries {
	enum albm_sync_type type;
	const void *v;
	size_t n, size;
	size_t (*wire)(const void *e); /* its bytes on the wire, 0: invalid */
	size_t (*put)(uint8_t *p, const void *e);
};

static size_t flow_wire(const void *e)
{
	return albm_sync_flow_size(e);
}
static size_t flow_put(uint8_t *p, const void *e)
{
	return put_flow(p, e);
}
static size_t table_wire(const void *e)
{
	return albm_sync_table_size(e);
}
static size_t table_put(uint8_t *p, const void *e)
{
	return put_table(p, e);
}

static const void *entry_at(const struct entries *es, size_t i)
{
	return (const uint8_t *)es->v + i * es->size;
}

static int sync_encode(const struct albm_sync_hdr *h, const struct entries *es,
		       const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len, size_t *used)
{
	size_t off = ALBM_SYNC_HDR_LEN, k = 0;
	int rc;

	if (len > ALBM_SYNC_MAX)
		len = ALBM_SYNC_MAX;
	*used = 0;
	for (size_t i = 0; i < es->n; i++)
		if (!es->wire(entry_at(es, i)))
			return -EINVAL;
	if (len < ALBM_SYNC_HDR_LEN + ALBM_SYNC_TAG_LEN + (es->n ? es->wire(es->v) : 0))
		return -ENOSPC;
	for (; k < es->n; k++) {
		if (off + es->wire(entry_at(es, k)) + ALBM_SYNC_TAG_LEN > len)
			break;
		off += es->put(buf + off, entry_at(es, k));
	}
	memcpy(buf, SYNC_MAGIC, 4);
	buf[4] = ALBM_SYNC_VERSION;
	buf[5] = (uint8_t)es->type;
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

int albm_sync_encode(const struct albm_sync_hdr *h, const struct albm_sync_flow *f, size_t n,
		     const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len, size_t *used)
{
	struct entries es = { ALBM_SYNC_T_FLOWS, f, n, sizeof(*f), flow_wire, flow_put };

	return sync_encode(h, &es, key, buf, len, used);
}

int albm_sync_encode_tables(const struct albm_sync_hdr *h, const struct albm_sync_table *t,
			    size_t n, const uint8_t key[ALBM_KEY_LEN], uint8_t *buf, size_t len,
			    size_t *used)
{
	struct entries es = { ALBM_SYNC_T_TABLES, t, n, sizeof(*t), table_wire, table_put };

	return sync_encode(h, &es, key, buf, len, used);
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
		albm_seterr(err, errlen,
			    "sync message of %zu bytes, its length field says %zu (at "
			    "most %d)",
			    len, said, ALBM_SYNC_MAX);
		return ALBM_SYNC_BAD_LENGTH;
	}
	return ALBM_SYNC_OK;
}

/* Entries of an authentic message: exactly `count` valid ones filling the body. */
static enum albm_sync_verdict sync_parse_flows(const uint8_t *p, size_t body, size_t count,
					       struct albm_sync_flow *out, char *err, size_t errlen)
{
	size_t off = 0, a;

	for (size_t i = 0; i < count; i++) {
		a = off + ENTRY_FIXED <= body ? addr_len(p[off]) : 0;
		if (!a || p[off + 1] != 0 || off + ENTRY_FIXED + 3 * a > body) {
			albm_seterr(err, errlen,
				    "sync entry %zu of %zu: bad family, flags or length", i + 1,
				    count);
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
		albm_seterr(err, errlen, "sync message: %zu bytes after its %zu entries",
			    body - off, count);
		return ALBM_SYNC_MALFORMED;
	}
	return ALBM_SYNC_OK;
}

/* Table entries of an authentic heartbeat, as sync_parse_flows. */
static enum albm_sync_verdict sync_parse_tables(const uint8_t *p, size_t body, size_t count,
						struct albm_sync_table *out, char *err,
						size_t errlen)
{
	size_t off = 0, a;

	for (size_t i = 0; i < count; i++) {
		a = off + TABLE_FIXED <= body ? addr_len(p[off]) : 0;
		if (!a || p[off + 1] != 0 || off + TABLE_FIXED + a > body) {
			albm_seterr(err, errlen,
				    "sync table %zu of %zu: bad family, flags or length", i + 1,
				    count);
			return ALBM_SYNC_MALFORMED;
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].family = a == 4 ? AF_INET : AF_INET6;
		out[i].port = (uint16_t)get_be(p + off + 2, 2);
		out[i].version = get_be(p + off + 4, 8);
		memcpy(out[i].vip, p + off + 12, a);
		memcpy(out[i].digest, p + off + 12 + a, ALBM_SYNC_DIGEST_LEN);
		off += TABLE_FIXED + a;
	}
	if (off != body) {
		albm_seterr(err, errlen, "sync message: %zu bytes after its %zu tables", body - off,
			    count);
		return ALBM_SYNC_MALFORMED;
	}
	return ALBM_SYNC_OK;
}

/* The type's entry bound, or 0 for a type this build does not know. */
static size_t type_max(uint8_t type)
{
	return type == ALBM_SYNC_T_FLOWS    ? ALBM_SYNC_MAX_FLOWS
	       : type == ALBM_SYNC_T_TABLES ? ALBM_SYNC_MAX_TABLES
					    : 0;
}

enum albm_sync_verdict albm_sync_decode(const uint8_t *buf, size_t len,
					const uint8_t key[ALBM_KEY_LEN], struct albm_sync_msg *m,
					char *err, size_t errlen)
{
	uint8_t tag[ALBM_SYNC_TAG_LEN];
	enum albm_sync_verdict v;
	size_t body, count;

	m->n = 0;
	v = sync_check_frame(buf, len, err, errlen);
	if (v)
		return v;
	body = len - ALBM_SYNC_TAG_LEN;
	if (sync_tag(key, buf, body, tag) || CRYPTO_memcmp(tag, buf + body, ALBM_SYNC_TAG_LEN)) {
		albm_seterr(err, errlen, "bad HMAC (wrong key or tampered sync message)");
		return ALBM_SYNC_FORGED;
	}
	count = (size_t)get_be(buf + 12, 2);
	if (!type_max(buf[5]) || get_be(buf + 14, 2) != 0 || count > type_max(buf[5])) {
		albm_seterr(err, errlen, "sync type %u / flags %#x / count %zu not understood",
			    buf[5], (unsigned)get_be(buf + 14, 2), count);
		return ALBM_SYNC_MALFORMED;
	}
	m->type = (enum albm_sync_type)buf[5];
	m->h.sender = (uint32_t)get_be(buf + 8, 4);
	m->h.epoch = get_be(buf + 16, 8);
	m->h.seq = get_be(buf + 24, 8);
	m->h.timestamp_ms = get_be(buf + 32, 8);
	body -= ALBM_SYNC_HDR_LEN;
	if (m->type == ALBM_SYNC_T_FLOWS)
		v = sync_parse_flows(buf + ALBM_SYNC_HDR_LEN, body, count, m->flows, err, errlen);
	else
		v = sync_parse_tables(buf + ALBM_SYNC_HDR_LEN, body, count, m->tables, err, errlen);
	if (!v)
		m->n = count;
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
	uint64_t skew =
		h->timestamp_ms > now_ms ? h->timestamp_ms - now_ms : now_ms - h->timestamp_ms;
	struct albm_sync_peer next = *p;
	enum albm_sync_verdict v;

	if (skew > max_age_ms) {
		albm_seterr(
			err, errlen, "stale sync message from peer %u: %llu ms %s (limit %llu ms)",
			h->sender, (unsigned long long)skew,
			h->timestamp_ms > now_ms ? "ahead" : "old", (unsigned long long)max_age_ms);
		return ALBM_SYNC_STALE;
	}
	if (p->seen && h->epoch < p->epoch) {
		albm_seterr(err, errlen,
			    "replayed sync message: epoch %llu of peer %u is older "
			    "than its current %llu",
			    (unsigned long long)h->epoch, h->sender, (unsigned long long)p->epoch);
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
					 uint64_t max_age_ms, struct albm_sync_msg *m, char *err,
					 size_t errlen)
{
	enum albm_sync_verdict v = albm_sync_decode(buf, len, key, m, err, errlen);

	if (v)
		return v;
	for (size_t i = 0; i < npeers; i++) {
		if (peers[i].id == m->h.sender) {
			v = albm_sync_replay_check(&peers[i], &m->h, now_ms, max_age_ms, err,
						   errlen);
			if (v)
				m->n = 0;
			return v;
		}
	}
	m->n = 0;
	albm_seterr(err, errlen, "sync message from unknown peer id %u", m->h.sender);
	return ALBM_SYNC_UNKNOWN_PEER;
}
