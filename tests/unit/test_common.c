/* ALBM: unit tests for src/common — address, duration and size parsing */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/addr.h"
#include "common/duration.h"
#include "common/util.h"

static void test_addr_ipv4(void **state)
{
	struct albm_addr a;
	char err[128], buf[ALBM_ADDRSTRLEN];
	(void)state;

	assert_int_equal(albm_addr_parse("127.0.0.1:8080", &a, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_family(&a), AF_INET);
	assert_int_equal(albm_addr_port(&a), 8080);
	assert_string_equal(albm_addr_format(&a, buf, sizeof(buf)), "127.0.0.1:8080");
}

static void test_addr_ipv6(void **state)
{
	struct albm_addr a, b;
	char err[128], buf[ALBM_ADDRSTRLEN];
	(void)state;

	assert_int_equal(albm_addr_parse("[::1]:9001", &a, err, sizeof(err)), 0);
	assert_int_equal(albm_addr_family(&a), AF_INET6);
	assert_int_equal(albm_addr_port(&a), 9001);
	assert_string_equal(albm_addr_format(&a, buf, sizeof(buf)), "[::1]:9001");
	assert_int_equal(albm_addr_parse("[0:0::1]:9001", &b, err, sizeof(err)), 0);
	assert_true(albm_addr_equal(&a, &b));
	albm_addr_set_port(&b, 9002);
	assert_false(albm_addr_equal(&a, &b));
}

static void test_addr_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"1.2.3.4:80x",
		"::1:80",
		"[::1]80",
		"[::1",
		"[]:80",
		"host.example:80",
		"300.1.1.1:80",
		"[::1]:-1",
		":80",
		"[fe80::1%nosuchif0]:80",
	};
	struct albm_addr a;
	char err[128];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(albm_addr_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0); /* a message, always */
	}
}

static void test_addr_host(void **state)
{
	struct albm_addr a;
	char err[128], buf[ALBM_ADDRSTRLEN];
	(void)state;

	assert_int_equal(albm_addr_parse_host("10.0.0.7", &a, err, sizeof(err)), 0);
	assert_string_equal(albm_addr_format_host(&a, buf, sizeof(buf)), "10.0.0.7");
	assert_int_equal(albm_addr_parse_host("[2001:db8::2]", &a, err, sizeof(err)), 0);
	assert_string_equal(albm_addr_format_host(&a, buf, sizeof(buf)), "2001:db8::2");
	assert_int_equal(albm_addr_parse_host("10.0.0.7:80", &a, err, sizeof(err)), -EINVAL);
}

static void test_duration(void **state)
{
	uint64_t ms;
	char err[128], buf[32];
	(void)state;

	assert_int_equal(albm_duration_parse_ms("200ms", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 200);
	assert_int_equal(albm_duration_parse_ms("1s", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(albm_duration_parse_ms("2m", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(albm_duration_parse_ms("1.5s", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(albm_duration_parse_ms("1h", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(albm_duration_parse_ms("500us", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(albm_duration_parse_ms("5", &ms, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a unit"));
	assert_int_equal(albm_duration_parse_ms("5d", &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_duration_parse_ms("-1s", &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_duration_parse_ms("s", &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_duration_parse_ms("1e300h", &ms, err, sizeof(err)), -ERANGE);
	assert_string_equal(albm_duration_format(120000, buf, sizeof(buf)), "2m");
	assert_string_equal(albm_duration_format(1500, buf, sizeof(buf)), "1500ms");
}

static void test_size(void **state)
{
	uint64_t v;
	(void)state;

	assert_int_equal(albm_parse_size("15M", &v), 0);
	assert_int_equal(v, 15ull << 20);
	assert_int_equal(albm_parse_size("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(albm_parse_size("64KiB", &v), -EINVAL);
	assert_int_equal(albm_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(albm_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(albm_parse_size("M", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ipv4), cmocka_unit_test(test_addr_ipv6),
		cmocka_unit_test(test_addr_bad),  cmocka_unit_test(test_addr_host),
		cmocka_unit_test(test_duration),  cmocka_unit_test(test_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
