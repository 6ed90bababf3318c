/* ALBM: albmd's control socket server — Unix stream socket, mode 0600, line framing
 *
 * Runs in the main loop.  Each client gets an input buffer of one maximal line and
 * an output buffer; a line longer than ALBMD_CTL_LINE_MAX gets an error reply and
 * the connection is closed once it is sent.  Clients are limited in number and
 * closed after a minute of silence.
 */
#define LOG_COMPONENT "control"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/accept_guard.h"
#include "distributor/control.h"

#define CTL_MAX_CLIENTS    64
#define CTL_IDLE_MS        60000
/* Work per client per loop pass: pipelined commands must not stall the main thread
 * (worker 0's proxy work, agents, health checks), nor buffer replies without bound. */
#define CTL_CMDS_PER_PASS  8           /* commands run before the loop serves other events */
#define CTL_OUT_HIGH       (64u << 10) /* no command runs (nor read) while more is unsent */
#define CTL_PASS_BUDGET_MS 2           /* commands start only this long into a loop pass */

struct ctl_client {
	struct evl_io io; /* first */
	struct albmd_control *ctl;
	struct ctl_client *next;
	char in[ALBMD_CTL_LINE_MAX + 1];
	size_t inlen;
	struct albmd_buf out;
	bool eof;     /* the client closed its side: answer what came, then close */
	bool closing; /* close once out is sent */
	uint64_t last_ms;
};

struct albmd_control {
	struct evl_io io; /* first */
	struct albmd *d;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made: only it is removed at close */
	ino_t ino;
	struct ctl_client *clients;
	unsigned nclients;
	struct evl_timer idle;
	struct evl_timer more; /* clients with commands left run again on the next pass */
	unsigned rr;           /* where the next `more` pass starts (round robin) */
	struct albmd_accept_guard guard;
};

const char *albmd_control_path(const struct albmd_control *ctl)
{
	return ctl->path;
}

/* Is someone serving path?  A stale file from a crashed albmd is not. */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

/* Remove a stale socket at path; anything else there is not ours to delete (a typo in
 * `socket` must not cost a real file). */
static int remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : (albm_seterr(err, errlen, "control socket %s: %s", path,
						      strerror(errno)),
					  -errno);
	if (!S_ISSOCK(st.st_mode)) {
		albm_seterr(err, errlen,
			    "control socket %s: the path exists and is not a socket "
			    "(a %s); refusing to remove it: fix 'socket' in the control block",
			    path,
			    S_ISDIR(st.st_mode)   ? "directory"
			    : S_ISLNK(st.st_mode) ? "symbolic link"
			    : S_ISREG(st.st_mode) ? "regular file"
						  : "special file");
		return -EEXIST;
	}
	unlink(path);
	return 0;
}

