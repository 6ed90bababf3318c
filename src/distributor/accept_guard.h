/* ALBM: albmd's accept guard for the main loop's listeners (control socket, admin HTTP) */
#ifndef ALBM_DISTRIBUTOR_ACCEPT_GUARD_H
#define ALBM_DISTRIBUTOR_ACCEPT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/log.h"

/*
 * The control and admin HTTP listeners are level-triggered: when accept4() fails
 * because the process or the system ran out of descriptors (or memory), the pending
 * connection stays in the backlog and epoll reports it again at once, a busy loop.
 * The guard counts the failure by cause, logs it rate-limited and takes the listener
 * out of epoll for ALBMD_ACCEPT_PAUSE_MS, as the proxy listeners pause.
 */
#define ALBMD_ACCEPT_PAUSE_MS 250

/* Causes, the `reason` label of albm_listener_accept_errors_total (daemon.h sizes the
 * counters: ALBMD_ACCEPT_CAUSES). */
enum albmd_accept_cause {
	ALBMD_ACCEPT_EMFILE = 0, /* the process's descriptor limit */
	ALBMD_ACCEPT_ENFILE,     /* the system's */
	ALBMD_ACCEPT_NOMEM,      /* ENOBUFS, ENOMEM */
	ALBMD_ACCEPT_OTHER,      /* anything else (ECONNABORTED, EPERM from a filter...) */
};
const char *albmd_accept_cause_name(size_t i);

struct albmd_accept_guard {
	struct evl_timer resume;  /* first: the timer callback finds the guard */
	struct evl_io *io;        /* the listener */
	const char *what;         /* "control", "http": names it in the log */
	uint64_t *errors;         /* ALBMD_ACCEPT_CAUSES counters (struct albmd_stats) */
	struct albm_ratelimit rl; /* one line per cause burst, not per failed call */
	bool paused;
};

void albmd_accept_guard_init(struct albmd_accept_guard *g, struct evl_io *io, const char *what,
			     uint64_t *errors);
/* accept4() on the guarded listener failed with err (not EAGAIN or EINTR): count it,
 * log it (rate-limited) and, for a lack of descriptors or memory, pause the listener.
 * Returns true when paused: the caller stops accepting until the guard resumes it. */
bool albmd_accept_failed(struct evl *loop, struct albmd_accept_guard *g, int err);
/* Cancel a pending resume (the listener is being closed). */
void albmd_accept_guard_stop(struct evl *loop, struct albmd_accept_guard *g);

#endif
