/* ALBM: libFuzzer target for the lab tools' argument parsers — albm-bench's mix, ramp,
 * URL and open-loop rates, albm-httpd's durations and /bytes/N sizes */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_ramp.h"
#include "lab/bench/bench_rate.h"
#include "lab/bench/bench_url.h"
#include "lab/httpd/httpd_cost.h"
#include "lab/httpd/httpd_route.h"

static void check_mix(const char *text)
{
	struct bench_mix mix;
	struct bench_rng rng;
	char err[256], buf[1024];

	if (bench_mix_parse(text, &mix, err, sizeof(err)))
		return;
	bench_rng_seed(&rng, 1, 0);
	for (int i = 0; i < 16; i++)
		if (bench_mix_pick(&mix, &rng) > BENCH_SIZE_MAX)
			abort();
	bench_mix_format(&mix, buf, sizeof(buf));
}

static void check_ramp(const char *text)
{
	struct bench_ramp r;
	char err[256];

	if (bench_ramp_parse(text, &r, err, sizeof(err)))
		return;
	for (size_t i = 0; i < bench_ramp_steps(&r); i++)
		if (bench_ramp_clients(&r, i) < 1 || bench_ramp_clients(&r, i) > r.end)
			abort();
}

static void check_rates(const char *text)
{
	struct bench_rates r;
	char err[256], buf[2048];

	if (bench_rates_parse(text, &r, err, sizeof(err)))
		return;
	if (!r.n || r.n > BENCH_RATES_MAX)
		abort();
	for (size_t i = 0; i < r.n; i++)
		if (!(r.r[i] > 0 && r.r[i] <= BENCH_RATE_MAX))
			abort();
	bench_rates_format(&r, buf, sizeof(buf));
}

/* Input: one selector byte, then a NUL-terminated argument. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bench_url url;
	char err[256], *text;
	uint64_t v;

	if (size < 1)
		return 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		check_mix(text);
		break;
	case 1:
		check_ramp(text);
		break;
	case 2:
		bench_url_parse(text, &url, err, sizeof(err));
		break;
	case 3:
		httpd_parse_ns(text, &v, err, sizeof(err));
		break;
	case 4:
		httpd_parse_bytes(text, &v);
		break;
	case 5:
		check_rates(text);
		break;
	}
	free(text);
	return 0;
}
