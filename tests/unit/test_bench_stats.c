/* ALBM: unit tests for albm-bench's statistics and outputs — percentiles,
 * reservoir, per-step results, server shares, CSV and JSON */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/bench/bench_output.h"
#include "lab/bench/bench_stats.h"

/* 1..n in a scrambled (but fixed) order, so that sorting is exercised. */
static void add_scrambled(struct bench_lat *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		bench_lat_add(l, (i * 37u) % n + 1); /* 37 is coprime with the n used */
}

static void test_percentiles_exact(void **state)
{
	struct bench_lat l;
	uint64_t v;
	(void)state;

	bench_lat_init(&l, BENCH_LAT_LIMIT, 1);
	assert_int_equal(bench_lat_percentile(&l, 50, &v), -ENODATA);
	add_scrambled(&l, 100);
	/* Nearest rank: the smallest value with at least p% of the samples <= it. */
	assert_int_equal(bench_lat_percentile(&l, 50, &v), 0);
	assert_int_equal(v, 50);
	assert_int_equal(bench_lat_percentile(&l, 90, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(bench_lat_percentile(&l, 99, &v), 0);
	assert_int_equal(v, 99);
	assert_int_equal(bench_lat_percentile(&l, 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(bench_lat_percentile(&l, 0.5, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(bench_lat_percentile(&l, 0, &v), -ENODATA);
	assert_int_equal(bench_lat_percentile(&l, 101, &v), -ENODATA);

	bench_lat_reset(&l);
	add_scrambled(&l, 1000);
	assert_int_equal(bench_lat_percentile(&l, 99, &v), 0);
	assert_int_equal(v, 990);
	assert_int_equal(bench_lat_percentile(&l, 99.9, &v), 0);
	assert_int_equal(v, 999);
	bench_lat_add(&l, 5000); /* adding after a sort re-sorts */
	assert_int_equal(bench_lat_percentile(&l, 100, &v), 0);
	assert_int_equal(v, 5000);
	bench_lat_free(&l);
}

static void test_percentiles_small(void **state)
{
	struct bench_lat l;
	uint64_t v;
	(void)state;

	bench_lat_init(&l, BENCH_LAT_LIMIT, 1);
	bench_lat_add(&l, 7);
	assert_int_equal(bench_lat_percentile(&l, 1, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(bench_lat_percentile(&l, 99, &v), 0);
	assert_int_equal(v, 7);
	bench_lat_add(&l, 3); /* {3, 7}: p50 is rank 1, p51 rank 2 */
	assert_int_equal(bench_lat_percentile(&l, 50, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(bench_lat_percentile(&l, 51, &v), 0);
	assert_int_equal(v, 7);
	bench_lat_add(&l, (uint64_t)1 << 40); /* saturates, does not wrap */
	assert_int_equal(bench_lat_percentile(&l, 100, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	bench_lat_free(&l);
}

static void test_reservoir_bounded_and_seeded(void **state)
{
	struct bench_lat a, b;
	uint64_t va, vb;
	(void)state;

	bench_lat_init(&a, 100, 7);
	bench_lat_init(&b, 100, 7);
	add_scrambled(&a, 10007);
	add_scrambled(&b, 10007);
	assert_int_equal(a.n, 100);
	assert_int_equal(a.seen, 10007);
	assert_memory_equal(a.v, b.v, 100 * sizeof(a.v[0])); /* same seed, same sample */
	assert_int_equal(bench_lat_percentile(&a, 50, &va), 0);
	assert_int_equal(bench_lat_percentile(&b, 50, &vb), 0);
	assert_int_equal(va, vb);
	/* A uniform sample of 1..10007: its median is near 5004 (generous bounds). */
	assert_in_range(va, 3000, 7000);
	bench_lat_free(&a);
	bench_lat_free(&b);
}

static void test_step_result(void **state)
{
	struct bench_step st = { 0 };
	struct bench_result r;
	(void)state;

	bench_lat_init(&st.lat, BENCH_LAT_LIMIT, 1);
	bench_step_begin(&st, 3, 12, 0);
	for (unsigned i = 1; i <= 100; i++)
		bench_step_ok(&st, i * 1000); /* 1..100 ms */
	bench_step_error(&st, BENCH_ERR_TIMEOUT);
	bench_step_error(&st, BENCH_ERR_STATUS);
	bench_step_error(&st, BENCH_ERR_STATUS);
	st.bytes = 4ull << 20;
	bench_step_response(&st, 0, false);
	bench_step_response(&st, 0, false);
	bench_step_response(&st, 0, true);
	bench_step_response(&st, 1, false);
	bench_step_finish(&st, 2000000000ull, &r);

	assert_int_equal(r.step, 3);
	assert_int_equal(r.clients, 12);
	assert_int_equal(r.requests, 100);
	assert_int_equal(r.errors, 3);
	assert_int_equal(r.err_kind[BENCH_ERR_STATUS], 2);
	assert_int_equal(r.err_kind[BENCH_ERR_TIMEOUT], 1);
	assert_true(r.duration_s == 2.0);
	assert_true(r.rps == 50.0);
	assert_true(r.mib_s == 2.0);
	assert_true(r.has_lat);
	assert_true(r.p50_ms == 50.0 && r.p90_ms == 90.0 && r.p99_ms == 99.0);
	assert_int_equal(r.responses, 4);
	assert_true(bench_result_share(&r, 0) == 75.0);
	assert_true(bench_result_share(&r, 1) == 25.0);
	assert_true(bench_result_share(&r, 2) == 0.0);
	assert_int_equal(r.srv_err[0], 1);

	bench_step_begin(&st, 4, 12, 0); /* a new step starts from zero */
	bench_step_finish(&st, 1000000000ull, &r);
	assert_int_equal(r.requests, 0);
	assert_false(r.has_lat);
	assert_true(r.rps == 0.0);
	bench_lat_free(&st.lat);
}

static void test_servers_table(void **state)
{
	struct bench_servers s = { 0 };
	char name[16];
	(void)state;

	assert_int_equal(bench_servers_id(&s, "s1"), 0);
	assert_int_equal(bench_servers_id(&s, "s2"), 1);
	assert_int_equal(bench_servers_id(&s, "s1"), 0);
	assert_int_equal(bench_servers_id(&s, ""), 2);
	assert_string_equal(s.name[2], "unknown");
	assert_int_equal(bench_servers_id(&s, NULL), 2);
	assert_int_equal(bench_servers_id(&s, "a b,\"c"), 3);
	assert_string_equal(s.name[3], "a_b__c");
	assert_int_equal(bench_servers_id(&s, "a b,\"c"), 3); /* found again, not re-added */
	for (int i = 0; s.n < BENCH_SERVERS_MAX - 1; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		bench_servers_id(&s, name);
	}
	size_t other = bench_servers_id(&s, "one-too-many");
	assert_string_equal(s.name[other], "other");
	assert_int_equal(bench_servers_id(&s, "another"), other);
	assert_int_equal(s.n, BENCH_SERVERS_MAX);
}

/* A two-step run with two servers, as bench_run() would produce it. */
static void fake_out(struct bench_out *out)
{
	static struct bench_result res[2];

	memset(out, 0, sizeof(*out));
	memset(res, 0, sizeof(res));
	bench_servers_id(&out->servers, "s2");
	bench_servers_id(&out->servers, "s1");
	res[0] = (struct bench_result){ .step = 1,
					.clients = 1,
					.duration_s = 2,
					.requests = 10,
					.rps = 5,
					.mib_s = 1.5,
					.has_lat = true,
					.p50_ms = 1,
					.p90_ms = 2,
					.p99_ms = 3.25,
					.responses = 10 };
	res[0].srv_resp[0] = 10;
	res[1] = (struct bench_result){
		.step = 2, .clients = 5, .duration_s = 2, .errors = 4, .responses = 4
	};
	res[1].srv_resp[0] = 1;
	res[1].srv_resp[1] = 3;
	out->res = res;
	out->n = 2;
}

static void test_csv(void **state)
{
	struct bench_cfg cfg = { .rates.n = 0 }; /* closed loop */
	struct bench_out out;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	(void)state;

	fake_out(&out);
	assert_int_equal(bench_write_csv(f, &cfg, &out), 0);
	fclose(f);
	/* Share columns sorted by name, whatever the arrival order. */
	assert_string_equal(
		text, "step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms,"
		      "share_s1,share_s2\n"
		      "1,1,2.000,10,0,5.000,1.500,1.000,2.000,3.250,0.00,100.00\n"
		      "2,5,2.000,0,4,0.000,0.000,,,,75.00,25.00\n");
	free(text);
}

/* Open loop: p99.9 and the rate columns come before the shares. */
static void test_csv_open(void **state)
{
	struct bench_cfg cfg = { .rates = { .r = { 5 }, .n = 1 } };
	struct bench_out out;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	(void)state;

	fake_out(&out);
	out.res[0].rate = 5;
	out.res[0].p999_ms = 3.5;
	out.res[0].sent = 10;
	out.res[0].sent_rps = 5;
	out.res[0].late_pool = 1;
	out.res[1].rate = 5;
	assert_int_equal(bench_write_csv(f, &cfg, &out), 0);
	fclose(f);
	assert_string_equal(
		text,
		"step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms,"
		"p999_ms,rate,sent_rps,late_pct,share_s1,share_s2\n"
		"1,1,2.000,10,0,5.000,1.500,1.000,2.000,3.250,3.500,5.000,5.000,10.00,0.00,100.00\n"
		"2,5,2.000,0,4,0.000,0.000,,,,,5.000,0.000,0.00,75.00,25.00\n");
	free(text);
}

static void test_json(void **state)
{
	struct bench_out out;
	struct bench_cfg cfg;
	char *text = NULL, err[128];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_error_t jerr;
	json_t *root, *step;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(bench_url_parse("http://127.0.0.1:8080", &cfg.url, err, sizeof(err)), 0);
	assert_int_equal(bench_mix_parse("1:50,5M:50", &cfg.mix, err, sizeof(err)), 0);
	assert_int_equal(bench_ramp_parse("1:5:4", &cfg.ramp, err, sizeof(err)), 0);
	cfg.seed = 18446744073709551615ull;
	fake_out(&out);
	assert_int_equal(bench_write_json(f, &cfg, &out), 0);
	fclose(f);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "tool")), "albm-bench");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(root, "config"), "mix")),
		"1:50,5M:50");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(root, "config"), "seed")),
		"18446744073709551615");
	assert_int_equal(json_array_size(json_object_get(root, "steps")), 2);
	step = json_array_get(json_object_get(root, "steps"), 1);
	assert_int_equal(json_integer_value(json_object_get(step, "errors")), 4);
	assert_true(json_is_null(json_object_get(step, "p50_ms")));
	assert_true(json_is_null(json_object_get(step, "p999_ms")));
	assert_true(json_is_real(
		json_object_get(json_array_get(json_object_get(root, "steps"), 0), "p999_ms")));
	assert_null(json_object_get(step, "rate")); /* closed loop */
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(root, "config"), "loop")),
		"closed");
	assert_true(json_real_value(json_object_get(
			    json_object_get(json_object_get(step, "servers"), "s1"), "share")) ==
		    75.0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(root, "servers"), 0)),
			    "s1");
	json_decref(root);
	free(text);
}

static void test_share_column(void **state)
{
	char buf[80];
	(void)state;

	assert_string_equal(bench_share_column("web-1.a_b", buf, sizeof(buf)), "share_web-1.a_b");
	assert_string_equal(bench_share_column("a/b:c", buf, sizeof(buf)), "share_a_b_c");
	assert_string_equal(bench_share_column("abcdef", buf, 9), "share_ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles_exact),
		cmocka_unit_test(test_percentiles_small),
		cmocka_unit_test(test_reservoir_bounded_and_seeded),
		cmocka_unit_test(test_step_result),
		cmocka_unit_test(test_servers_table),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_open),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_share_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
