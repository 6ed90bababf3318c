/* ALBM: albmd's agent report receiver — UDP, verified with the shared codec */
#ifndef ALBM_DISTRIBUTOR_AGENTS_H
#define ALBM_DISTRIBUTOR_AGENTS_H

#include "distributor/daemon.h"

/* Why a report was rejected (a label of albm_reports_rejected_total). */
enum albmd_reject {
	ALBMD_REJ_MALFORMED = 0, /* truncated, bad field (-EBADMSG) */
	ALBMD_REJ_VERSION,       /* unknown protocol version (-EPROTO) */
	ALBMD_REJ_BAD_MAC,       /* wrong key or tampered (-EPERM) */
	ALBMD_REJ_REPLAY,        /* sequence not newer (-EALREADY) */
	ALBMD_REJ_STALE,         /* timestamp too old or in the future (-ETIME) */
	ALBMD_REJ_UNKNOWN,       /* verified, but no server has that name */
	ALBMD_REJ_COUNT
};
const char *albmd_reject_name(enum albmd_reject r);

/* One agent = one server name; every server of that name, in any service, follows it. */
struct albmd_agent {
	char name[ALBM_NAME_MAX];
	struct albm_replay replay;
	bool has_report;
	bool timed_out;
	struct albm_metrics m;      /* the latest accepted measurement */
	uint64_t last_ms;           /* monotonic time it arrived */
	uint64_t reports;           /* accepted */
	uint64_t rejected;          /* replays and stale ones (the name is authenticated) */
	struct albmd_agent *next;
};

struct albmd_agents {
	struct evl_io io;
	struct albm_addr listen;
	uint8_t key[ALBM_KEY_LEN];
	uint64_t timeout_ms, max_age_ms;
	struct albmd_agent *list;
	uint64_t rejected[ALBMD_REJ_COUNT];
	uint64_t received;
};

/* Open the UDP socket and load the key (no state changes); NULL with err. */
struct albmd_agents *albmd_agents_open(const struct albmd_config *cfg, char *err, size_t errlen);
/* Start receiving in d's main loop (lock not needed: main thread, before workers run or
 * with the lock held). */
void albmd_agents_start(struct albmd *d, struct albmd_agents *ag);
/* Replace the receiver (reload): entries and counters move to the new one. */
void albmd_agents_replace(struct albmd *d, struct albmd_agents *old, struct albmd_agents *ag);
void albmd_agents_close(struct albmd *d, struct albmd_agents *ag);

/* Link srv to the agent of its name (creating the entry) and seed it with the
 * latest report. */
void albmd_agents_attach(struct albmd *d, struct albmd_server *srv);
/* Forget agents no server follows any more (after a reload). */
void albmd_agents_prune(struct albmd *d);
/* Report timeouts (called every tick, lock held). */
void albmd_agents_tick(struct albmd *d);
/* Feed one datagram (lock held); returns 0 or the negative reject reason - 1. */
int albmd_agents_input(struct albmd *d, const uint8_t *buf, size_t len);
bool albmd_agent_has_report(const struct albmd_agent *a);
/* ms since the agent's last report, or UINT64_MAX. */
uint64_t albmd_agent_age_ms(const struct albmd_agent *a);

#endif
