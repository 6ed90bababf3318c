/* ALBM: unit tests for the memory guard's decision (src/distributor/memguard.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "distributor/memguard.h"

#define MiB (1024ull * 1024)

static void test_no_limit(void **state)
{
	struct albmd_mem_verdict v = albmd_mem_decide(0, 500 * MiB, 1000, false);

	(void)state;
	assert_false(v.pressure);
	assert_int_equal(v.conn_cap, 0); /* no cap at all */
}

/* Below 85 %: a cap of the connections that still fit; from 85 %: pressure. */
static void test_cap_and_pressure(void **state)
{
	struct albmd_mem_verdict v;

	(void)state;
	v = albmd_mem_decide(100 * MiB, 50 * MiB, 10, false);
	assert_false(v.pressure);
	assert_int_equal(v.conn_cap, 10 + (100 * MiB / 100 * 85 - 50 * MiB) / ALBMD_MEM_PER_CONN);
	assert_true(v.conn_cap > 2000); /* 35 MiB at 16 KiB each */
	v = albmd_mem_decide(100 * MiB, 86 * MiB, 700, false);
	assert_true(v.pressure);
	assert_int_equal(v.conn_cap, 700); /* no more */
	v = albmd_mem_decide(100 * MiB, 86 * MiB, 0, false);
	assert_int_equal(v.conn_cap, 1); /* never 0: that would mean "no cap" */
}

/* Hysteresis: once on, pressure holds until usage is under 75 %. */
static void test_hysteresis(void **state)
{
	(void)state;
	assert_true(albmd_mem_decide(100 * MiB, 80 * MiB, 5, true).pressure);
	assert_false(albmd_mem_decide(100 * MiB, 80 * MiB, 5, false).pressure);
	assert_false(albmd_mem_decide(100 * MiB, 74 * MiB, 5, true).pressure);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_cap_and_pressure),
		cmocka_unit_test(test_hysteresis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
