/* ALBM: the proxy's connection log — one HAProxy-style line per connection, buffered per worker
 *
 * Off by default (`access-log`, docs/albmd.md "Connection log"); then a connection's
 * close costs one branch.  When on, each worker formats the line of a closed connection
 * into its own 64 KiB buffer (no lock, no system call) and writes the buffer in one
 * write() once it is three quarters full after a batch, and on every sweep (250 ms).  A
 * file is opened O_APPEND, so the workers' writes never interleave inside a line.  To
 * syslog, each line is one datagram (facility local0, as HAProxy's examples use), sent
 * with one sendmmsg() per flush on the worker's own non-blocking socket: a slow or
 * absent syslog daemon loses lines (counted) but never stalls the relay.
 */
#define LOG_COMPONENT "alog"
#include "distributor/proxy/alog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/access_log.h"
#include "distributor/daemon.h"

#define ALOG_BUF      (64 * 1024)
#define ALOG_FLUSH_AT (ALOG_BUF * 3 / 4)
#define ALOG_LINE_MAX 512
#define ALOG_MMSG     64           /* datagrams per sendmmsg() */
#define SYSLOG_PRI    (16 * 8 + 6) /* local0.info */

struct albmd_alog_w {
	struct albmd_alog *a;   /* the target this worker writes to (referenced) */
	uint64_t gen;           /* its generation (access_log.c) */
	int sock;               /* syslog: this worker's datagram socket, -1 */
	struct alog_date date;  /* the line's accept date */
	struct alog_date sdate; /* syslog: the header's date */
	size_t len, lines;
	char buf[ALOG_BUF];
};

/* ---- formatting (pure, tests/unit/test_proxy_alog.c) ---- */

static const char *date_of(struct alog_date *dc, time_t sec, const char *fmt)
{
	struct tm tm;

	if (dc->sec != sec || !dc->text[0]) {
		localtime_r(&sec, &tm);
		if (!strftime(dc->text, sizeof(dc->text), fmt, &tm))
			dc->text[0] = '\0';
		dc->sec = sec;
	}
	return dc->text;
}

size_t alog_format(char *buf, size_t cap, const struct alog_rec *r, struct alog_date *dc)
{
	char client[ALBM_ADDRSTRLEN];
	const char *date = date_of(dc, (time_t)(r->accept_wall_ms / 1000), "%d/%b/%Y:%H:%M:%S");
	int n;

	n = snprintf(buf, cap,
		     "%s [%s.%03u] %s %s %" PRId64 "/%" PRId64 "/%" PRId64 " %" PRIu64 " %" PRIu64
		     " %c%c %u\n",
		     albm_addr_format(r->client, client, sizeof(client)), date,
		     (unsigned)(r->accept_wall_ms % 1000), r->service, r->server ? r->server : "-",
		     r->tw, r->tc, r->tt, r->bytes_in, r->bytes_out, r->term[0], r->term[1],
		     r->retries);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- writing ---- */

static int syslog_connect(struct albmd_alog_w *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (w->sock >= 0)
		return 0;
	w->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->sock < 0)
		return -errno;
	/* the config checked its length */
	memcpy(sa.sun_path, w->a->path, strnlen(w->a->path, sizeof(sa.sun_path) - 1));
	if (connect(w->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(w->sock);
		w->sock = -1;
		return rc;
	}
	return 0;
}

/* The buffer's lines as datagrams (without their '\n'); how many were sent. */
static size_t syslog_send(struct albmd_alog_w *w)
{
	struct mmsghdr m[ALOG_MMSG];
	struct iovec iov[ALOG_MMSG];
	size_t sent = 0, off = 0;

	if (syslog_connect(w) < 0)
		return 0;
	while (off < w->len) {
		unsigned k = 0;
		for (; k < ALOG_MMSG && off < w->len; k++) {
			char *nl = memchr(w->buf + off, '\n', w->len - off);
			size_t n = nl ? (size_t)(nl - (w->buf + off)) : w->len - off;
			iov[k] = (struct iovec){ .iov_base = w->buf + off, .iov_len = n };
			m[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k],
							      .msg_iovlen = 1 } };
			off += n + 1;
		}
		int r = sendmmsg(w->sock, m, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0) {
			if (r < 0 &&
			    errno != EAGAIN) { /* the daemon went away: reconnect next time */
				close(w->sock);
				w->sock = -1;
			}
			break;
		}
		sent += (size_t)r;
		if ((unsigned)r < k)
			break; /* its queue is full: the rest is lost */
	}
	return sent;
}

