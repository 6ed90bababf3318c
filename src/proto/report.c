/* ALBM: agent report codec — big-endian header, optional fields (v2), HMAC-SHA256 tag, replay check
 */
#include "proto/report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/util.h"

/*
 * Layout of versions 1 and 2 (docs/protocol.md has the same tables):
 *
 *   off len  field
 *     0   4  magic "ALBR"
 *     4   1  version (1)
 *     5   1  type (1 = report)
 *     6   2  total datagram length, tag included
 *     8   8  boot_id
 *    16   8  seq
 *    24   8  timestamp_ms
 *    32   4  interval_ms
 *    36   1  state (0 ok, 1 overloaded)
 *    37   1  name_len (1..ALBM_NAME_MAX-1)
 *    38   2  v1: flags (0; reserved)   v2: ext_len, the length of the fields at 80+n
 *    40   8  mem_total_bytes
 *    48   8  mem_available_bytes
 *    56   8  cpu_util  (IEEE-754 binary64)
 *    64   8  load1     (IEEE-754 binary64)
 *    72   4  run_queue
 *    76   4  tcp_established
 *    80   n  name (printable ASCII, no NUL)
 *  80+n   e  v2 only: optional fields, e = ext_len bytes of (type u8, len u8, value),
 *            types strictly increasing; a receiver skips types it does not know
 * 80+n+e 32  HMAC-SHA256(key, bytes 0 .. 80+n+e-1)
 *
 * Optional fields (type: value; bit (type - 1) of struct albm_metrics.present):
 *   1-3  host PSI memory, cpu, io        4 x u16: some_avg10, full_avg10, some_pct,
 *   4-6  cgroup PSI memory, cpu, io               full_pct in hundredths of a percent
 *   7    majfault_rate                   binary64, finite, >= 0
 *   8    oom_kills                       u64
 */
#define REPORT_MAGIC   "ALBR"
#define REPORT_TYPE    1
#define REPORT_HDR_LEN 80
#define REPORT_TAG_LEN 32
#define REPORT_MIN_LEN (REPORT_HDR_LEN + 1 + REPORT_TAG_LEN)

enum {
	TLV_HOST_PSI = 1, /* .. 3 */
	TLV_CG_PSI = 4,   /* .. 6 */
	TLV_MAJFAULT = 7,
	TLV_OOM_KILLS = 8,
	TLV_LAST_KNOWN = 8,
};
#define TLV_PSI_LEN 8 /* 4 x u16 */

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

