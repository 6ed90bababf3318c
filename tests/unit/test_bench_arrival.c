/* ALBM: unit tests for albm-bench's open loop — the seeded Poisson arrival schedule,
 * rate switches, the rate list, and accounting from intended send times */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "lab/bench/bench_arrival.h"
#include "lab/bench/bench_rate.h"
#include "lab/bench/bench_stats.h"

#define NS 1000000000ull

static struct bench_mix mix3(void)
{
	struct bench_mix m;
	char err[128];

	assert_int_equal(bench_mix_parse("1:50,5M:40,15M:10", &m, err, sizeof(err)), 0);
	return m;
}

/* Same seed, same schedule and sizes; another seed, another schedule. */
static void test_seeded(void **state)
{
	struct bench_mix m = mix3();
	struct bench_arrivals a, b, c;
	int same = 0, differ = 0;
	(void)state;

	bench_arrivals_init(&a, 42);
	bench_arrivals_init(&b, 42);
	bench_arrivals_init(&c, 43);
	bench_arrivals_set_rate(&a, 100, NS);
	bench_arrivals_set_rate(&b, 100, NS);
	bench_arrivals_set_rate(&c, 100, NS);
	for (int i = 0; i < 1000; i++) {
		uint64_t ta = bench_arrivals_next(&a), tb = bench_arrivals_next(&b);
		uint64_t tc = bench_arrivals_next(&c);
		uint64_t sa = bench_arrivals_take(&a, &m), sb = bench_arrivals_take(&b, &m);

		bench_arrivals_take(&c, &m);
		same += ta == tb && sa == sb;
		differ += ta != tc;
		assert_true(ta >= NS); /* the process starts at the time it is given */
	}
	assert_int_equal(same, 1000);
	assert_true(differ > 990);
	assert_int_equal(a.taken, 1000);
}

/* The i-th size depends on (seed, i) only: not on the rate. */
static void test_sizes_independent_of_rate(void **state)
{
	struct bench_mix m = mix3();
	struct bench_arrivals a, b;
	(void)state;

	bench_arrivals_init(&a, 7);
	bench_arrivals_init(&b, 7);
	bench_arrivals_set_rate(&a, 10, 0);
	bench_arrivals_set_rate(&b, 5000, 0);
	for (int i = 0; i < 500; i++)
		assert_int_equal(bench_arrivals_take(&a, &m), bench_arrivals_take(&b, &m));
}

/*
 * Mean rate within 1 % over 200000 arrivals (the relative sd of the estimate is
 * 1/sqrt(n) = 0.22 %), and the gaps are exponential: coefficient of variation 1,
 * and a fraction 1 - 1/e of them below the mean.
 */
static void test_mean_rate_and_shape(void **state)
{
	static const double rates[] = { 0.5, 40, 2500, 90000 };
	const unsigned n = 200000;
	struct bench_mix m = mix3();
	(void)state;

	for (size_t k = 0; k < ARRAY_SIZE(rates); k++) {
		double mean_gap = 1e9 / rates[k], sum = 0, sum2 = 0;
		struct bench_arrivals a;
		unsigned below = 0;
		uint64_t prev = 0;

		bench_arrivals_init(&a, 1000 + k);
		bench_arrivals_set_rate(&a, rates[k], 0);
		for (unsigned i = 0; i < n; i++) {
			uint64_t t = bench_arrivals_next(&a);
			double gap = (double)(t - prev);

			sum += gap;
			sum2 += gap * gap;
			below += gap < mean_gap;
			prev = t;
			bench_arrivals_take(&a, &m);
		}
		double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
		assert_true(fabs((double)n / (sum / 1e9) / rates[k] - 1) < 0.01);
		assert_true(fabs(sd / mean - 1) < 0.02);
		assert_true(fabs((double)below / n - (1 - exp(-1))) < 0.01);
	}
}

/* A new rate from a switch time on: memoryless restart, and no arrival dropped. */
static void test_rate_switch(void **state)
{
	struct bench_mix m = mix3();
	struct bench_arrivals a, ref;
	uint64_t before[64];
	size_t nb = 0;
	(void)state;

	/* Nothing pending before the switch: the process restarts at the switch. */
	bench_arrivals_init(&a, 5);
	bench_arrivals_set_rate(&a, 1, 0); /* the first arrival is ~1 s away */
	uint64_t first = bench_arrivals_next(&a);
	bench_arrivals_set_rate(&a, 1000, first - 1);
	assert_true(bench_arrivals_next(&a) >= first - 1);
	assert_true(bench_arrivals_next(&a) < first - 1 + NS / 10); /* mean gap 1 ms now */

	/* A backlog due before the switch keeps its times (same as without the switch). */
	bench_arrivals_init(&a, 9);
	bench_arrivals_init(&ref, 9);
	bench_arrivals_set_rate(&a, 100, 0);
	bench_arrivals_set_rate(&ref, 100, 0);
	uint64_t sw = NS / 2; /* ~50 arrivals due before it */
	uint64_t due = bench_arrivals_backlog(&a, sw);
	assert_in_range(due, 25, 80);
	bench_arrivals_set_rate(&a, 1, sw);
	while (bench_arrivals_next(&ref) < sw && nb < ARRAY_SIZE(before)) {
		before[nb++] = bench_arrivals_next(&ref);
		bench_arrivals_take(&ref, &m);
	}
	assert_int_equal(nb, due);
	for (size_t i = 0; i < nb; i++) {
		assert_int_equal(bench_arrivals_next(&a), before[i]);
		bench_arrivals_take(&a, &m);
	}
	/* After the backlog, the new (slow) rate: the next arrival is after the switch. */
	assert_true(bench_arrivals_next(&a) >= sw);
	assert_int_equal(bench_arrivals_backlog(&a, sw), 0);
	assert_int_equal(a.taken, due);
}

