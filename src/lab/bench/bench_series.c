/* ALBM: albm-bench's time series — one CSV row per interval (--series FILE --interval DUR) */
#include "lab/bench/bench_series.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

void bench_series_open(struct bench_series *s, FILE *f, uint64_t interval_ms, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->interval_ns = interval_ms * 1000000ull;
	s->t0_ns = s->start_ns = albm_now_ns();
	bench_lat_init(&s->lat, BENCH_SERIES_LAT_LIMIT, seed);
	fputs("t_s,unix_s,step,warmup,requests,errors,rps,mib_s,p50_ms,p99_ms,sent\n", f);
}

void bench_series_ok(struct bench_series *s, uint64_t latency_us)
{
	s->ok++;
	bench_lat_add(&s->lat, latency_us);
}

static void series_ms(FILE *f, struct bench_lat *l, double p)
{
	uint64_t us;

	if (bench_lat_percentile(l, p, &us))
		fputc(',', f); /* no successful request: empty, as in the step CSV */
	else
		fprintf(f, ",%.3f", (double)us / 1000.0);
}

void bench_series_flush(struct bench_series *s, uint64_t now_ns)
{
	double secs = (double)(now_ns - s->start_ns) / 1e9;
	uint64_t wall_ms = albm_wall_ms();

	if (now_ns <= s->start_ns)
		return;
	fprintf(s->f, "%.3f,%llu.%03llu,%u,%d,%llu,%llu,%.3f,%.3f",
		(double)(now_ns - s->t0_ns) / 1e9, (unsigned long long)(wall_ms / 1000),
		(unsigned long long)(wall_ms % 1000), s->step, s->warmup ? 1 : 0,
		(unsigned long long)s->ok, (unsigned long long)s->errors, (double)s->ok / secs,
		(double)s->bytes / 1048576.0 / secs);
	series_ms(s->f, &s->lat, 50);
	series_ms(s->f, &s->lat, 99);
	fprintf(s->f, ",%llu\n", (unsigned long long)s->sent);
	if (fflush(s->f) || ferror(s->f))
		s->failed = true;
	s->start_ns = now_ns;
	s->ok = s->errors = s->bytes = s->sent = 0;
	bench_lat_reset(&s->lat);
}

int bench_series_close(struct bench_series *s, uint64_t now_ns)
{
	if (!s->f)
		return 0;
	/* A sliver of an interval would plot as a spurious dip or spike in the rates. */
	if (now_ns - s->start_ns >= s->interval_ns / 2)
		bench_series_flush(s, now_ns);
	bench_lat_free(&s->lat);
	s->f = NULL;
	return s->failed ? -EIO : 0;
}
