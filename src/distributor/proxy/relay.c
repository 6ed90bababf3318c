/* ALBM: the proxy's relay — copy through a scratch buffer, splice through pooled pipes
 *
 * Both sockets of a connection are registered once, edge-triggered, for reading and
 * writing; the relay keeps nginx-style "ready" flags per socket so that it only
 * makes system calls that can do work.  A direction starts in copy mode
 * (read()/write() through the worker's scratch buffer: the cheapest for small
 * requests and responses) and switches to splice() through a pooled pipe as soon as
 * one read fills the buffer, so bulk transfers never cross user space.  End of
 * stream in one direction is passed on with shutdown(SHUT_WR) once the pending bytes
 * are out (half-close); the connection ends when both directions have, or on an
 * error (the caller closes it).
 */
#include "distributor/proxy/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/daemon.h"

#define PIPE_POOL_MAX   128
#define PIPE_FD_SLACK   (2 * 16) /* an accept batch (listener.c) */
#define RELAY_LEAN_READ 4096     /* a read under memory pressure */

/* ---- the pipe pool ---- */

void relay_pipes_init(struct albmd_pworker *pw)
{
	pw->pipes = xcalloc(PIPE_POOL_MAX, sizeof(*pw->pipes));
	pw->npipes = 0;
}

void relay_pipes_free(struct albmd_pworker *pw)
{
	for (size_t i = 0; i < pw->npipes; i++) {
		close(pw->pipes[i][0]);
		close(pw->pipes[i][1]);
	}
	ALBMD_STAT_SUB(pw->d->st.pipes, pw->npipes);
	free(pw->pipes);
	pw->pipes = NULL;
	pw->npipes = 0;
}

/* Descriptors left in the proxy's budget (fdlimit.c) after the connections' sockets
 * and the pipes; a pipe is optional (copy mode works without one), a backend socket
 * is not, so pipes only take what leaves room for a full accept batch. */
static bool pipe_room(struct albmd *d)
{
	uint64_t used = 2 * (ALBMD_STAT_GET(d->st.conns_current) + ALBMD_STAT_GET(d->st.pipes));

	if (__atomic_load_n(&d->hot.mem_pressure, __ATOMIC_RELAXED))
		return false; /* pipe buffers are kernel memory of albmd's cgroup */
	return used + 2 + PIPE_FD_SLACK <= __atomic_load_n(&d->hot.fd_budget, __ATOMIC_RELAXED);
}

/* An empty non-blocking pipe: 0 or -errno. */
static int pipe_get(struct albmd_pworker *pw, int p[2])
{
	if (pw->npipes) {
		pw->npipes--;
		p[0] = pw->pipes[pw->npipes][0];
		p[1] = pw->pipes[pw->npipes][1];
		return 0;
	}
	if (!pipe_room(pw->d))
		return -EMFILE;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	ALBMD_STAT_ADD(pw->d->st.pipes, 1);
	/* bigger pipes: fewer splice() calls per MiB (kept at 64 KiB if refused) */
	fcntl(p[1], F_SETPIPE_SZ, ALBMD_PIPE_SIZE);
	return 0;
}

/* Back to the pool if empty (a pipe with bytes left in it is closed, and so is any
 * pipe while descriptors or memory run short). */
static void pipe_put(struct albmd_pworker *pw, int p[2], bool empty)
{
	if (p[0] < 0)
		return;
	if (empty && pw->npipes < PIPE_POOL_MAX && pipe_room(pw->d)) {
		pw->pipes[pw->npipes][0] = p[0];
		pw->pipes[pw->npipes][1] = p[1];
		pw->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
		ALBMD_STAT_SUB(pw->d->st.pipes, 1);
	}
	p[0] = p[1] = -1;
}

void relay_release(struct albmd_conn *c)
{
	for (int i = 0; i < 2; i++) {
		pipe_put(c->pw, c->dir[i].pipe, c->dir[i].pipe_bytes == 0);
		free(c->dir[i].buf);
		c->dir[i].buf = NULL;
	}
}

/* ---- one direction ---- */

static bool dir_pending(const struct conn_dir *dr)
{
	return dr->pipe_bytes || dr->off < dr->len;
}

void relay_stash_own(struct albmd_conn *c, int i, char *buf, size_t n)
{
	struct conn_dir *dr = &c->dir[i];

	/* only as big as what waits, and freed once written (dir_flush): a slow peer
	 * costs its pending bytes, not a 64 KiB buffer for the connection's life */
	free(dr->buf);
	dr->buf = buf;
	dr->off = 0;
	dr->len = (uint32_t)n;
}

int relay_stash(struct albmd_conn *c, int i, const char *data, size_t n)
{
	char *buf = malloc(n);

	if (!buf) {
		relay_stash_own(c, i, NULL, 0);
		return -ENOMEM;
	}
	memcpy(buf, data, n);
	relay_stash_own(c, i, buf, n);
	return 0;
}

/* The socket of `side` failed (reset, or another error; -1: albmd itself ran out of
 * memory): the caller aborts. */