struct albmd_control *albmd_control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct albmd_control *ctl;
	char dir[sizeof(sun.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int fd;

	if (!path[0] || strlen(path) >= sizeof(sun.sun_path)) {
		albm_seterr(err, errlen, "control socket path '%s' empty or too long", path);
		return NULL;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755); /* /run/albm on a fresh boot; an error shows at bind */
	}
	if (socket_alive(&sun)) {
		albm_seterr(err, errlen, "control socket %s: another albmd is running", path);
		return NULL;
	}
	if (remove_stale(path, err, errlen) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		albm_seterr(err, errlen, "control socket: %s", strerror(errno));
		return NULL;
	}
	old = umask(0177); /* born 0600: no window where others may connect */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		umask(old);
		albm_seterr(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	chmod(path, 0600);
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->io.fd = fd;
	if (lstat(path, &st) == 0) {
		ctl->dev = st.st_dev;
		ctl->ino = st.st_ino;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	evl_timer_init(&ctl->idle);
	evl_timer_init(&ctl->more);
	evl_timer_init(&ctl->guard.resume);
	return ctl;
}

static void client_close(struct albmd_control *ctl, struct ctl_client *c)
{
	struct ctl_client **pp = &ctl->clients;
	int fd = c->io.fd;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	ctl->nclients--;
	evl_del(ctl->d->loop, &c->io);
	close(fd);
	albmd_buf_free(&c->out);
	evl_defer_free(ctl->d->loop, c);
}

static bool has_line(const struct ctl_client *c)
{
	return memchr(c->in, '\n', c->inlen) != NULL;
}

/* Commands are waiting and may run now (the reply buffer has room). */
static bool client_has_work(const struct ctl_client *c)
{
	return !c->closing && c->out.len < CTL_OUT_HIGH && (has_line(c) || c->eof);
}

/* Run up to CTL_CMDS_PER_PASS complete lines, and stop early once the replies not yet
 * sent reach CTL_OUT_HIGH: a client that pipelines hundreds of `list --json` gets
 * them one pass at a time, as fast as it reads them. */
static void client_run(struct albmd_control *ctl, struct ctl_client *c)
{
	struct evl *loop = ctl->d->loop;
	char *nl;

	for (unsigned n = 0; n < CTL_CMDS_PER_PASS && client_has_work(c); n++) {
		/* a pass that ran long already (a 1,000-server list takes milliseconds):
		 * the rest waits for the next one, after the proxied traffic */
		if (albm_now_ms() - evl_now(loop) >= CTL_PASS_BUDGET_MS)
			break;
		if (!(nl = memchr(c->in, '\n', c->inlen))) {
			/* EOF: a last line may lack its newline; answer it, then close */
			if (c->inlen)
				albmd_control_exec(ctl->d, c->in, c->inlen, &c->out);
			c->inlen = 0;
			c->closing = true;
			break;
		}
		size_t len = (size_t)(nl - c->in);
		albmd_control_exec(ctl->d, c->in, len, &c->out);
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	if (!c->closing && c->inlen == sizeof(c->in) && !has_line(c)) {
		albmd_buf_printf(&c->out, "ERR command line longer than %d bytes\n\n",
				 ALBMD_CTL_LINE_MAX);
		c->closing = true;
		c->inlen = 0;
	}
}

/* Send what we can; returns false when the client was closed. */
static bool client_flush(struct albmd_control *ctl, struct ctl_client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->io.fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			client_close(ctl, c);
			return false;
		}
		albmd_buf_consume(&c->out, (size_t)n);
	}
	if (c->out.cap > CTL_OUT_HIGH) /* a big reply was sent: give its memory back */
		albmd_buf_free(&c->out);
	if (c->closing) {
		client_close(ctl, c);
		return false;
	}
	return true;
}

static void ctl_more(struct evl *loop, struct evl_timer *t);

/* After running and sending: what to wait for.  Reading stops while replies are
 * unsent above the bound or complete lines wait (the input buffer is the queue),
 * and a client with runnable lines gets the next pass of the `more` timer. */
static void client_settle(struct albmd_control *ctl, struct ctl_client *c)
{
	uint32_t ev = 0;

	if (!client_flush(ctl, c))
		return;
	if (c->out.len)
		ev |= EPOLLOUT;
	if (!c->eof && !c->closing && c->out.len < CTL_OUT_HIGH && !has_line(c) &&
	    c->inlen < sizeof(c->in))
		ev |= EPOLLIN;
	if (ev != c->io.events)
		evl_mod(ctl->d->loop, &c->io, ev);
	/* 1 ms, not 0: a timer due "now" would run again in this same pass */
	if (client_has_work(c) && !evl_timer_armed(&ctl->more))
		evl_timer_start(ctl->d->loop, &ctl->more, 1, ctl_more);
}

/* The clients with runnable lines, from where the last pass stopped. */
static void ctl_more(struct evl *loop, struct evl_timer *t)
{
	struct albmd_control *ctl =
		(struct albmd_control *)((char *)t - offsetof(struct albmd_control, more));
	struct ctl_client *c, *todo[CTL_MAX_CLIENTS];
	unsigned n = 0;

	(void)loop;
	for (c = ctl->clients; c && n < CTL_MAX_CLIENTS; c = c->next)
		if (client_has_work(c))
			todo[n++] = c;
	for (unsigned i = 0; i < n; i++) {
		c = todo[(ctl->rr + i) % n];
		client_run(ctl, c); /* may close c: the others stay valid */
		client_settle(ctl, c);
	}
	ctl->rr++;
}

static void client_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct ctl_client *c = (struct ctl_client *)io;
	struct albmd_control *ctl = c->ctl;

	c->last_ms = evl_now(loop);
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && !c->closing &&
	    c->inlen < sizeof(c->in)) {
		ssize_t n = recv(c->io.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(ctl, c);
			return;
		}
		if (n == 0)
			c->eof = true;
		else if (n > 0)
			c->inlen += (size_t)n;
	}
	client_run(ctl, c);
	client_settle(ctl, c);
}

static void ctl_accept(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_control *ctl = (struct albmd_control *)io;

	(void)revents;
	for (;;) {
		int fd = accept4(ctl->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || albmd_accept_failed(loop, &ctl->guard, errno))
				return;
			continue;
		}
		if (ctl->nclients >= CTL_MAX_CLIENTS) {
			static const char busy[] = "ERR too many control clients\n\n";
			ssize_t rc = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)rc;
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->ctl = ctl;
		c->last_ms = evl_now(loop);
		if (evl_add(loop, &c->io, fd, EPOLLIN, client_io) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->nclients++;
	}
}

static void ctl_idle(struct evl *loop, struct evl_timer *t)
{
	struct albmd_control *ctl =
		(struct albmd_control *)((char *)t - offsetof(struct albmd_control, idle));
	struct ctl_client *c, *next;

	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (evl_now(loop) - c->last_ms > CTL_IDLE_MS)
			client_close(ctl, c);
	}
	evl_timer_start(loop, t, 5000, ctl_idle);
}

void albmd_control_start(struct albmd *d, struct albmd_control *ctl)
{
	int fd = ctl->io.fd;

	ctl->d = d;
	albmd_accept_guard_init(&ctl->guard, &ctl->io, "control", d->st.control_accept_errors);
	if (evl_add(d->loop, &ctl->io, fd, EPOLLIN, ctl_accept) < 0)
		LOG_ERR("control: epoll_ctl: %s", strerror(errno));
	evl_timer_start(d->loop, &ctl->idle, 5000, ctl_idle);
}

void albmd_control_close(struct albmd *d, struct albmd_control *ctl)
{
	struct stat st;
	int fd;

	if (!ctl)
		return;
	ctl->d = d;
	while (ctl->clients)
		client_close(ctl, ctl->clients);
	fd = ctl->io.fd;
	evl_del(d->loop, &ctl->io);
	evl_timer_stop(d->loop, &ctl->idle);
	evl_timer_stop(d->loop, &ctl->more);
	albmd_accept_guard_stop(d->loop, &ctl->guard);
	if (fd >= 0)
		close(fd);
	/* only the socket we made: another albmd may have taken the path since */
	if (lstat(ctl->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}
