/* ALBM: albm-bench's client ramp — "1:32:4" (start:end:step) or a fixed count */
#include "lab/bench/bench_ramp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Parse one ramp field: an integer in [1, max]. */
static int ramp_field(const char *s, size_t n, unsigned max, unsigned *out)
{
	char buf[16];
	uint64_t v;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (albm_parse_u64(buf, &v) || v < 1 || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int bench_ramp_parse(const char *text, struct bench_ramp *ramp, char *err, size_t errlen)
{
	unsigned f[3] = { 0, 0, 1 };
	const char *p = text ? text : "";
	size_t nf = 0;

	for (;;) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (nf == 3 || ramp_field(p, n, BENCH_CLIENTS_MAX, &f[nf])) {
			albm_seterr(err, errlen,
				    "clients '%s': expected N or START:END[:STEP], each 1..%u",
				    text ? text : "", BENCH_CLIENTS_MAX);
			return -EINVAL;
		}
		nf++;
		if (!c)
			break;
		p = c + 1;
	}
	if (nf == 1)
		f[1] = f[0];
	if (f[0] > f[1]) {
		albm_seterr(err, errlen, "clients '%s': START must not exceed END", text);
		return -EINVAL;
	}
	ramp->start = f[0];
	ramp->end = f[1];
	ramp->step = f[2];
	if (bench_ramp_steps(ramp) > BENCH_STEPS_MAX) {
		albm_seterr(err, errlen, "clients '%s': more than %u steps", text, BENCH_STEPS_MAX);
		return -EINVAL;
	}
	return 0;
}

size_t bench_ramp_steps(const struct bench_ramp *ramp)
{
	size_t n = (ramp->end - ramp->start) / ramp->step + 1;

	/* END is appended when START + k*STEP does not land on it. */
	return (ramp->end - ramp->start) % ramp->step ? n + 1 : n;
}

unsigned bench_ramp_clients(const struct bench_ramp *ramp, size_t i)
{
	uint64_t c = ramp->start + (uint64_t)i * ramp->step;

	return c > ramp->end ? ramp->end : (unsigned)c;
}

char *bench_ramp_format(const struct bench_ramp *ramp, char *buf, size_t len)
{
	if (ramp->start == ramp->end)
		snprintf(buf, len, "%u", ramp->start);
	else
		snprintf(buf, len, "%u:%u:%u", ramp->start, ramp->end, ramp->step);
	return buf;
}
