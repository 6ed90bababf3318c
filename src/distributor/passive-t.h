/* ALBM: types of albmd's passive measurements of a server (connect, TTFB, duration) */
#ifndef ALBM_DISTRIBUTOR_PASSIVE_T_H
#define ALBM_DISTRIBUTOR_PASSIVE_T_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The figures, in the order of struct albm_dest_passive's. */
enum albmd_passive_fig {
	ALBMD_PASSIVE_CONNECT = 0, /* connect() to the server until it is established */
	ALBMD_PASSIVE_TTFB,        /* first request byte forwarded -> first response byte */
	ALBMD_PASSIVE_DURATION,    /* established -> closed */
	ALBMD_PASSIVE_NFIG,
};

#define ALBMD_PASSIVE_WINDOW    64    /* samples kept per figure for the p90 ... */
#define ALBMD_PASSIVE_WINDOW_MS 10000 /* ... none older than this */

/* One figure: its EWMA and the ring of its latest samples. */
struct albmd_passive_ring {
	double ewma_us;                    /* 0 until the first sample */
	uint64_t samples;                  /* taken so far */
	uint32_t us[ALBMD_PASSIVE_WINDOW]; /* the latest samples (µs, saturated) */
	uint32_t ms[ALBMD_PASSIVE_WINDOW]; /* when each was taken (ms clock, wraps) */
	unsigned head;                     /* next slot to write */
};

/* What the data plane has measured of one server, written by the workers that relay
 * its connections and published into the scheduler's dest->passive by the tick.
 * The lock is a leaf: nothing is taken under it. */
struct albmd_passive {
	pthread_mutex_t lock;
	struct albmd_passive_ring fig[ALBMD_PASSIVE_NFIG];
	uint64_t errors;  /* failed connections (cumulative) */
	uint32_t waiting; /* requests forwarded, no response byte yet */
	bool dirty;       /* something new since the last publication */
};

#endif
