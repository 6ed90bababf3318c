/* ALBM: unit tests for albm-httpd's cost model — memory per request, admission at
 * the hard limit, paging-model delays, CPU burn, /bytes/N parsing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "lab/httpd/httpd_cost.h"
#include "lab/httpd/httpd_cpu.h"
#include "lab/httpd/httpd_route.h"
#include "lab/httpd/httpd_server.h"

#define MiB (1ull << 20)
#define MS  1000000ull

static void test_mem_per_request(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	(void)state;

	assert_int_equal(httpd_cost_mem(&cfg, 5 * MiB), 5 * MiB);
	assert_int_equal(httpd_cost_mem(&cfg, 1), 1);
	assert_int_equal(httpd_cost_mem(&cfg, 0), 0);
	cfg.mem_factor = 0.5;
	assert_int_equal(httpd_cost_mem(&cfg, 3), 2); /* rounded up */
	assert_int_equal(httpd_cost_mem(&cfg, 15 * MiB), 15 * MiB / 2);
	cfg.mem_factor = 2.0;
	assert_int_equal(httpd_cost_mem(&cfg, 15 * MiB), 30 * MiB);
	cfg.mem_factor = 0;
	assert_int_equal(httpd_cost_mem(&cfg, 15 * MiB), 0);
}

static void test_accounting(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	struct httpd_cost c;
	(void)state;

	httpd_cost_init(&c, &cfg);
	httpd_cost_acquire(&c, 15 * MiB);
	httpd_cost_acquire(&c, 5 * MiB);
	httpd_cost_acquire(&c, 1);
	assert_int_equal(c.inflight_reqs, 3);
	assert_int_equal(c.inflight_bytes, 20 * MiB + 1);
	httpd_cost_release(&c, 15 * MiB);
	assert_int_equal(c.inflight_reqs, 2);
	assert_int_equal(c.inflight_bytes, 5 * MiB + 1);
	assert_int_equal(c.peak_inflight_bytes, 20 * MiB + 1);
	httpd_cost_release(&c, 5 * MiB);
	httpd_cost_release(&c, 1);
	assert_int_equal(c.inflight_bytes, 0);
	assert_int_equal(c.inflight_reqs, 0);
	httpd_cost_release(&c, 7); /* never below zero */
	assert_int_equal(c.inflight_bytes, 0);
	assert_int_equal(c.inflight_reqs, 0);
}

static void test_admission_queue(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	struct httpd_cost c;
	(void)state;

	cfg.max_inflight_bytes = 10 * MiB;
	cfg.max_queue = 2;
	httpd_cost_init(&c, &cfg);
	assert_int_equal(httpd_cost_decide(&c, 11 * MiB), HTTPD_TOO_BIG);
	assert_int_equal(httpd_cost_decide(&c, 5 * MiB), HTTPD_ADMIT);
	httpd_cost_acquire(&c, 5 * MiB);
	assert_int_equal(httpd_cost_decide(&c, 5 * MiB), HTTPD_ADMIT); /* exactly at the limit */
	httpd_cost_acquire(&c, 5 * MiB);
	assert_int_equal(httpd_cost_decide(&c, 1), HTTPD_QUEUE);
	assert_false(httpd_cost_fits(&c, 1));
	assert_true(httpd_cost_fits(&c, 0));
	httpd_cost_enqueue(&c);
	/* FIFO: a zero-byte request would fit, but someone is waiting. */
	assert_int_equal(httpd_cost_decide(&c, 0), HTTPD_QUEUE);
	httpd_cost_enqueue(&c);
	assert_int_equal(httpd_cost_decide(&c, 1), HTTPD_REJECT); /* queue full */
	httpd_cost_release(&c, 5 * MiB);
	assert_true(httpd_cost_fits(&c, 5 * MiB));
	assert_false(httpd_cost_fits(&c, 5 * MiB + 1));
	httpd_cost_dequeue(&c);
	httpd_cost_dequeue(&c);
	httpd_cost_dequeue(&c); /* never below zero */
	assert_int_equal(c.queued, 0);
	assert_int_equal(httpd_cost_decide(&c, 5 * MiB), HTTPD_ADMIT);
}

