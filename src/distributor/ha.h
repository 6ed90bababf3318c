/* ALBM: albmd's ha group — peers, flow sync and table heartbeats over signed UDP */
#ifndef ALBM_DISTRIBUTOR_HA_H
#define ALBM_DISTRIBUTOR_HA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"
#include "distributor/dr_group.h"
#include "dr/dr.h"
#include "proto/sync.h"

/*
 * The `ha { }` block (docs/ha.md, docs/config.md): one UDP socket on `listen`; every
 * message is a datagram of the sync codec (src/proto/sync.c: HMAC-SHA256 with the
 * group's key, sender id, epoch and sequence with a replay window per peer, a
 * timestamp checked against max-age).  Two kinds go to every peer:
 *
 *   flows       the new flows of this distributor's XDP programs (dr_group.c drains
 *               the ring), batched: a datagram leaves when full (76 IPv4 flows) or
 *               `flush` after the ring woke us; the peers pin them (dr_flow_install);
 *   heartbeats  every `heartbeat`: each group DR service's table version and digest;
 *               a peer whose tables differ from ours for longer than a table interval
 *               plus a heartbeat is counted and shown (`albmctl list`, /metrics).
 *
 * A refused datagram is counted by its verdict's name and logged (rate-limited); it
 * changes nothing.  A peer is up while heard within 3 heartbeats.  Main thread,
 * d->lock held (the loop callbacks take it).
 */

#define ALBMD_HA_DOWN_BEATS 3 /* a peer not heard for this many heartbeats is down */

struct albmd_ha_peer {
	char name[ALBM_NAME_MAX];
	uint32_t node_id;
	struct albm_addr addr;     /* where we send */
	struct albm_sync_peer win; /* its replay window */
	bool up;
	uint64_t last_heard_ms; /* monotonic; 0: never */
	uint64_t msgs_sent, send_errors, flows_sent;
	uint64_t msgs_received, heartbeats, flows_received;
	/* its tables against ours, at its last heartbeat */
	uint32_t tables_common;   /* VIPs both have */
	uint32_t tables_differ;   /* ... whose digests differ */
	uint64_t differ_since_ms; /* monotonic; 0: they agree */
	bool disagree;            /* they differed for longer than the grace */
	uint64_t disagreements;   /* such episodes */
};

struct albmd_ha {
	struct evl_io io;
	struct albmd_cfg_ha cfg; /* peers included */
	uint8_t key[ALBM_KEY_LEN];
	struct albmd_ha_peer peers[ALBMD_MAX_PEERS];
	size_t npeers;
	uint64_t epoch, seq; /* of our messages */
	struct albm_sync_flow batch[ALBM_SYNC_MAX_FLOWS];
	size_t nbatch;
	struct evl_timer beat;
	struct albmd *d;
	/* counters */
	uint64_t received;                           /* datagrams */
	uint64_t rejected[ALBM_SYNC_VERDICT__COUNT]; /* by verdict ([0], ok, unused) */
	uint64_t flows_queued;                       /* our new flows taken from the rings */
	uint64_t msgs_sent;                          /* datagrams made (each to every peer) */
	uint64_t installs[DRD_INSTALL__COUNT];       /* peers' flows, by outcome */
};

/* Bind the socket and load the key (nothing visible changes); NULL with err. */
struct albmd_ha *albmd_ha_open(const struct albmd_cfg_ha *cfg, char *err, size_t errlen);
/* Receive and send heartbeats in d's loop. */
void albmd_ha_start(struct albmd *d, struct albmd_ha *ha);
/* Same socket, new settings (reload): a kept peer (same node-id) keeps its window
 * and counters. */
void albmd_ha_update(struct albmd *d, struct albmd_ha *ha, const struct albmd_cfg_ha *cfg,
		     const uint8_t key[ALBM_KEY_LEN]);
/* A new socket (reload): nw takes old's peers, sequence and counters, old goes. */
void albmd_ha_replace(struct albmd *d, struct albmd_ha *old, struct albmd_ha *nw);
/* Send what is batched, stop, close.  NULL is ignored. */
void albmd_ha_close(struct albmd *d, struct albmd_ha *ha);

/* One new flow of ours for the peers (flow-sync on); a full batch leaves at once. */
void albmd_ha_flow(struct albmd *d, const struct dr_flow *f);
/* Send the batched flows now. */
void albmd_ha_flush(struct albmd *d);
/* One datagram from from (tests call it directly); returns its verdict. */
enum albm_sync_verdict albmd_ha_input(struct albmd *d, const uint8_t *buf, size_t len,
				      const struct albm_addr *from);

/* ha_views.c: {"node_id", "listen", "flow_sync", ..., "peers": [...]}, null without a group */
json_t *albmd_ha_json(struct albmd *d);
/* The lines of `albmctl list` under the services. */
void albmd_ha_text(struct albmd *d, struct albmd_buf *out);
/* The albm_ha_* families of /metrics. */
void albmd_ha_metrics(struct albmd *d, struct albmd_buf *out);

#endif