static void alog_flush(struct albmd_pworker *pw)
{
	struct albmd_alog_w *w = pw->alog;
	size_t ok;

	if (!w || !w->len)
		return;
	if (w->a->kind == ALBMD_ALOG_FILE)
		ok = write(w->a->fd, w->buf, w->len) == (ssize_t)w->len ? w->lines : 0;
	else
		ok = syslog_send(w);
	ALBMD_STAT_ADD(pw->d->st.alog_lines, ok);
	if (ok < w->lines) {
		ALBMD_STAT_ADD(pw->d->st.alog_dropped, w->lines - ok);
		LOG_RL(ALBM_LOG_WARN, "access-log %s: %zu line(s) lost", w->a->path, w->lines - ok);
	}
	w->len = w->lines = 0;
}

void alog_flush_some(struct albmd_pworker *pw)
{
	uint64_t seen = pw->alog ? pw->alog->gen : pw->alog_gen;

	if (albmd_alog_generation(pw->d) != seen) /* a reload changed it: at once */
		alog_sync(pw);
	else if (pw->alog && pw->alog->len >= ALOG_FLUSH_AT)
		alog_flush(pw);
}

/* The syslog header: "<PRI>Mmm dd hh:mm:ss albmd[PID]: " (RFC 3164, as syslog(3)). */
static size_t syslog_header(struct albmd_alog_w *w, char *p, size_t cap, time_t now)
{
	int n = snprintf(p, cap, "<%d>%s albmd[%ld]: ", SYSLOG_PRI,
			 date_of(&w->sdate, now, "%b %e %H:%M:%S"), (long)getpid());

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void alog_conn(struct albmd_pworker *pw, const struct albmd_conn *c, uint64_t now_ms)
{
	struct albmd_alog_w *w = pw->alog;
	uint64_t wall = albm_wall_ms();
	const struct albmd_server *srv = c->srv      ? c->srv
					 : c->ntried ? c->tried[c->ntried - 1]
						     : NULL;
	struct alog_rec r = {
		.client = &c->peer,
		.accept_wall_ms = wall - (now_ms - c->accept_ms),
		.service = c->svc ? c->svc->name : "-",
		.server = srv ? srv->name : NULL,
		.tw = c->wait_ms,
		.tc = c->connect_ms == UINT32_MAX ? -1 : (int64_t)c->connect_ms,
		.tt = (int64_t)(now_ms - c->accept_ms),
		.bytes_in = c->dir[SIDE_CLIENT].bytes,
		.bytes_out = c->dir[SIDE_SERVER].bytes,
		.term = { c->term[0], c->term[1] },
		.retries = c->attempts > 1 ? c->attempts - 1 : 0,
	};
	size_t h = 0, n;

	if (ALOG_BUF - w->len < ALOG_LINE_MAX + 64)
		alog_flush(pw);
	if (w->a->kind == ALBMD_ALOG_SYSLOG)
		h = syslog_header(w, w->buf + w->len, ALOG_BUF - w->len, (time_t)(wall / 1000));
	n = alog_format(w->buf + w->len + h, ALOG_BUF - w->len - h, &r, &w->date);
	if (!n) {
		ALBMD_STAT_ADD(pw->d->st.alog_dropped, 1);
		return;
	}
	w->len += h + n;
	w->lines++;
}

/* ---- following the daemon's target ---- */

static void alog_release(struct albmd_pworker *pw)
{
	struct albmd_alog_w *w = pw->alog;

	if (!w)
		return;
	alog_flush(pw);
	if (w->sock >= 0)
		close(w->sock);
	albmd_alog_put(w->a);
	free(w);
	pw->alog = NULL;
}

void alog_sync(struct albmd_pworker *pw)
{
	uint64_t gen = albmd_alog_generation(pw->d);
	struct albmd_alog *a;

	alog_flush(pw);
	if (pw->alog ? pw->alog->gen == gen : pw->alog_gen == gen)
		return;
	a = albmd_alog_get(pw->d, &gen);
	alog_release(pw);
	pw->alog_gen = gen;
	if (!a)
		return;
	pw->alog = xcalloc(1, sizeof(*pw->alog));
	pw->alog->a = a;
	pw->alog->gen = gen;
	pw->alog->sock = -1;
}

void alog_detach(struct albmd_pworker *pw)
{
	alog_release(pw);
}
