/* ALBM: unit tests for the PROXY protocol header albmd sends (src/distributor/proxy/pp.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "distributor/proxy/pp.h"

static struct albm_addr addr(const char *s)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse(s, &a, err, sizeof(err)), 0);
	return a;
}

static void test_v1(void **state)
{
	struct albm_addr p4 = addr("192.0.2.7:40000"), l4 = addr("127.0.0.1:8080");
	struct albm_addr p6 = addr("[2001:db8::1]:5555"), l6 = addr("[::1]:443");
	char out[ALBMD_PP_HEADER_MAX];
	int n;

	(void)state;
	n = albmd_pp_header(ALBMD_PP_V1, &p4, &l4, out, sizeof(out));
	assert_int_equal(n, (int)strlen("PROXY TCP4 192.0.2.7 127.0.0.1 40000 8080\r\n"));
	assert_memory_equal(out, "PROXY TCP4 192.0.2.7 127.0.0.1 40000 8080\r\n", (size_t)n);
	n = albmd_pp_header(ALBMD_PP_V1, &p6, &l6, out, sizeof(out));
	assert_int_equal(n, (int)strlen("PROXY TCP6 2001:db8::1 ::1 5555 443\r\n"));
	assert_memory_equal(out, "PROXY TCP6 2001:db8::1 ::1 5555 443\r\n", (size_t)n);
	/* no room: an error, not a cut header */
	assert_int_equal(albmd_pp_header(ALBMD_PP_V1, &p4, &l4, out, 10), -1);
}

static void test_v2(void **state)
{
	static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
	struct albm_addr p4 = addr("192.0.2.7:40000"), l4 = addr("127.0.0.1:8080");
	struct albm_addr p6 = addr("[2001:db8::1]:5555"), l6 = addr("[::1]:443");
	uint8_t out[ALBMD_PP_HEADER_MAX];
	const uint8_t v4body[12] = { 192, 0, 2, 7, 127, 0, 0, 1, 0x9c, 0x40, 0x1f, 0x90 };
	int n;

	(void)state;
	n = albmd_pp_header(ALBMD_PP_V2, &p4, &l4, (char *)out, sizeof(out));
	assert_int_equal(n, 28);
	assert_memory_equal(out, sig, 12);
	assert_int_equal(out[12], 0x21); /* v2, PROXY */
	assert_int_equal(out[13], 0x11); /* TCP over IPv4 */
	assert_int_equal(out[14] << 8 | out[15], 12);
	assert_memory_equal(out + 16, v4body, 12);
	n = albmd_pp_header(ALBMD_PP_V2, &p6, &l6, (char *)out, sizeof(out));
	assert_int_equal(n, 52);
	assert_int_equal(out[13], 0x21); /* TCP over IPv6 */
	assert_int_equal(out[14] << 8 | out[15], 36);
	assert_int_equal(out[16], 0x20); /* 2001:db8::1 */
	assert_int_equal(out[17], 0x01);
	assert_int_equal(out[31], 0x01);
	assert_int_equal(out[47], 0x01); /* ::1 */
	assert_int_equal(out[48] << 8 | out[49], 5555);
	assert_int_equal(out[50] << 8 | out[51], 443);
	assert_int_equal(albmd_pp_header(ALBMD_PP_V2, &p6, &l6, (char *)out, 51), -1);
}

static void test_refused(void **state)
{
	struct albm_addr p4 = addr("192.0.2.7:40000"), l6 = addr("[::1]:443");
	char out[ALBMD_PP_HEADER_MAX];

	(void)state;
	assert_int_equal(albmd_pp_header(ALBMD_PP_OFF, &p4, &p4, out, sizeof(out)), -1);
	assert_int_equal(albmd_pp_header(ALBMD_PP_V1, &p4, &l6, out, sizeof(out)), -1);
	assert_int_equal(albmd_pp_header(ALBMD_PP_V2, &p4, &l6, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
