/* ALBM: the DR library's private state, shared by the files of src/dr only */
#ifndef ALBM_DR_DR_PRIV_H
#define ALBM_DR_DR_PRIV_H

#include <net/if.h>
#include <stdbool.h>
#include <bpf/libbpf.h>

#include "bpf/albm_shared.h"
#include "albm_xdp.skel.h"
#include "common/addr.h"
#include "dr/dr-t.h"

/* One real of one VIP as the library remembers it. */
struct dr_vreal {
	struct albm_addr addr;
	uint8_t mac[6];
	uint32_t weight;
	uint32_t index;
};

/* One VIP: slot `num` of dr->vips owns lookup tables 2*num and 2*num+1. */
struct dr_vip {
	bool used;
	struct albm_addr addr;
	struct albm_vip_key key;
	uint32_t active; /* the table the VIP map points at */
	struct dr_vreal *reals;
	size_t nreals;
	uint32_t table[ALBM_TABLE_SIZE]; /* copy of the active table */
};

struct albm_dr {
	struct albm_xdp *skel;
	int link_fd; /* -1: not attached */
	int ifindex;
	char ifname[IF_NAMESIZE];
	int ncpus;
	struct dr_vip vips[ALBM_MAX_VIPS];
	bool real_used[ALBM_MAX_REALS];
	uint32_t real_gen[ALBM_MAX_REALS];
	struct ring_buffer *flow_rb; /* NULL: sync off */
	dr_flow_cb flow_cb;          /* the dr_flow_drain caller's, during the call */
	void *flow_ctx;
	struct dr_sync_stats sync; /* all but .lost (a program counter) */
};

/* Is vip one of ours (dr_vip.c)? */
bool dr_vip_known(struct albm_dr *dr, const struct albm_addr *vip);
/* Flow-event ring of a freshly loaded program (dr_flow.c); 0 or -errno. */
int dr_flow_open(struct albm_dr *dr);
/* Index of a real of a VIP (dr_vip.c), or 0 when there is no such real. */
uint32_t dr_vip_real_index(struct albm_dr *dr, const struct albm_addr *vip,
			   const struct albm_addr *real);

#endif
