/* ALBM: unit tests for the rr scheduler and the library's bookkeeping */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"

static void test_rr_sequence(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[32];
	const int w[] = { 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 7, seq), "ABCABCA");
	albm_svc_destroy(&svc);
}

static void test_rr_weight0_and_overload(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[32];
	const int w[] = { 1, 0, 5 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 3);
	assert_string_equal(fixture_sequence(&svc, 4, seq), "ACAC"); /* weight 0: skipped */
	albm_svc_set_thresholds(&svc, svc.dests[2], 1, 0);           /* C: maxconn 1 */
	albm_svc_conn_open(&svc, svc.dests[2], true);                /* ... reached */
	assert_true(svc.dests[2]->flags & ALBM_DEST_F_OVERLOAD);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "AAA");
	/* only C left, at its maxconn: nothing; the data plane may wait for it, but no
	 * overflow server exceeds an operator's maxconn */
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE);
	assert_string_equal(fixture_sequence(&svc, 1, seq), "-");
	assert_true(albm_svc_may_wait(&svc));
	assert_null(albm_svc_overflow(&svc));
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AVAILABLE, 0);
	albm_svc_conn_close(&svc, svc.dests[2], true);
	assert_false(svc.dests[2]->flags & ALBM_DEST_F_OVERLOAD);
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE); /* A down */
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_set_weight(&svc, svc.dests[2], 0);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	assert_int_equal(svc.no_dest, 3);
	albm_svc_destroy(&svc);
}

static void test_rr_remove_under_cursor(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[32];
	const int w[] = { 1, 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 4);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AB");
	albm_svc_del_dest(&svc, svc.dests[1]); /* B, the last pick, leaves: C is next */
	assert_string_equal(fixture_sequence(&svc, 4, seq), "CDAC");
	albm_svc_del_dest(&svc, svc.dests[0]); /* A, before the cursor, leaves */
	assert_string_equal(fixture_sequence(&svc, 3, seq), "DCD");
	albm_svc_destroy(&svc);
}

static void test_registry(void **state)
{
	(void)state;
	assert_non_null(albm_sched_find("rr"));
	assert_null(albm_sched_find("nosuch"));
	for (size_t i = 0; i < albm_sched_count(); i++)
		assert_ptr_equal(albm_sched_find(albm_sched_at(i)->name), albm_sched_at(i));
}

static void test_duplicate_name_rejected(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char err[128];
	const int w[] = { 1 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 1);
	assert_null(albm_svc_add_dest(&svc, "A", NULL, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "already exists"));
	assert_null(albm_svc_add_dest(&svc, "Z", NULL, -1, err, sizeof(err)));
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rr_sequence),
		cmocka_unit_test(test_rr_weight0_and_overload),
		cmocka_unit_test(test_rr_remove_under_cursor),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_duplicate_name_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
