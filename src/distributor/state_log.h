/* ALBM: albmd's log of server state transitions (info level, rate-limited per server) */
#ifndef ALBM_DISTRIBUTOR_STATE_LOG_H
#define ALBM_DISTRIBUTOR_STATE_LOG_H

#include <stdint.h>

#include "distributor/daemon.h"

#define ALBMD_SLOG_BURST     5     /* transition lines per server ... */
#define ALBMD_SLOG_WINDOW_MS 10000 /* ... per window; then one line with the state it ends in */

/* What the log distinguishes (finer than enum albmd_state: full and why down). */
enum albmd_log_state {
	ALBMD_LS_UP = 0,
	ALBMD_LS_UNKNOWN,    /* no agent report yet */
	ALBMD_LS_OVERLOADED, /* its agent says so */
	ALBMD_LS_FULL,       /* at its maxconn, or at the limit albm learnt */
	ALBMD_LS_DRAINED,
	ALBMD_LS_DISABLED, /* albmctl disable, `down` in the config */
	ALBMD_LS_HC_DOWN,  /* active health check failed */
	ALBMD_LS_SILENT,   /* agent silent past its timeout */
	ALBMD_LS_FAILED,   /* passive check: failed connects */
};
const char *albmd_log_state_name(enum albmd_log_state s);
enum albmd_log_state albmd_log_state_of(const struct albmd *d, const struct albmd_server *srv);

/* Compare every server's state with the one last logged and log the transitions:
 * at most ALBMD_SLOG_BURST lines per server per ALBMD_SLOG_WINDOW_MS, then one line
 * with the state a suppressed run ended in.  Called every tick (lock held). */
void albmd_state_log_tick(struct albmd *d, uint64_t now_ms);

#endif
