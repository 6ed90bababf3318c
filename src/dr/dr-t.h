/* ALBM: types of the DR library's flow-state sync (types only: dr.h and dr_priv.h share them) */
#ifndef ALBM_DR_DR_T_H
#define ALBM_DR_DR_T_H

#include <stdint.h>

#include "common/addr.h"

/* One flow: client address and port, the VIP and port, the real (port 0). */
struct dr_flow {
	struct albm_addr client;
	struct albm_addr vip;
	struct albm_addr real;
};
typedef void (*dr_flow_cb)(const struct dr_flow *flow, void *ctx);

/* What sync did in this process (lost and hits are the program's counters). */
struct dr_sync_stats {
	uint64_t published;    /* flow events handed to dr_flow_drain's callback */
	uint64_t lost;         /* not published: the ring buffer was full */
	uint64_t installed;    /* peers' flows written by dr_flow_install(_many) */
	uint64_t unknown_vip;  /* peers' flows refused: VIP not on this interface */
	uint64_t unknown_real; /* peers' flows refused: real not in this VIP's set */
	uint64_t hits;         /* flows not pinned here that followed a peer's entry */
};

#endif
