/* ALBM: albmd's accept guard — pause a level-triggered listener when descriptors run out
 *
 * Without it, one pending connection under EMFILE spins the main thread at 100 % CPU
 * (tens of thousands of failed accept4() calls a second) and floods the log.  Paused,
 * the listener is retried every ALBMD_ACCEPT_PAUSE_MS: the connection waits in the
 * backlog and is accepted as soon as a descriptor is free again.
 */
#define LOG_COMPONENT NULL
#include "distributor/accept_guard.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "distributor/daemon.h"

_Static_assert(ALBMD_ACCEPT_OTHER + 1 == ALBMD_ACCEPT_CAUSES, "daemon.h sizes the counters");

const char *albmd_accept_cause_name(size_t i)
{
	static const char *const names[] = { "emfile", "enfile", "nomem", "other" };

	return i < ARRAY_SIZE(names) ? names[i] : "?";
}

static enum albmd_accept_cause accept_cause(int err)
{
	switch (err) {
	case EMFILE:
		return ALBMD_ACCEPT_EMFILE;
	case ENFILE:
		return ALBMD_ACCEPT_ENFILE;
	case ENOBUFS:
	case ENOMEM:
		return ALBMD_ACCEPT_NOMEM;
	default:
		return ALBMD_ACCEPT_OTHER;
	}
}

/* Errors accept(2) says to treat like EAGAIN (retry): they concern one connection. */
static bool accept_transient(int err)
{
	return err == ECONNABORTED || err == EPROTO || err == ENETDOWN || err == ENOPROTOOPT ||
	       err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP ||
	       err == ENETUNREACH || err == EPERM;
}

void albmd_accept_guard_init(struct albmd_accept_guard *g, struct evl_io *io, const char *what,
			     uint64_t *errors)
{
	struct albm_ratelimit rl = ALBM_RATELIMIT_INIT(10000, 3);

	memset(g, 0, sizeof(*g));
	evl_timer_init(&g->resume);
	g->io = io;
	g->what = what;
	g->errors = errors;
	g->rl = rl;
}

static void guard_resume(struct evl *loop, struct evl_timer *t)
{
	struct albmd_accept_guard *g = (struct albmd_accept_guard *)t;

	g->paused = false;
	if (g->io->fd >= 0)
		evl_mod(loop, g->io, EPOLLIN);
}

bool albmd_accept_failed(struct evl *loop, struct albmd_accept_guard *g, int err)
{
	enum albmd_accept_cause c = accept_cause(err);

	ALBMD_STAT_ADD(g->errors[c], 1);
	if (albm_log_level >= ALBM_LOG_WARN && albm_ratelimit_ok(&g->rl))
		albm_log_write(ALBM_LOG_WARN, g->what, "accept4: %s%s", strerror(err),
			       accept_transient(err) ? "" : ": accepting paused for a moment");
	if (accept_transient(err))
		return false; /* that connection is gone; the next one may be fine */
	if (!g->paused) {
		g->paused = true;
		evl_mod(loop, g->io, 0);
		evl_timer_start(loop, &g->resume, ALBMD_ACCEPT_PAUSE_MS, guard_resume);
	}
	return true;
}

void albmd_accept_guard_stop(struct evl *loop, struct albmd_accept_guard *g)
{
	evl_timer_stop(loop, &g->resume);
	g->paused = false;
}
