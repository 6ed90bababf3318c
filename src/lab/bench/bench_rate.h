/* ALBM: albm-bench's open-loop rates — "--rate 20,28,34.5" (requests/s, one step each) */
#ifndef ALBM_LAB_BENCH_RATE_H
#define ALBM_LAB_BENCH_RATE_H

#include <stddef.h>

#define BENCH_RATE_MAX  100000.0 /* requests/s of one step */
#define BENCH_RATES_MAX 64       /* steps of one open-loop run */

struct bench_rates {
	double r[BENCH_RATES_MAX]; /* requests/s, > 0 */
	size_t n;                  /* 0: closed loop */
};

/*
 * Parse "R[,R...]": one step per rate, each a decimal number of requests per second
 * in (0, BENCH_RATE_MAX] ("40", "12.5").  Returns 0 or -EINVAL with a message; the
 * rates are untouched on failure.
 */
int bench_rates_parse(const char *text, struct bench_rates *rates, char *err, size_t errlen);
/* "20,28,34.5" back from parsed rates (shortest exact decimals); returns buf. */
char *bench_rates_format(const struct bench_rates *rates, char *buf, size_t len);

#endif
