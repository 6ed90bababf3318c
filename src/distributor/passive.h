/* ALBM: albmd's passive measurements of a server — samples in, EWMA and windowed p90 out */
#ifndef ALBM_DISTRIBUTOR_PASSIVE_H
#define ALBM_DISTRIBUTOR_PASSIVE_H

#include "distributor/passive-t.h"

struct albmd_service;

/* EWMA weight of a new sample: about the last five samples count. */
#define ALBMD_PASSIVE_ALPHA 0.2

void albmd_passive_init(struct albmd_passive *p);
void albmd_passive_destroy(struct albmd_passive *p);

/* A measurement of figure fig, in µs (any thread, no other lock held). */
void albmd_passive_sample(struct albmd_passive *p, enum albmd_passive_fig fig, uint64_t us);
/* A failed connection: connect error, or the server ended it before answering. */
void albmd_passive_error(struct albmd_passive *p);
/* A request was forwarded (+1) / its first response byte came or it ended unanswered (-1). */
void albmd_passive_waiting(struct albmd_passive *p, int delta);

/* Publish every server's figures into its scheduler destination (dest->passive):
 * the EWMAs, the p90 of each figure's samples of the last ALBMD_PASSIVE_WINDOW_MS
 * (at most ALBMD_PASSIVE_WINDOW of them; with none that recent the p90 stays),
 * counts, errors and updated_ms (the service clock, when anything was new).  Under
 * svc's lock (albmd's tick), before the scheduler's tick reads them. */
void albmd_passive_publish(struct albmd_service *svc);

/* The p90 (nearest rank) of the ring's samples taken at or after now_ms - window;
 * false when there is none.  Exposed for the unit test. */
bool albmd_passive_p90(const struct albmd_passive_ring *r, uint32_t now_ms, uint32_t window_ms,
		       uint32_t *p90);

#endif