static uint64_t double_bits(double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

static double bits_double(uint64_t v)
{
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

bool albm_report_name_valid(const char *name)
{
	size_t n = strnlen(name, ALBM_NAME_MAX);

	if (n == 0 || n >= ALBM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	return true;
}

/*
 * The keyed HMAC of the last key, kept: OpenSSL 3's one-shot HMAC() fetches the
 * algorithm and allocates its contexts on every call, which at 10,000 reports/s was a
 * third of albmd's CPU (make bench-control).  EVP_MAC_init() with a NULL key starts a
 * new message with the key already set.  One cache for the process, under a mutex
 * (albmd decodes on its main thread; the lock is uncontended).
 */
static pthread_mutex_t tag_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_MAC_CTX *tag_ctx;
static uint8_t tag_key[ALBM_KEY_LEN];

static EVP_MAC_CTX *tag_ctx_for(const uint8_t key[ALBM_KEY_LEN])
{
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
				OSSL_PARAM_construct_end() };
	EVP_MAC *mac;

	if (tag_ctx && !CRYPTO_memcmp(tag_key, key, ALBM_KEY_LEN))
		return EVP_MAC_init(tag_ctx, NULL, 0, NULL) ? tag_ctx : NULL;
	EVP_MAC_CTX_free(tag_ctx);
	tag_ctx = NULL;
	if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
		return NULL;
	tag_ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!tag_ctx || !EVP_MAC_init(tag_ctx, key, ALBM_KEY_LEN, params)) {
		EVP_MAC_CTX_free(tag_ctx);
		tag_ctx = NULL;
		return NULL;
	}
	memcpy(tag_key, key, ALBM_KEY_LEN);
	return tag_ctx;
}

/* HMAC-SHA256 of buf[0..len) into tag; 0 or -EIO when libcrypto fails. */
static int report_tag(const uint8_t key[ALBM_KEY_LEN], const uint8_t *buf, size_t len,
		      uint8_t tag[REPORT_TAG_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t tlen = 0;
	int rc = -EIO;

	pthread_mutex_lock(&tag_lock);
	ctx = tag_ctx_for(key);
	if (ctx && EVP_MAC_update(ctx, buf, len) &&
	    EVP_MAC_final(ctx, tag, &tlen, REPORT_TAG_LEN) && tlen == REPORT_TAG_LEN)
		rc = 0;
	pthread_mutex_unlock(&tag_lock);
	return rc;
}

static bool psi_valid(const struct albm_psi *p)
{
	const double v[4] = { p->some_avg10, p->full_avg10, p->some_pct, p->full_pct };

	for (int i = 0; i < 4; i++)
		if (!isfinite(v[i]) || v[i] < 0.0 || v[i] > 100.0)
			return false;
	return true;
}

/* The optional fields that are present; NULL when all are in range, else a name. */
static const char *report_check_optional(const struct albm_metrics *m)
{
	if (m->present & ~ALBM_MET_ALL)
		return "present";
	for (int r = 0; r < ALBM_PSI_NRES; r++) {
		if ((m->present & ALBM_MET_HOST_PSI(r)) && !psi_valid(&m->host_psi[r]))
			return "host_psi";
		if ((m->present & ALBM_MET_CG_PSI(r)) && !psi_valid(&m->cg_psi[r]))
			return "cgroup_psi";
	}
	if ((m->present & ALBM_MET_MAJFAULT) &&
	    (!isfinite(m->majfault_rate) || m->majfault_rate < 0.0))
		return "majfault_rate";
	return NULL;
}

/* Value checks shared by encode and decode; 0 or -EBADMSG naming the field. */
static int report_check_fields(const struct albm_report *r, char *err, size_t errlen)
{
	const struct albm_metrics *m = &r->m;
	const char *bad = NULL;

	if (r->m.state != ALBM_AGENT_OK && r->m.state != ALBM_AGENT_OVERLOADED)
		bad = "state";
	else if (!albm_report_name_valid(m->name))
		bad = "name";
	else if (r->interval_ms == 0)
		bad = "interval_ms";
	else if (m->mem_available_bytes > m->mem_total_bytes)
		bad = "mem_available_bytes";
	else if (!isfinite(m->cpu_util) || m->cpu_util < 0.0 || m->cpu_util > 1.0)
		bad = "cpu_util";
	else if (!isfinite(m->load1) || m->load1 < 0.0)
		bad = "load1";
	else
		bad = report_check_optional(m);
	if (bad) {
		albm_seterr(err, errlen, "report field %s out of range", bad);
		return -EBADMSG;
	}
	return 0;
}

/* The PSI field of type t (1-6). */
static struct albm_psi *tlv_psi(struct albm_metrics *m, int t)
{
	return t < TLV_CG_PSI ? &m->host_psi[t - TLV_HOST_PSI] : &m->cg_psi[t - TLV_CG_PSI];
}

static const struct albm_psi *tlv_psi_of(const struct albm_metrics *m, int t)
{
	return t < TLV_CG_PSI ? &m->host_psi[t - TLV_HOST_PSI] : &m->cg_psi[t - TLV_CG_PSI];
}

/* Write the optional fields of m present into p (NULL: only measure); returns the
 * number of bytes. */
static size_t report_put_ext(const struct albm_metrics *m, uint8_t *p)
{
	size_t n = 0;

	for (int t = 1; t <= TLV_LAST_KNOWN; t++) {
		size_t len = t < TLV_MAJFAULT ? TLV_PSI_LEN : 8;

		if (!(m->present & (1u << (t - 1))))
			continue;
		if (p) {
			uint8_t *v = p + n + 2;

			p[n] = (uint8_t)t;
			p[n + 1] = (uint8_t)len;
			if (t < TLV_MAJFAULT) {
				const struct albm_psi *psi = tlv_psi_of(m, t);
				const double f[4] = { psi->some_avg10, psi->full_avg10,
						      psi->some_pct, psi->full_pct };

				for (int i = 0; i < 4; i++)
					put_be(v + 2 * i, (uint64_t)lround(f[i] * 100.0), 2);
			} else if (t == TLV_MAJFAULT) {
				put_be(v, double_bits(m->majfault_rate), 8);
			} else {
				put_be(v, m->oom_kills, 8);
			}
		}
		n += 2 + len;
	}
	return n;
}

int albm_report_encode(const struct albm_report *r, const uint8_t key[ALBM_KEY_LEN], uint8_t *buf,
		       size_t len)
{
	const struct albm_metrics *m = &r->m;
	size_t nlen, ext, total;
	int rc;

	if (r->version < ALBM_REPORT_VERSION_MIN || r->version > ALBM_REPORT_VERSION ||
	    report_check_fields(r, NULL, 0))
		return -EINVAL;
	nlen = strlen(m->name);
	ext = r->version >= 2 ? report_put_ext(m, NULL) : 0;
	total = REPORT_HDR_LEN + nlen + ext + REPORT_TAG_LEN;
	if (len < total || total > ALBM_REPORT_MAX)
		return -ENOSPC;
	memcpy(buf, REPORT_MAGIC, 4);
	buf[4] = r->version;
	buf[5] = REPORT_TYPE;
	put_be(buf + 6, total, 2);
	put_be(buf + 8, r->boot_id, 8);
	put_be(buf + 16, r->seq, 8);
	put_be(buf + 24, r->timestamp_ms, 8);
	put_be(buf + 32, r->interval_ms, 4);
	buf[36] = (uint8_t)m->state;
	buf[37] = (uint8_t)nlen;
	put_be(buf + 38, ext, 2); /* v1: the reserved flags, 0 */
	put_be(buf + 40, m->mem_total_bytes, 8);
	put_be(buf + 48, m->mem_available_bytes, 8);
	put_be(buf + 56, double_bits(m->cpu_util), 8);
	put_be(buf + 64, double_bits(m->load1), 8);
	put_be(buf + 72, m->run_queue, 4);
	put_be(buf + 76, m->tcp_established, 4);
	memcpy(buf + REPORT_HDR_LEN, m->name, nlen);
	if (ext)
		report_put_ext(m, buf + REPORT_HDR_LEN + nlen);
	rc = report_tag(key, buf, total - REPORT_TAG_LEN, buf + total - REPORT_TAG_LEN);
	return rc ? rc : (int)total;
}

/* Structure checks that need no key: length, magic, version, length fields. */
static int report_check_frame(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t nlen, ext;

	if (len < REPORT_MIN_LEN) {
		albm_seterr(err, errlen, "truncated report: %zu bytes, at least %d needed", len,
			    REPORT_MIN_LEN);
		return -EBADMSG;
	}
	if (len > ALBM_REPORT_MAX) {
		albm_seterr(err, errlen, "oversized report: %zu bytes, at most %d", len,
			    ALBM_REPORT_MAX);
		return -EBADMSG;
	}
	if (memcmp(buf, REPORT_MAGIC, 4)) {
		albm_seterr(err, errlen, "not an ALBM report (bad magic)");
		return -EBADMSG;
	}
	if (buf[4] < ALBM_REPORT_VERSION_MIN || buf[4] > ALBM_REPORT_VERSION) {
		albm_seterr(err, errlen,
			    "report version %u not supported (this build speaks %d-%d)", buf[4],
			    ALBM_REPORT_VERSION_MIN, ALBM_REPORT_VERSION);
		return -EPROTO;
	}
	if (get_be(buf + 6, 2) != len) {
		albm_seterr(err, errlen, "length field says %u bytes, datagram has %zu",
			    (unsigned)get_be(buf + 6, 2), len);
		return -EBADMSG;
	}
	nlen = buf[37];
	ext = buf[4] >= 2 ? get_be(buf + 38, 2) : 0; /* v1: flags, checked once signed */
	if (nlen == 0 || nlen >= ALBM_NAME_MAX ||
	    REPORT_HDR_LEN + nlen + ext + REPORT_TAG_LEN != len) {
		albm_seterr(err, errlen,
			    "name length %zu and extension length %zu do not fit a "
			    "%zu-byte report",
			    nlen, ext, len);
		return -EBADMSG;
	}
	return 0;
}

/* Decode one known optional field t (its length already checked) into m. */
static void report_get_field(struct albm_metrics *m, int t, const uint8_t *v)
{
	if (t < TLV_MAJFAULT) {
		struct albm_psi *psi = tlv_psi(m, t);

		psi->some_avg10 = (double)get_be(v, 2) / 100.0;
		psi->full_avg10 = (double)get_be(v + 2, 2) / 100.0;
		psi->some_pct = (double)get_be(v + 4, 2) / 100.0;
		psi->full_pct = (double)get_be(v + 6, 2) / 100.0;
	} else if (t == TLV_MAJFAULT) {
		m->majfault_rate = bits_double(get_be(v, 8));
	} else {
		m->oom_kills = get_be(v, 8);
	}
	m->present |= 1u << (t - 1);
}

/* The optional fields p[0..n) of a version 2 report into out; 0 or -EBADMSG. */
static int report_get_ext(const uint8_t *p, size_t n, struct albm_report *out, char *err,
			  size_t errlen)
{
	int last = 0;

	while (n) {
		int t = n >= 2 ? p[0] : -1;
		size_t len = n >= 2 ? p[1] : 0, want = t < TLV_MAJFAULT ? TLV_PSI_LEN : 8;

		if (t < 0 || len > n - 2 || t <= last || (t <= TLV_LAST_KNOWN && len != want)) {
			albm_seterr(err, errlen,
				    "optional field %d (length %zu) malformed, out of "
				    "order or repeated",
				    t, len);
			return -EBADMSG;
		}
		if (t <= TLV_LAST_KNOWN)
			report_get_field(&out->m, t, p + 2);
		else
			out->unknown_fields++;
		last = t;
		p += 2 + len;
		n -= 2 + len;
	}
	return 0;
}

int albm_report_decode(const uint8_t *buf, size_t len, const uint8_t key[ALBM_KEY_LEN],
		       struct albm_report *out, char *err, size_t errlen)
{
	uint8_t tag[REPORT_TAG_LEN];
	size_t nlen, body;
	int rc;

	rc = report_check_frame(buf, len, err, errlen);
	if (rc)
		return rc;
	nlen = buf[37];
	body = len - REPORT_TAG_LEN;
	if (report_tag(key, buf, body, tag)) {
		albm_seterr(err, errlen, "HMAC-SHA256 computation failed");
		return -EIO;
	}
	if (CRYPTO_memcmp(tag, buf + body, REPORT_TAG_LEN)) {
		albm_seterr(err, errlen, "bad HMAC (wrong key or tampered report)");
		return -EPERM;
	}
	memset(out, 0, sizeof(*out));
	out->version = buf[4];
	out->boot_id = get_be(buf + 8, 8);
	out->seq = get_be(buf + 16, 8);
	out->timestamp_ms = get_be(buf + 24, 8);
	out->interval_ms = (uint32_t)get_be(buf + 32, 4);
	out->m.state = (enum albm_agent_state)buf[36];
	out->m.mem_total_bytes = get_be(buf + 40, 8);
	out->m.mem_available_bytes = get_be(buf + 48, 8);
	out->m.cpu_util = bits_double(get_be(buf + 56, 8));
	out->m.load1 = bits_double(get_be(buf + 64, 8));
	out->m.run_queue = (uint32_t)get_be(buf + 72, 4);
	out->m.tcp_established = (uint32_t)get_be(buf + 76, 4);
	memcpy(out->m.name, buf + REPORT_HDR_LEN, nlen);
	out->m.name[nlen] = '\0';
	if (strlen(out->m.name) != nlen) { /* a NUL inside would shorten the name */
		albm_seterr(err, errlen, "report field name out of range");
		return -EBADMSG;
	}
	if (buf[5] != REPORT_TYPE || (out->version == 1 && get_be(buf + 38, 2) != 0)) {
		albm_seterr(err, errlen, "report type %u / flags %#x not understood", buf[5],
			    (unsigned)get_be(buf + 38, 2));
		return -EBADMSG;
	}
	rc = report_get_ext(buf + REPORT_HDR_LEN + nlen, body - REPORT_HDR_LEN - nlen, out, err,
			    errlen);
	return rc ? rc : report_check_fields(out, err, errlen);
}

int albm_replay_check(struct albm_replay *st, const struct albm_report *r, uint64_t now_wall_ms,
		      uint64_t max_age_ms, char *err, size_t errlen)
{
	if (r->timestamp_ms + max_age_ms < now_wall_ms) {
		albm_seterr(err, errlen, "stale report: %llu ms old (limit %llu ms)",
			    (unsigned long long)(now_wall_ms - r->timestamp_ms),
			    (unsigned long long)max_age_ms);
		return -ETIME;
	}
	if (r->timestamp_ms > now_wall_ms + max_age_ms) {
		albm_seterr(err, errlen, "report from the future: %llu ms ahead (limit %llu ms)",
			    (unsigned long long)(r->timestamp_ms - now_wall_ms),
			    (unsigned long long)max_age_ms);
		return -ETIME;
	}
	if (st->seen && r->boot_id == st->boot_id && r->seq <= st->last_seq) {
		albm_seterr(err, errlen, "replayed report: seq %llu, last accepted %llu",
			    (unsigned long long)r->seq, (unsigned long long)st->last_seq);
		return -EALREADY;
	}
	/* A new boot id is a restarted agent, unless its message predates the last one
	 * accepted: then it is an old boot's report played back. */
	if (st->seen && r->boot_id != st->boot_id && r->timestamp_ms <= st->last_ts_ms) {
		albm_seterr(err, errlen,
			    "replayed report: boot %016llx at %llu ms is not newer than the last "
			    "accepted (%llu ms)",
			    (unsigned long long)r->boot_id, (unsigned long long)r->timestamp_ms,
			    (unsigned long long)st->last_ts_ms);
		return -EALREADY;
	}
	st->boot_id = r->boot_id;
	st->last_seq = r->seq;
	st->last_ts_ms = r->timestamp_ms;
	st->seen = 1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the key file's text: 64 hex digits and an optional "\n" or "\r\n" (a key file
 * edited on Windows).  Anything else is refused with what is wrong and where. */
static int key_parse(const char *path, const char *text, size_t n, uint8_t key[ALBM_KEY_LEN],
		     char *err, size_t errlen)
{
	uint8_t any = 0;

	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	if (n != 2 * ALBM_KEY_LEN) {
		albm_seterr(err, errlen,
			    "key file %s: expected %d hex characters (%d bytes) and an optional "
			    "newline, found %zu character%s",
			    path, 2 * ALBM_KEY_LEN, ALBM_KEY_LEN, n, n == 1 ? "" : "s");
		return -EINVAL;
	}
	for (size_t i = 0; i < ALBM_KEY_LEN; i++) {
		int hi = hexval((unsigned char)text[2 * i]);
		int lo = hexval((unsigned char)text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			albm_seterr(err, errlen, "key file %s: not hexadecimal at offset %zu", path,
				    hi < 0 ? 2 * i : 2 * i + 1);
			return -EINVAL;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
		any |= key[i];
	}
	if (!any) { /* a placeholder, never a key: anyone could sign with it */
		albm_seterr(err, errlen,
			    "key file %s: the key is all zeros; make a real one "
			    "with: albm-agent --gen-key FILE",
			    path);
		return -EINVAL;
	}
	return 0;
}

/*
 * A shared secret must be readable by its owner only, as ssh insists for private
 * keys: refuse (with the chmod to run) a file that group or others may read or
 * write, and anything that is not a regular file.
 */
static int key_check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		albm_seterr(err, errlen, "key file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		albm_seterr(err, errlen, "key file %s: %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		albm_seterr(err, errlen, "key file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		albm_seterr(err, errlen,
			    "key file %s: permissions %04o are too open: the key must not be "
			    "accessible by group or others; run: chmod 600 %s",
			    path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int albm_key_load(const char *path, uint8_t key[ALBM_KEY_LEN], char *err, size_t errlen)
{
	char text[2 * ALBM_KEY_LEN + 8];
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO at the path must not hang the start-up (refused below) */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "key file %s: %s%s", path, strerror(errno),
			    errno == EACCES ? " (it must belong to the user the program runs as, "
					      "mode 0600)"
					    : "");
		return rc;
	}
	rc = key_check_file(fd, path, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	n = read(fd, text, sizeof(text));
	rc = n < 0 ? -errno : 0;
	if (n < 0)
		albm_seterr(err, errlen, "key file %s: %s", path, strerror(errno));
	close(fd);
	if (rc)
		return rc;
	if ((size_t)n == sizeof(text)) {
		albm_seterr(err, errlen,
			    "key file %s: expected %d hex characters (%d bytes) and an "
			    "optional newline, found more than %zu",
			    path, 2 * ALBM_KEY_LEN, ALBM_KEY_LEN, sizeof(text) - 1);
		rc = -EINVAL;
	} else {
		rc = key_parse(path, text, (size_t)n, key, err, errlen);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int albm_key_generate(const char *path, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t key[ALBM_KEY_LEN];
	char text[2 * ALBM_KEY_LEN + 1];
	int fd, rc = 0;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		albm_seterr(err, errlen, "key file %s: no random bytes from libcrypto", path);
		return -EIO;
	}
	for (size_t i = 0; i < ALBM_KEY_LEN; i++) {
		text[2 * i] = hex[key[i] >> 4];
		text[2 * i + 1] = hex[key[i] & 15];
	}
	text[2 * ALBM_KEY_LEN] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	/* The umask can only remove bits; fchmod makes 0600 exact. */
	errno = 0;
	if (fchmod(fd, 0600) || write(fd, text, sizeof(text)) != (ssize_t)sizeof(text) ||
	    fsync(fd)) {
		rc = errno ? -errno : -EIO;
		albm_seterr(err, errlen, "key file %s: %s", path, strerror(-rc));
		unlink(path);
	}
	close(fd);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}
