/* ALBM: unit tests for albm-bench's inputs — mix parsing and seeded sampling,
 * ramp parsing, URL parsing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_ramp.h"
#include "lab/bench/bench_rng.h"
#include "lab/bench/bench_url.h"

static void test_mix_parse(void **state)
{
	struct bench_mix m;
	char err[160], buf[128];
	(void)state;

	assert_int_equal(bench_mix_parse("1:50,5M:40,15M:10", &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.e[0].size, 1);
	assert_int_equal(m.e[0].weight, 50);
	assert_int_equal(m.e[1].size, 5ull << 20);
	assert_int_equal(m.e[2].size, 15ull << 20);
	assert_int_equal(m.total, 100);
	assert_string_equal(bench_mix_format(&m, buf, sizeof(buf)), "1:50,5M:40,15M:10");
	assert_int_equal(bench_mix_parse("1:50,5M:30,12800K:20", &m, err, sizeof(err)), 0);
	assert_string_equal(bench_mix_format(&m, buf, sizeof(buf)), "1:50,5M:30,12800K:20");
	assert_int_equal(bench_mix_parse("0:1,3:2", &m, err, sizeof(err)), 0); /* weights need */
	assert_int_equal(m.total, 3);                                          /* not sum to 100 */
}

static void test_mix_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"1",
		"1:",
		":5",
		"1:0",
		"x:5",
		"1:5,,2:5",
		",1:5",
		"1:5,",
		"1:5,1:6",
		"1:-5",
		"5Q:1",
		"1:5:5",
		"65G:1",
		"1:1000001",
		"1K:5,1024:5",
		"1:1,2:1,3:1,4:1,5:1,6:1,7:1,8:1,9:1,10:1,11:1,12:1,13:1,14:1,15:1,16:1,17:1",
	};
	struct bench_mix m = { .n = 99 };
	char err[160];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_true(bench_mix_parse(bad[i], &m, err, sizeof(err)) < 0);
		assert_true(strlen(err) > 0);
		assert_int_equal(m.n, 99); /* untouched on failure */
	}
	assert_true(bench_mix_parse(NULL, &m, err, sizeof(err)) < 0);
}

static void test_mix_frequencies(void **state)
{
	struct bench_mix m;
	struct bench_rng rng;
	unsigned count[3] = { 0 };
	const unsigned n = 100000;
	char err[128];
	(void)state;

	assert_int_equal(bench_mix_parse("1:50,5M:40,15M:10", &m, err, sizeof(err)), 0);
	bench_rng_seed(&rng, 42, 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = bench_mix_pick(&m, &rng);
		count[s == 1 ? 0 : s == (5ull << 20) ? 1 : 2]++;
		assert_true(s == 1 || s == (5ull << 20) || s == (15ull << 20));
	}
	/* Binomial sd is ~160 at n=100000; 1% (1000) is more than 6 sd. */
	assert_in_range(count[0], 49000, 51000);
	assert_in_range(count[1], 39000, 41000);
	assert_in_range(count[2], 9000, 11000);
}

static void test_rng_streams(void **state)
{
	struct bench_rng a, b, c;
	int same_ab = 0, diff_ac = 0;
	(void)state;

	bench_rng_seed(&a, 7, 3);
	bench_rng_seed(&b, 7, 3);
	bench_rng_seed(&c, 7, 4);
	for (int i = 0; i < 64; i++) {
		uint64_t x = bench_rng_next(&a), y = bench_rng_next(&b), z = bench_rng_next(&c);
		same_ab += x == y;
		diff_ac += x != z;
	}
	assert_int_equal(same_ab, 64); /* same (seed, stream): same sequence */
	assert_int_equal(diff_ac, 64); /* another stream: another sequence */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(bench_rng_below(&a, 1), 0);
		assert_true(bench_rng_below(&a, 3) < 3);
	}
}

static void expect_ramp(const char *text, const unsigned *want, size_t n)
{
	struct bench_ramp r;
	char err[128];

	assert_int_equal(bench_ramp_parse(text, &r, err, sizeof(err)), 0);
	assert_int_equal(bench_ramp_steps(&r), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(bench_ramp_clients(&r, i), want[i]);
}

static void test_ramp(void **state)
{
	static const unsigned paper[] = { 1, 5, 9, 13, 17, 21, 25, 29, 32 };
	static const unsigned even[] = { 2, 4, 6, 8, 10 };
	static const unsigned fixed[] = { 8 };
	static const unsigned one_by_one[] = { 3, 4, 5 };
	struct bench_ramp r;
	char err[128], buf[48];
	(void)state;

	expect_ramp("1:32:4", paper, ARRAY_SIZE(paper)); /* END appended */
	expect_ramp("2:10:2", even, ARRAY_SIZE(even));   /* lands on END: not twice */
	expect_ramp("8", fixed, 1);
	expect_ramp("4:4:3", (const unsigned[]){ 4 }, 1);
	expect_ramp("3:5", one_by_one, 3);
	assert_int_equal(bench_ramp_parse("1:32:4", &r, err, sizeof(err)), 0);
	assert_string_equal(bench_ramp_format(&r, buf, sizeof(buf)), "1:32:4");
	assert_int_equal(bench_ramp_parse("8", &r, err, sizeof(err)), 0);
	assert_string_equal(bench_ramp_format(&r, buf, sizeof(buf)), "8");
	static const char *const bad[] = { "",        "0",    "5:1",   "1:2:0",   "a",
					   "1:2:3:4", "1::2", "10001", "1:10001", ":3",
					   "3:",      "-1",   "1:2:x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(bench_ramp_parse(bad[i], &r, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(bench_ramp_parse("1:2000:1", &r, err, sizeof(err)), -EINVAL); /* steps */
}

static void test_url(void **state)
{
	struct bench_url u;
	char err[200];
	(void)state;

	assert_int_equal(bench_url_parse("http://127.0.0.1:8080", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1:8080");
	assert_string_equal(u.prefix, "");
	assert_int_equal(albm_addr_port(&u.addr), 8080);
	assert_int_equal(bench_url_parse("http://[::1]:9000/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "[::1]:9000");
	assert_int_equal(albm_addr_family(&u.addr), AF_INET6);
	assert_string_equal(u.prefix, "");
	assert_int_equal(bench_url_parse("http://10.0.0.1", &u, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_port(&u.addr), 80);
	assert_int_equal(bench_url_parse("http://[::1]", &u, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_port(&u.addr), 80);
	assert_int_equal(bench_url_parse("http://127.0.0.1:81/lab/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.prefix, "/lab");
}

static void test_url_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1:80",
		"https://127.0.0.1:443",
		"http://",
		"http:///x",
		"http://localhost:80",
		"http://1.2.3.4:99999",
		"http://u@1.2.3.4:80",
		"http://1.2.3.4:80/a?b",
		"http://1.2.3.4:80/a#b",
		"http://1.2.3.4:80/a b",
		"ftp://1.2.3.4",
		"http://::1:80",
		"http://1.2.3.4:",
	};
	struct bench_url u;
	char err[200];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(bench_url_parse(bad[i], &u, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(bench_url_parse(NULL, &u, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_parse),
		cmocka_unit_test(test_mix_bad),
		cmocka_unit_test(test_mix_frequencies),
		cmocka_unit_test(test_rng_streams),
		cmocka_unit_test(test_ramp),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_url_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
