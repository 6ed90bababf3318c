/* ALBM: albm-bench's open-loop rates — "--rate 20,28,34.5" (requests/s, one step each) */
#include "lab/bench/bench_rate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* One rate: digits with at most one '.', no sign, no exponent, no junk. */
static int rate_one(const char *s, size_t n, double *out)
{
	char buf[32], *end;
	size_t dots = 0;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	}
	if (dots > 1 || s[0] == '.' || s[n - 1] == '.')
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	if (*end || !isfinite(*out) || *out <= 0 || *out > BENCH_RATE_MAX)
		return -EINVAL;
	return 0;
}

int bench_rates_parse(const char *text, struct bench_rates *rates, char *err, size_t errlen)
{
	struct bench_rates r = { .n = 0 };
	const char *p = text ? text : "";

	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (r.n == BENCH_RATES_MAX) {
			albm_seterr(err, errlen, "rate '%s': more than %d steps", text,
				    BENCH_RATES_MAX);
			return -EINVAL;
		}
		if (rate_one(p, n, &r.r[r.n])) {
			albm_seterr(err, errlen,
				    "rate '%s': expected R[,R...], each a number of requests/s "
				    "in (0, %.0f]",
				    text ? text : "", BENCH_RATE_MAX);
			return -EINVAL;
		}
		r.n++;
		if (!c)
			break;
		p = c + 1;
	}
	*rates = r;
	return 0;
}

char *bench_rates_format(const struct bench_rates *rates, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rates->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%.10g", i ? "," : "", rates->r[i]);
	return buf;
}
