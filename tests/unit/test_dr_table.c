/* ALBM: unit tests for the weighted Maglev lookup table of the DR data plane */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dr/dr_table.h"

#define SIZE 4099 /* the data plane's ALBM_TABLE_SIZE (prime) */

/* Entry i: key 10.0.0.(i+1), id i+1. */
static void entries(struct dr_table_entry *e, size_t n, const uint32_t *w)
{
	memset(e, 0, n * sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		e[i].key[0] = 10;
		e[i].key[3] = (uint8_t)(i + 1);
		e[i].id = (uint32_t)(i + 1);
		e[i].weight = w[i];
	}
}

static void count_slots(const uint32_t *t, size_t *cnt, size_t n)
{
	memset(cnt, 0, (n + 1) * sizeof(*cnt));
	for (size_t s = 0; s < SIZE; s++) {
		assert_true(t[s] <= n);
		cnt[t[s]]++;
	}
}

static void test_table_shares_follow_weights(void **state)
{
	static const uint32_t w[] = { 1, 2, 3, 4, 0, 100 };
	struct dr_table_entry e[6];
	uint32_t t[SIZE];
	size_t cnt[7];
	(void)state;

	entries(e, 6, w);
	assert_int_equal(dr_table_fill(e, 6, t, SIZE), 0);
	count_slots(t, cnt, 6);
	assert_int_equal(cnt[0], 0); /* every slot has a real */
	assert_int_equal(cnt[5], 0); /* weight 0: no slot */
	/* shares within one slot per round of the weight's exact share */
	for (size_t i = 0; i < 6; i++) {
		double want = (double)SIZE * w[i] / 110.0;

		assert_true(cnt[i + 1] >= want - 2 && cnt[i + 1] <= want + 2);
	}
}

static void test_table_all_zero_is_empty(void **state)
{
	static const uint32_t w[] = { 0, 0 };
	struct dr_table_entry e[2];
	uint32_t t[SIZE];
	size_t cnt[3];
	(void)state;

	entries(e, 2, w);
	assert_int_equal(dr_table_fill(e, 2, t, SIZE), 0);
	count_slots(t, cnt, 2);
	assert_int_equal(cnt[0], SIZE);
	assert_int_equal(dr_table_fill(NULL, 0, t, SIZE), 0);
}

static void test_table_order_independent(void **state)
{
	static const uint32_t w[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
	struct dr_table_entry e[8], r[8];
	uint32_t a[SIZE], b[SIZE];
	(void)state;

	entries(e, 8, w);
	for (size_t i = 0; i < 8; i++)
		r[i] = e[7 - i];
	assert_int_equal(dr_table_fill(e, 8, a, SIZE), 0);
	assert_int_equal(dr_table_fill(r, 8, b, SIZE), 0);
	assert_memory_equal(a, b, sizeof(a));
}

/*
 * Consistency across distributors (docs/ha.md): two distributors number their reals
 * in the order they learnt them, so the same set reaches dr_table_fill with other
 * ids in another order.  Slot by slot, the tables must name the same real ADDRESS.
 */
static void test_table_same_set_other_ids(void **state)
{
	static const uint32_t w[] = { 7, 3, 3, 1, 10, 2, 5, 4, 8, 6 };
	struct dr_table_entry e[10], r[10];
	uint32_t a[SIZE], b[SIZE];
	size_t differ = 0;
	(void)state;

	entries(e, 10, w);
	for (size_t i = 0; i < 10; i++) { /* distributor B: reversed order, ids 101.. shuffled */
		r[i] = e[(i * 7) % 10];
		r[i].id = (uint32_t)(101 + (i * 3) % 10);
	}
	assert_int_equal(dr_table_fill(e, 10, a, SIZE), 0);
	assert_int_equal(dr_table_fill(r, 10, b, SIZE), 0);
	for (size_t s = 0; s < SIZE; s++) {
		const struct dr_table_entry *ea = NULL, *eb = NULL;

		for (size_t i = 0; i < 10; i++) {
			if (e[i].id == a[s])
				ea = &e[i];
			if (r[i].id == b[s])
				eb = &r[i];
		}
		assert_non_null(ea);
		assert_non_null(eb);
		assert_memory_equal(ea->key, eb->key, sizeof(ea->key));
		differ += a[s] != b[s];
	}
	assert_true(differ > SIZE / 2); /* the ids really were different */
}

/* Removing one of ten equal reals: its slots move, few of the others' do. */
static void test_table_minimal_disruption(void **state)
{
	uint32_t w[10], a[SIZE], b[SIZE];
	struct dr_table_entry e[10];
	size_t moved = 0, kept_slots = 0;
	(void)state;

	for (size_t i = 0; i < 10; i++)
		w[i] = 1;
	entries(e, 10, w);
	assert_int_equal(dr_table_fill(e, 10, a, SIZE), 0);
	e[4].weight = 0; /* real 5 out */
	assert_int_equal(dr_table_fill(e, 10, b, SIZE), 0);
	for (size_t s = 0; s < SIZE; s++) {
		assert_int_not_equal(b[s], 5);
		if (a[s] != 5) {
			kept_slots++;
			moved += a[s] != b[s];
		}
	}
	/* Maglev's bound in practice: a few percent of the unaffected slots (a
	 * modulo-N table would move about 90 % of them). */
	print_message("remove 1 of 10: %zu of %zu other slots moved\n", moved, kept_slots);
	assert_true(moved * 100 < kept_slots * 5);
}

/* Changing one weight moves slots mostly to or from that real. */
static void test_table_reweight_disruption(void **state)
{
	uint32_t w[8] = { 10, 10, 10, 10, 10, 10, 10, 10 }, a[SIZE], b[SIZE];
	struct dr_table_entry e[8];
	size_t moved_between_others = 0;
	(void)state;

	entries(e, 8, w);
	assert_int_equal(dr_table_fill(e, 8, a, SIZE), 0);
	e[0].weight = 5;
	assert_int_equal(dr_table_fill(e, 8, b, SIZE), 0);
	for (size_t s = 0; s < SIZE; s++)
		moved_between_others += a[s] != b[s] && a[s] != 1 && b[s] != 1;
	print_message("reweight 1 of 8: %zu slots moved between other reals\n",
		      moved_between_others);
	assert_true(moved_between_others * 100 < SIZE * 5);
}

static void test_table_bad_args(void **state)
{
	static const uint32_t w[] = { 1, 1 };
	struct dr_table_entry e[2];
	uint32_t t[SIZE];
	(void)state;

	entries(e, 2, w);
	e[1].id = 0; /* 0 means "no real" in the data plane */
	assert_int_equal(dr_table_fill(e, 2, t, SIZE), -EINVAL);
	entries(e, 2, w);
	assert_int_equal(dr_table_fill(e, 2, t, 2), -EINVAL); /* n >= size */
	assert_int_equal(dr_table_fill(e, 2, t, 3), 0);       /* tiny but valid */
	assert_true((t[0] | t[1] | t[2]) != 0 && t[0] && t[1] && t[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shares_follow_weights),
		cmocka_unit_test(test_table_all_zero_is_empty),
		cmocka_unit_test(test_table_order_independent),
		cmocka_unit_test(test_table_same_set_other_ids),
		cmocka_unit_test(test_table_minimal_disruption),
		cmocka_unit_test(test_table_reweight_disruption),
		cmocka_unit_test(test_table_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
