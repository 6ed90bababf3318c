/* ALBM: albm-httpd's CPU burner — real computation for a given CPU time */
#ifndef ALBM_LAB_HTTPD_CPU_H
#define ALBM_LAB_HTTPD_CPU_H

#include <stdint.h>

/*
 * Compute (an integer mixing loop) until this thread has used `ns` of CPU time.
 * Measured on CLOCK_THREAD_CPUTIME_ID, not the wall clock: when the machine is
 * busy the burn takes longer in wall time but costs the same CPU, which is how a
 * real per-request computation behaves.  Returns the CPU time actually used.
 */
uint64_t httpd_cpu_burn(uint64_t ns);
/* This thread's CPU time in ns. */
uint64_t httpd_cpu_now_ns(void);

#endif
