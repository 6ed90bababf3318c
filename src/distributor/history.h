/* ALBM: albmd's sample history — a short ring per service and server for the dashboard */
#ifndef ALBM_DISTRIBUTOR_HISTORY_H
#define ALBM_DISTRIBUTOR_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "distributor/daemon.h"

#define ALBMD_HIST_LEN         300  /* samples kept per series: 5 minutes ... */
#define ALBMD_HIST_INTERVAL_MS 1000 /* ... at one a second */

/* Take a sample when ALBMD_HIST_INTERVAL_MS passed since the last (called every tick,
 * lock held; now_ms monotonic). */
void albmd_history_tick(struct albmd *d, uint64_t now_ms);
/* Take one sample now, of every service and server (lock held). */
void albmd_history_sample(struct albmd *d);
/* The samples newer than `since` (a "seq" of an earlier answer; 0: all kept) as
 * {"interval_ms", "seq", "states", "t": [wall ms], "services": [{"name", "rps",
 * "queued", "active_conns", "servers": [{"name", "state", "mem_available_pct", "cpu",
 * "active_conns", "effective_weight", "rps"}]}]}, every array as long as "t" (null
 * where a series has no sample).  Lock held. */
json_t *albmd_history_json(struct albmd *d, uint64_t since);
/* (A service's or server's series is freed with it: albmd_*_unref in service.c.) */
/* The daemon's clock of samples (shutdown). */
void albmd_history_close(struct albmd *d);

#endif
