/* ALBM: albmd's memory guard — refuse clients before the memory cgroup's limit, never die */
#ifndef ALBM_DISTRIBUTOR_MEMGUARD_H
#define ALBM_DISTRIBUTOR_MEMGUARD_H

#include <stdbool.h>
#include <stdint.h>

struct albmd;

/* a connection's memory, counted generously: two
 * sockets and their epoll items (kernel memory,
 * charged to the cgroup), the object, a small stash */
#define ALBMD_MEM_PER_CONN (16 * 1024)

/* What the guard decides from one measurement (pure; tests/unit/test_memguard.c). */
struct albmd_mem_verdict {
	bool pressure;     /* pause accepting */
	uint64_t conn_cap; /* accept until this many connections (0: no cap) */
};

/*
 * limit: the cgroup's (0: none), working: its usage less the reclaimable page cache,
 * conns: connections now, was: pressure before.  Pressure from 85 % of the limit until
 * usage falls below 75 %; below 85 % the connections that still fit at
 * ALBMD_MEM_PER_CONN each, so that the 100 ms between two measurements cannot
 * overshoot.
 */
struct albmd_mem_verdict albmd_mem_decide(uint64_t limit, uint64_t working, uint64_t conns,
					  bool was);

/* Find albmd's memory cgroup (v1 or v2) and its limit; no limit, no guard (and no
 * reads).  Start-up. */
void albmd_memguard_open(struct albmd *d);
/* Every tick (100 ms, main thread): measure, and publish the verdict in d->hot. */
void albmd_memguard_tick(struct albmd *d);
void albmd_memguard_close(struct albmd *d);
/* For the views: the limit (0: none) and the last working set measured. */
uint64_t albmd_memguard_limit(const struct albmd *d);
uint64_t albmd_memguard_working(const struct albmd *d);

#endif