static void test_admission_503(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	struct httpd_cost c;
	(void)state;

	cfg.max_inflight_bytes = 10 * MiB;
	cfg.overflow = HTTPD_OVERFLOW_503;
	httpd_cost_init(&c, &cfg);
	httpd_cost_acquire(&c, 8 * MiB);
	assert_int_equal(httpd_cost_decide(&c, 2 * MiB), HTTPD_ADMIT);
	assert_int_equal(httpd_cost_decide(&c, 2 * MiB + 1), HTTPD_REJECT);
	assert_int_equal(httpd_cost_decide(&c, 20 * MiB), HTTPD_TOO_BIG);
	cfg.max_queue = 0; /* queue mode with no room behaves like 503 */
	cfg.overflow = HTTPD_OVERFLOW_QUEUE;
	httpd_cost_init(&c, &cfg);
	httpd_cost_acquire(&c, 10 * MiB);
	assert_int_equal(httpd_cost_decide(&c, 1), HTTPD_REJECT);
}

static void test_paging_delay(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	(void)state;

	assert_string_equal(httpd_cost_mode(&cfg), "physical");
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 1ull << 40, MiB), 0); /* no model */
	cfg.paging_limit = 256 * MiB;
	cfg.page_penalty_ns = 20 * MS;
	assert_string_equal(httpd_cost_mode(&cfg), "paging-model");
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 256 * MiB, MiB), 0); /* at the limit */
	/* Half the memory over the limit: a MiB touched costs half the penalty. */
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 512 * MiB, MiB), 10 * MS);
	/* A sweep over all in-flight memory costs penalty x MiB over the limit. */
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 512 * MiB, 512 * MiB), 256 * 20 * MS);
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 320 * MiB, 320 * MiB), 64 * 20 * MS);
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 512 * MiB, 0), 0);
	/* Large operands do not overflow 64 bits. */
	cfg.page_penalty_ns = 1000000 * MS;
	assert_int_equal(httpd_cost_page_delay_ns(&cfg, 1ull << 40, 1ull << 36),
			 (uint64_t)((unsigned __int128)1000000 * MS * (1ull << 36) / MiB *
				    ((1ull << 40) - 256 * MiB) / (1ull << 40)));
}

static void test_swap_device_serialises(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	struct httpd_cost c;
	(void)state;

	httpd_cost_init(&c, &cfg);
	assert_int_equal(httpd_cost_swap_book(&c, 1000 * MS, 0), 1000 * MS);
	assert_int_equal(httpd_cost_swap_book(&c, 1000 * MS, 10 * MS), 1010 * MS);
	/* Booked while the device is busy: queued behind the first page-in. */
	assert_int_equal(httpd_cost_swap_book(&c, 1002 * MS, 5 * MS), 1015 * MS);
	/* Device idle again later. */
	assert_int_equal(httpd_cost_swap_book(&c, 2000 * MS, 5 * MS), 2005 * MS);
	assert_int_equal(c.paging_delay_ns, 20 * MS);
}

static void test_cpu_cost(void **state)
{
	struct httpd_cost_cfg cfg = HTTPD_COST_DEFAULTS;
	uint64_t before, used;
	(void)state;

	assert_int_equal(httpd_cost_cpu_ns(&cfg, 15 * MiB), 30 * MS);
	assert_int_equal(httpd_cost_cpu_ns(&cfg, MiB / 2), 1 * MS);
	assert_int_equal(httpd_cost_cpu_ns(&cfg, 1), 1); /* 2e6 / 2^20, rounded down */
	cfg.cpu_ns_per_mib = 0;
	assert_int_equal(httpd_cost_cpu_ns(&cfg, 15 * MiB), 0);
	/* The burn really uses CPU time: at least what was asked (a lower bound only). */
	before = httpd_cpu_now_ns();
	used = httpd_cpu_burn(3 * MS);
	assert_true(used >= 3 * MS);
	assert_true(httpd_cpu_now_ns() - before >= 3 * MS);
	assert_int_equal(httpd_cpu_burn(0), 0);
}