static void test_lateness(void **state)
{
	(void)state;
	assert_int_equal(bench_arrival_lateness(NS, NS, false), BENCH_ON_TIME);
	assert_int_equal(bench_arrival_lateness(NS, NS + BENCH_LATE_NS, true), BENCH_ON_TIME);
	assert_int_equal(bench_arrival_lateness(NS, NS + BENCH_LATE_NS + 1, true), BENCH_LATE_POOL);
	assert_int_equal(bench_arrival_lateness(NS, NS + BENCH_LATE_NS + 1, false),
			 BENCH_LATE_LOOP);
}

/*
 * One connection (a FIFO server with a fixed service time S) fed by the schedule,
 * every latency timed from the intended send time as the bench does.  Poisson
 * arrivals into a deterministic server (M/D/1) wait on average rho*S / (2(1-rho))
 * (Pollaczek-Khinchine): at rho = 0.5 the mean latency is 1.5 S, where a sender
 * that timed from its own send time would see S.  Past capacity the step reports
 * the rate as not met, the late arrivals as waiting for the pool.
 */
static void simulate(double rate, uint64_t service_ns, struct bench_step *st, double *mean_ms)
{
	struct bench_mix m = mix3();
	struct bench_arrivals a;
	uint64_t free_at = 0, end = 120 * NS;
	double sum = 0;

	bench_step_begin(st, 1, 1, rate);
	bench_arrivals_init(&a, 11);
	bench_arrivals_set_rate(&a, rate, 0);
	while (bench_arrivals_next(&a) < end) {
		uint64_t intended = bench_arrivals_next(&a);
		uint64_t sent = ALBM_MAX(intended, free_at); /* waits for the connection */

		if (sent >= end)
			break; /* still waiting when the window ends */
		bench_arrivals_take(&a, &m);
		bench_step_sent(st, bench_arrival_lateness(intended, sent, sent > intended));
		free_at = sent + service_ns;
		bench_step_ok(st, (free_at - intended) / 1000);
		sum += (double)(free_at - intended) / 1e6;
	}
	*mean_ms = sum / (double)st->ok;
	st->backlog = bench_arrivals_backlog(&a, end);
}

static void test_intended_time_accounting(void **state)
{
	struct bench_step st = { 0 };
	struct bench_result r;
	double mean;
	(void)state;

	bench_lat_init(&st.lat, BENCH_LAT_LIMIT, 1);
	simulate(50, 10000000, &st, &mean); /* rho = 0.5, S = 10 ms */
	assert_true(fabs(mean / 15.0 - 1) < 0.05);
	bench_step_finish(&st, 120 * NS, &r);
	assert_true(fabs(r.sent_rps / 50 - 1) < 0.03);
	assert_true(r.p99_ms > 30); /* queueing shows in the tail */

	simulate(150, 10000000, &st, &mean); /* rho = 1.5: the backlog grows without bound */
	bench_step_finish(&st, 120 * NS, &r);
	assert_true(mean > 1000);
	assert_true(r.late_pool > r.sent / 2);
	assert_int_equal(r.late_loop, 0);
	assert_true(r.backlog > 1000);
	assert_false(bench_result_rate_met(&r));
	assert_true(bench_result_late_pct(&r) > 50);
	bench_lat_free(&st.lat);
}

static void test_late_pct(void **state)
{
	struct bench_result r = { .rate = 10, .sent = 98, .late_pool = 1, .backlog = 2 };
	(void)state;

	assert_true(fabs(bench_result_late_pct(&r) - 300.0 / 100) < 1e-9);
	assert_false(bench_result_rate_met(&r));
	r.backlog = 0;
	r.late_pool = 0;
	r.late_loop = 0;
	r.sent = 100;
	assert_true(bench_result_rate_met(&r));
	r.late_loop = 1;
	assert_true(bench_result_rate_met(&r)); /* 1 % is still met */
	r.sent = 0;
	assert_true(bench_result_late_pct(&r) == 0);
}

static void test_rates_parse(void **state)
{
	static const char *const bad[] = {
		"",   "0",  "-5",  "1e3", "1,,2", ",1", "1,",  "100001", "1.2.3",
		".5", "5.", "nan", "inf", " 5",   "5 ", "0.0", "0x10",
	};
	struct bench_rates r = { .n = 99 };
	char err[200], buf[256], many[512] = "";
	(void)state;

	assert_int_equal(bench_rates_parse("40", &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.r[0] == 40);
	assert_int_equal(bench_rates_parse("20,28,34.5,0.25,100000", &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 5);
	assert_true(r.r[2] == 34.5 && r.r[3] == 0.25);
	assert_string_equal(bench_rates_format(&r, buf, sizeof(buf)), "20,28,34.5,0.25,100000");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(bench_rates_parse(bad[i], &r, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
		assert_int_equal(r.n, 5); /* untouched on failure */
	}
	for (int i = 0; i <= BENCH_RATES_MAX; i++)
		strcat(many, i ? ",1" : "1");
	assert_int_equal(bench_rates_parse(many, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(bench_rates_parse(NULL, &r, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeded),
		cmocka_unit_test(test_sizes_independent_of_rate),
		cmocka_unit_test(test_mean_rate_and_shape),
		cmocka_unit_test(test_rate_switch),
		cmocka_unit_test(test_lateness),
		cmocka_unit_test(test_intended_time_accounting),
		cmocka_unit_test(test_late_pct),
		cmocka_unit_test(test_rates_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
