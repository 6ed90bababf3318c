/* ALBM: albmd's agent report receiver — UDP, verified with the shared codec */
#ifndef ALBM_DISTRIBUTOR_AGENTS_H
#define ALBM_DISTRIBUTOR_AGENTS_H

#include "common/log.h"
#include "distributor/daemon.h"
#include "distributor/replay_store.h"

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

/*
 * One agent = one server name; every server of that name, in any service, follows
 * it.  The entry holds the one copy of the agent's latest measurement (m): each
 * follower's scheduler destination points at it (dest->report), and the views read
 * it through srv->agent.  The follower list is kept by attach/detach, so a report
 * reaches its servers without a look at any other service.
 */
struct albmd_agent {
	char name[ALBM_NAME_MAX];
	struct albm_replay replay;
	bool has_report;
	bool timed_out;
	struct albm_metrics m;           /* the latest accepted measurement (the one copy) */
	uint64_t last_ms;                /* monotonic time it arrived */
	uint64_t reports;                /* accepted */
	uint64_t rejected;               /* replays and stale ones (the name is authenticated) */
	struct albmd_server **followers; /* the servers of this name (srv->agent == this) */
	size_t nfollowers, capfollowers;
	struct albmd_agent *next;
	struct albmd_agent *hnext; /* the name index's chain (agents.c) */
};

#define ALBMD_AGENT_BUCKETS 4096 /* the name index: a report finds its agent in O(1) */

struct albmd_agents {
	struct evl_io io;
	struct albm_addr listen;
	uint8_t key[ALBM_KEY_LEN];
	uint64_t timeout_ms, max_age_ms;
	struct albmd_agent *list;
	struct albmd_agent *index[ALBMD_AGENT_BUCKETS]; /* by name, chained by hnext */
	uint64_t rejected[ALBMD_REJ_COUNT];
	uint64_t received;
	struct albm_ratelimit rl[ALBMD_REJ_COUNT]; /* the log, per reason */
	/* replay state across restarts (replay_store.c) */
	char state_dir[ALBMD_PATH_MAX];   /* "" = none: in memory only */
	struct albmd_replay_entry *saved; /* read at start: seeds agents as they appear */
	size_t nsaved;
	bool dirty; /* a report was accepted since the last write */
	struct evl_timer persist;
	struct albmd *d;
};

/* Open the UDP socket, load the key and the saved replay state (no state changes);
 * NULL with err. */
struct albmd_agents *albmd_agents_open(const struct albmd_config *cfg, char *err, size_t errlen);
/* Start receiving in d's main loop (lock not needed: main thread, before workers run or
 * with the lock held). */
void albmd_agents_start(struct albmd *d, struct albmd_agents *ag);
/* Replace the receiver (reload): entries and counters move to the new one. */
void albmd_agents_replace(struct albmd *d, struct albmd_agents *old, struct albmd_agents *ag);
/* Close; the replay state is written first when reports were accepted since the last
 * write (a clean stop leaves no replay window). */
void albmd_agents_close(struct albmd *d, struct albmd_agents *ag);
/* Write the replay state now if it changed (0, or -errno logged). */
int albmd_agents_persist(struct albmd *d, struct albmd_agents *ag);

/* Make srv follow the agent of its name (creating the entry): its destination
 * points at the agent's latest report, and it is down if the agent timed out.  The
 * caller refreshes srv (albmd_server_refresh).  Called where servers are added
 * (reload, albmctl add), with d->agents set. */
void albmd_agents_attach(struct albmd *d, struct albmd_server *srv);
/* Stop following (safe when srv follows none): the destination forgets the report,
 * agent_down is cleared; the caller refreshes srv if it stays.  Must precede
 * albmd_server_remove(): the agent keeps a pointer to its followers. */
void albmd_agents_detach(struct albmd *d, struct albmd_server *srv);
/* Forget agents no server follows any more (after a reload). */
void albmd_agents_prune(struct albmd *d);
/* Report timeouts (called every tick, lock held). */
void albmd_agents_tick(struct albmd *d);
/* Feed one datagram (lock held).  Returns the number of servers it updated (its
 * agent's followers, >= 0), or the negative reject reason - 1. */
int albmd_agents_input(struct albmd *d, const uint8_t *buf, size_t len);
bool albmd_agent_has_report(const struct albmd_agent *a);
/* ms since the agent's last report, or UINT64_MAX. */
uint64_t albmd_agent_age_ms(const struct albmd_agent *a);

#endif
