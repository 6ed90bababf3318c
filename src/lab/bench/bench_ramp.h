/* ALBM: albm-bench's client ramp — "1:32:4" (start:end:step) or a fixed count */
#ifndef ALBM_LAB_BENCH_RAMP_H
#define ALBM_LAB_BENCH_RAMP_H

#include <stddef.h>

#define BENCH_CLIENTS_MAX 10000u /* concurrent clients (one socket each) */
#define BENCH_STEPS_MAX   1000u

struct bench_ramp {
	unsigned start, end, step;
};

/*
 * Parse "N" (one step of N clients) or "START:END:STEP" with 1 <= START <= END and
 * STEP >= 1: the steps are START, START+STEP, ... while <= END, and END itself is
 * appended when the sequence does not land on it ("1:32:4" -> 1 5 9 ... 29 32), so
 * a ramp always finishes at the load asked for.  "START:END" means STEP 1.
 * Returns 0 or -EINVAL with a message.
 */
int bench_ramp_parse(const char *text, struct bench_ramp *ramp, char *err, size_t errlen);
/* Number of steps, and the client count of step i (0-based). */
size_t bench_ramp_steps(const struct bench_ramp *ramp);
unsigned bench_ramp_clients(const struct bench_ramp *ramp, size_t i);

/* "8" or "1:32:4" back from a parsed ramp; returns buf. */
char *bench_ramp_format(const struct bench_ramp *ramp, char *buf, size_t len);

#endif