static int relay_failed(struct albmd_conn *c, int side)
{
	c->failed_side = (int8_t)side;
	return -1;
}

/* Write what is pending for direction i; 0 (done or would block) or -1 (error). */
static int dir_flush(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];
	int dst = c->end[1 - i].io.fd;

	while (dir_pending(dr) && c->wr_ready[1 - i]) {
		ssize_t n;
		if (dr->off < dr->len)
			n = write(dst, dr->buf + dr->off, dr->len - dr->off);
		else
			n = splice(dr->pipe[0], NULL, dst, NULL, dr->pipe_bytes,
				   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->wr_ready[1 - i] = false;
				return 0;
			}
			return relay_failed(c, 1 - i);
		}
		c->last_ms = evl_now(c->pw->loop); /* a peer that reads is not idle */
		if (dr->off < dr->len) {
			dr->off += (uint32_t)n;
			if (dr->off == dr->len) {
				free(dr->buf);
				dr->buf = NULL;
				dr->off = dr->len = 0;
			}
		} else {
			dr->pipe_bytes -= (size_t)n;
		}
	}
	return 0;
}

/* Read once from side i into direction i; >0 bytes, 0 end, -1 error, -2 would block. */
static ssize_t dir_read(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];
	int src = c->end[i].io.fd;
	ssize_t n;

	if (dr->pipe[0] >= 0) {
		n = splice(src, NULL, dr->pipe[1], NULL, ALBMD_PIPE_SIZE,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0)
			dr->pipe_bytes = (size_t)n;
		if (n < 0 && (errno == ENOMEM || errno == ENOBUFS)) {
			/* no page for the pipe (a memory cgroup at its limit): the empty
			 * pipe goes, and the direction copies through the scratch buffer */
			pipe_put(c->pw, dr->pipe, false);
			return -2;
		}
	} else {
		/* near the memory limit, small reads: what a slow peer leaves in the
		 * connection's stash stays small (memguard.c) */
		size_t want = __atomic_load_n(&c->pw->d->hot.mem_pressure, __ATOMIC_RELAXED)
				      ? RELAY_LEAN_READ
				      : ALBMD_SCRATCH_SIZE;
		n = read(src, c->pw->scratch, want);
		if (n > 0 && (size_t)n < want && !c->rdhup[i])
			c->rd_ready[i] = false; /* short read: drained (ET re-arms on new data) */
	}
	if (n < 0) {
		if (errno == EAGAIN) {
			c->rd_ready[i] = false;
			return -2;
		}
		if (errno == EINTR)
			return -2;
		return relay_failed(c, i);
	}
	return n;
}

/* Copy mode: pass freshly read bytes on, stash what does not fit. */
static int dir_copy_out(struct albmd_conn *c, int i, size_t n)
{
	const char *data = c->pw->scratch;
	ssize_t wn = 0;

	if (c->wr_ready[1 - i]) {
		wn = write(c->end[1 - i].io.fd, data, n);
		if (wn < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return relay_failed(c, 1 - i);
			c->wr_ready[1 - i] = false;
			wn = 0;
		} else if ((size_t)wn < n) {
			c->wr_ready[1 - i] = false;
		}
	}
	if ((size_t)wn < n && relay_stash(c, i, data + wn, n - (size_t)wn) < 0)
		return relay_failed(c, -1); /* no memory: albmd's own failure */
	/* a full buffer means bulk data: move this direction to splice */
	if (c->splice && n == ALBMD_SCRATCH_SIZE && c->dir[i].pipe[0] < 0 &&
	    pipe_get(c->pw, c->dir[i].pipe) < 0)
		c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
	return 0;
}

/* Move data in direction i until it would block; 0 or -1 (error: abort). */
static int dir_pump(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];

	for (;;) {
		ssize_t n;
		if (dir_pending(dr)) {
			if (dir_flush(c, i) < 0)
				return -1;
			if (dir_pending(dr))
				return 0;
		}
		if (dr->eof) {
			if (!dr->shut) {
				/* the last direction to end: the caller closes the socket,
				 * which sends the FIN after the queued bytes by itself */
				if (!c->dir[1 - i].shut)
					shutdown(c->end[1 - i].io.fd, SHUT_WR);
				dr->shut = true;
			}
			return 0;
		}
		if (!c->rd_ready[i])
			return 0;
		n = dir_read(c, i);
		if (n == -2)
			continue; /* rd_ready was cleared, or EINTR */
		if (n < 0)
			return -1;
		if (n == 0) {
			dr->eof = true;
			continue;
		}
		dr->bytes += (uint64_t)n;
		c->last_ms = evl_now(c->pw->loop);
		if (dr->pipe_bytes == 0 && dir_copy_out(c, i, (size_t)n) < 0)
			return -1;
	}
}

int relay_pump(struct albmd_conn *c)
{
	if (c->k.ufailed) /* a socket failed while the io_uring relay had it */
		return relay_failed(c, c->k.ufailed - 1);
	if (dir_pump(c, SIDE_CLIENT) < 0 || dir_pump(c, SIDE_SERVER) < 0)
		return -1;
	return c->dir[0].shut && c->dir[1].shut;
}
