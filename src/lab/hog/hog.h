/* ALBM: albm-hog's load — memory held and touched, CPU demand — inside a server's cgroups */
#ifndef ALBM_LAB_HOG_HOG_H
#define ALBM_LAB_HOG_HOG_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The lab's noisy neighbour (docs/lab.md "Events"): started inside a server's
 * cgroups, it takes what another process in the server's container would take.
 *
 * Memory: `bytes` of anonymous memory, every page written at once and then again
 * every touch interval, so the pages stay in use (a neighbour that touched its
 * memory once would have it swapped out and cost the server nothing).
 * CPU: a demand in percent of one CPU, as ceil(pct / 100) threads that each spin
 * pct / threads percent of every 10 ms period.
 */
struct hog_mem {
	char *buf;
	size_t bytes;
	uint64_t sweeps; /* full passes over the memory */
};

/* Map and touch `bytes`; 0 or -errno with a message. */
int hog_mem_take(struct hog_mem *m, size_t bytes, char *err, size_t errlen);
/* Write one byte per page of the whole buffer. */
void hog_mem_touch(struct hog_mem *m);
void hog_mem_free(struct hog_mem *m);

#define HOG_CPU_PERIOD_NS   10000000ull
#define HOG_CPU_THREADS_MAX 8

struct hog_cpu {
	unsigned threads;
	unsigned pct_each; /* busy percent of each thread's period */
	volatile sig_atomic_t *stop;
	pthread_t tid[HOG_CPU_THREADS_MAX];
	unsigned started;
};

/* Start the spinning threads for `pct` (1..800) percent of one CPU; 0 or -errno. */
int hog_cpu_start(struct hog_cpu *c, unsigned pct, volatile sig_atomic_t *stop, char *err,
		  size_t errlen);
/* Join the threads (after *stop was set). */
void hog_cpu_join(struct hog_cpu *c);

#endif
