/* ALBM: albmd's log of server state transitions — up, overloaded, recovered, full, down, back,
 * drained
 *
 * The states come from several inputs (agents, health checks, the passive check, the
 * scheduler's maxconn and learnt limit, the operator) and some change on every
 * connection (a server at its maxconn), so the log does not hook each input: every
 * tick (100 ms) it compares each server's state with the one it last told of.  A
 * flapping server gets ALBMD_SLOG_BURST lines per window, then, when the window ends,
 * one line saying where it ended and how many transitions were not logged: the last
 * state is always in the log.
 */
#define LOG_COMPONENT "state"
#include "distributor/state_log.h"

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"
#include "sched/albm_adaptive.h"

const char *albmd_log_state_name(enum albmd_log_state s)
{
	static const char *const names[] = { "up",
					     "unknown",
					     "overloaded",
					     "full",
					     "drained",
					     "disabled",
					     "down (health check failed)",
					     "down (agent silent)",
					     "down (failed connects)" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static bool albm_full(const struct albmd_server *srv)
{
	struct albm_adapt_info info;

	return albm_adapt_info(&srv->svc->sched, srv->dest, &info) == 0 &&
	       info.state == ALBM_ADAPT_FULL;
}

enum albmd_log_state albmd_log_state_of(const struct albmd *d, const struct albmd_server *srv)
{
	switch (albmd_server_state(d, srv)) {
	case ALBMD_ST_DOWN:
		return srv->admin == ALBMD_ADMIN_DISABLED ? ALBMD_LS_DISABLED
		       : srv->hc_down                     ? ALBMD_LS_HC_DOWN
		       : srv->agent_down                  ? ALBMD_LS_SILENT
							  : ALBMD_LS_FAILED;
	case ALBMD_ST_DRAIN:
		return ALBMD_LS_DRAINED;
	case ALBMD_ST_OVERLOADED:
		return srv->dest->flags & ALBM_DEST_F_AGENT_OVL ? ALBMD_LS_OVERLOADED
								: ALBMD_LS_FULL;
	case ALBMD_ST_UNKNOWN:
		return ALBMD_LS_UNKNOWN;
	default:
		return albm_full(srv) ? ALBMD_LS_FULL : ALBMD_LS_UP;
	}
}

/* The word for coming back up: what the operator looks for in the log. */
static const char *up_word(enum albmd_log_state from)
{
	switch (from) {
	case ALBMD_LS_OVERLOADED:
	case ALBMD_LS_FULL:
		return "recovered";
	case ALBMD_LS_UNKNOWN:
		return "reporting";
	case ALBMD_LS_DRAINED:
	case ALBMD_LS_DISABLED:
		return "enabled";
	default:
		return "back";
	}
}

static void log_transition(const struct albmd_server *srv, enum albmd_log_state from,
			   enum albmd_log_state to)
{
	if (to == ALBMD_LS_UP)
		LOG_INFO("service '%s': server '%s' %s -> up (%s)", srv->svc->name, srv->name,
			 albmd_log_state_name(from), up_word(from));
	else
		LOG_INFO("service '%s': server '%s' %s -> %s", srv->svc->name, srv->name,
			 albmd_log_state_name(from), albmd_log_state_name(to));
}

static void server_check(const struct albmd *d, struct albmd_server *srv, uint64_t now)
{
	struct albmd_state_log *l = &srv->slog;
	enum albmd_log_state cur = albmd_log_state_of(d, srv);

	if (!l->init) { /* its first state is in the start-up or `add` lines */
		*l = (struct albmd_state_log){ .init = true,
					       .logged = (uint8_t)cur,
					       .window_ms = now };
		return;
	}
	if (now - l->window_ms >= ALBMD_SLOG_WINDOW_MS) {
		if (l->suppressed)
			LOG_INFO("service '%s': server '%s' is %s (%u transition(s) not logged)",
				 srv->svc->name, srv->name, albmd_log_state_name(cur),
				 l->suppressed);
		l->window_ms = now;
		l->lines = l->suppressed = 0;
		l->logged = (uint8_t)cur;
	}
	if (cur == l->logged)
		return;
	if (l->lines < ALBMD_SLOG_BURST) {
		log_transition(srv, (enum albmd_log_state)l->logged, cur);
		l->lines++;
	} else {
		l->suppressed++;
	}
	l->logged = (uint8_t)cur;
}

void albmd_state_log_tick(struct albmd *d, uint64_t now_ms)
{
	if (albm_log_level < ALBM_LOG_INFO)
		return;
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		for (size_t j = 0; j < svc->sched.ndests; j++)
			server_check(d, albmd_dest_server(svc->sched.dests[j]), now_ms);
	}
}