static void test_parse_ns(void **state)
{
	uint64_t ns;
	char err[128];
	(void)state;

	assert_int_equal(httpd_parse_ns("2ms", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 2 * MS);
	assert_int_equal(httpd_parse_ns("500us", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 500000);
	assert_int_equal(httpd_parse_ns("0.5ms", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 500000);
	assert_int_equal(httpd_parse_ns("1s", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 1000 * MS);
	assert_int_equal(httpd_parse_ns("750ns", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 750);
	assert_int_equal(httpd_parse_ns("0", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 0);
	static const char *const bad[] = { "", "5", "ms", "-1ms", "2m", "2 ms", "nan", "inf" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(httpd_parse_ns(bad[i], &ns, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(httpd_parse_ns("1e30s", &ns, err, sizeof(err)), -ERANGE);
}

static void test_bytes_path(void **state)
{
	static const struct {
		const char *target;
		enum httpd_route route;
		uint64_t size;
	} cases[] = {
		{ "/bytes/1", HTTPD_ROUTE_BYTES, 1 },
		{ "/bytes/0", HTTPD_ROUTE_BYTES, 0 },
		{ "/bytes/5M", HTTPD_ROUTE_BYTES, 5 * MiB },
		{ "/bytes/15m", HTTPD_ROUTE_BYTES, 15 * MiB },
		{ "/bytes/512K", HTTPD_ROUTE_BYTES, 512 * 1024 },
		{ "/bytes/5MB", HTTPD_ROUTE_BYTES, 5 * MiB },
		{ "/bytes/1G", HTTPD_ROUTE_BYTES, 1ull << 30 },
		{ "/bytes/5242880", HTTPD_ROUTE_BYTES, 5 * MiB },
		{ "/bytes/5M?x=1", HTTPD_ROUTE_BYTES, 5 * MiB },
		{ "/bytes/64G", HTTPD_ROUTE_BYTES, HTTPD_BODY_MAX },
		{ "/bytes/", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/abc", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/-1", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/5M/x", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/5T", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/65G", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/bytes/99999999999999999999", HTTPD_ROUTE_BAD_SIZE, 0 },
		{ "/stats", HTTPD_ROUTE_STATS, 0 },
		{ "/stats?pretty", HTTPD_ROUTE_STATS, 0 },
		{ "/", HTTPD_ROUTE_NONE, 0 },
		{ "/bytes", HTTPD_ROUTE_NONE, 0 },
		{ "/statsx", HTTPD_ROUTE_NONE, 0 },
		{ "/BYTES/5", HTTPD_ROUTE_NONE, 0 },
		{ "*", HTTPD_ROUTE_NONE, 0 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t size = 0;
		enum httpd_route r = httpd_route(cases[i].target, &size);
		if (r != cases[i].route || (r == HTTPD_ROUTE_BYTES && size != cases[i].size))
			fail_msg("%s: route %d size %llu", cases[i].target, r,
				 (unsigned long long)size);
	}
}

static void test_name(void **state)
{
	(void)state;
	assert_true(httpd_name_valid("s1"));
	assert_true(httpd_name_valid("web-01.rack_a"));
	assert_false(httpd_name_valid(""));
	assert_false(httpd_name_valid("a b"));
	assert_false(httpd_name_valid("a,b"));
	assert_false(httpd_name_valid("a\r\nX-Evil: 1"));
	assert_false(httpd_name_valid(
		"0123456789012345678901234567890123456789012345678901234567890123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_per_request),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_admission_queue),
		cmocka_unit_test(test_admission_503),
		cmocka_unit_test(test_paging_delay),
		cmocka_unit_test(test_swap_device_serialises),
		cmocka_unit_test(test_cpu_cost),
		cmocka_unit_test(test_parse_ns),
		cmocka_unit_test(test_bytes_path),
		cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
