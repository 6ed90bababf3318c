/* ALBM: duration parsing — "200ms", "1s", "2m", "1h", "1.5s" */
#include "common/duration.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct {
	const char *unit;
	double ms;
} units[] = {
	{ "us", 0.001 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
};

int albm_duration_parse_ms(const char *text, uint64_t *ms, char *err, size_t errlen)
{
	char *end;
	double v;

	if (!text || !isdigit((unsigned char)*text)) {
		albm_seterr(err, errlen, "bad duration '%s' (e.g. 200ms, 1s, 2m)",
			    text ? text : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || !isfinite(v)) {
		albm_seterr(err, errlen, "bad duration '%s' (e.g. 200ms, 1s, 2m)", text);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		double r = v * units[i].ms;
		if (r > 1e15) {
			albm_seterr(err, errlen, "duration '%s' is too long", text);
			return -ERANGE;
		}
		*ms = (uint64_t)ceil(r);
		return 0;
	}
	if (!*end)
		albm_seterr(err, errlen, "duration '%s' needs a unit (us, ms, s, m, h)", text);
	else
		albm_seterr(err, errlen, "bad unit '%s' in duration '%s' (us, ms, s, m, h)", end,
			    text);
	return -EINVAL;
}

char *albm_duration_format(uint64_t ms, char *buf, size_t len)
{
	if (ms && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}
