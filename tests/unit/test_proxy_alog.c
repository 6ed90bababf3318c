/* ALBM: unit tests for the connection log's line (src/distributor/proxy/alog.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distributor/proxy/alog.h"

static struct albm_addr addr(const char *s)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse(s, &a, err, sizeof(err)), 0);
	return a;
}

static int setup_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* 2009-02-06 12:12:51.443 UTC, HAProxy's documentation example */
#define T0 (1233922371443ull)

static void test_line(void **state)
{
	struct albm_addr c4 = addr("10.0.1.2:33313"), c6 = addr("[2001:db8::7]:40000");
	struct alog_date dc = { 0 };
	struct alog_rec r = {
		.client = &c4,
		.accept_wall_ms = T0,
		.service = "web",
		.server = "s1",
		.tw = 0,
		.tc = 2,
		.tt = 5007,
		.bytes_in = 80,
		.bytes_out = 212,
		.term = { '-', '-' },
		.retries = 0,
	};
	char out[512];
	size_t n;

	(void)state;
	n = alog_format(out, sizeof(out), &r, &dc);
	assert_string_equal(
		out, "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] web s1 0/2/5007 80 212 -- 0\n");
	assert_int_equal(n, strlen(out));
	/* never connected (Tc -1), no server, IPv6, a termination state, retries */
	r.client = &c6;
	r.server = NULL;
	r.tw = 1000;
	r.tc = -1;
	r.tt = 1001;
	r.bytes_in = r.bytes_out = 0;
	r.term[0] = 's';
	r.term[1] = 'Q';
	r.retries = 2;
	r.accept_wall_ms = T0 + 1557; /* the next second: the cached date is replaced */
	n = alog_format(out, sizeof(out), &r, &dc);
	assert_string_equal(
		out,
		"[2001:db8::7]:40000 [06/Feb/2009:12:12:53.000] web - 1000/-1/1001 0 0 sQ 2\n");
	/* no room: nothing, not half a line */
	assert_int_equal(alog_format(out, 20, &r, &dc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_line, setup_utc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
