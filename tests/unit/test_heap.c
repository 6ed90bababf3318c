/* ALBM: unit tests for the indexed destination heap (src/sched/heap.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sched/heap.h"

/* Synthetic destinations: the key is activeconns, ties by seq. */
#define N 64

static bool key_less(const struct albm_dest *a, const struct albm_dest *b)
{
	return a->activeconns < b->activeconns ||
	       (a->activeconns == b->activeconns && a->seq < b->seq);
}

static bool seq_less(const struct albm_dest *a, const struct albm_dest *b)
{
	return a->seq < b->seq;
}

static void make_dests(struct albm_dest *d, size_t n)
{
	memset(d, 0, n * sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		d[i].seq = i;
		d[i].heap_pos[0] = d[i].heap_pos[1] = -1;
	}
}

/* The member with the smallest key, found the slow way. */
static struct albm_dest *linear_min(struct albm_dest *d, size_t n, unsigned slot)
{
	struct albm_dest *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (d[i].heap_pos[slot] >= 0 && (!best || key_less(&d[i], best)))
			best = &d[i];
	return best;
}

static void test_heap_push_pop_sorted(void **state)
{
	struct albm_dest d[N];
	struct albm_heap h;
	const unsigned keys[] = { 5, 3, 9, 3, 0, 7, 5, 1 };
	const size_t order[] = { 4, 7, 1, 3, 0, 6, 5, 2 }; /* by key, then seq */
	(void)state;

	make_dests(d, N);
	albm_heap_init(&h, 0, key_less);
	assert_null(albm_heap_top(&h));
	for (size_t i = 0; i < 8; i++) {
		d[i].activeconns = keys[i];
		albm_heap_push(&h, &d[i]);
		assert_true(albm_heap_check(&h));
	}
	assert_int_equal(albm_heap_size(&h), 8);
	for (size_t i = 0; i < 8; i++) {
		struct albm_dest *t = albm_heap_top(&h);
		assert_ptr_equal(t, &d[order[i]]);
		albm_heap_remove(&h, t);
		assert_int_equal(t->heap_pos[0], -1);
		assert_true(albm_heap_check(&h));
	}
	assert_null(albm_heap_top(&h));
	albm_heap_free(&h);
}

static void test_heap_fix_remove_sync(void **state)
{
	struct albm_dest d[N];
	struct albm_heap h;
	(void)state;

	make_dests(d, N);
	albm_heap_init(&h, 1, key_less);
	for (size_t i = 0; i < 10; i++) {
		d[i].activeconns = (unsigned)(10 + i);
		albm_heap_push(&h, &d[i]);
	}
	assert_ptr_equal(albm_heap_top(&h), &d[0]);
	assert_int_equal(d[0].heap_pos[0], -1); /* slot 1 only */
	d[9].activeconns = 1;                   /* decrease: moves up */
	albm_heap_fix(&h, &d[9]);
	assert_ptr_equal(albm_heap_top(&h), &d[9]);
	d[9].activeconns = 100; /* increase: moves down */
	albm_heap_fix(&h, &d[9]);
	assert_ptr_equal(albm_heap_top(&h), &d[0]);
	assert_true(albm_heap_check(&h));
	albm_heap_remove(&h, &d[5]); /* from the middle */
	albm_heap_remove(&h, &d[5]); /* twice: no-op */
	assert_int_equal(albm_heap_size(&h), 9);
	assert_false(albm_heap_contains(&h, &d[5]));
	assert_true(albm_heap_check(&h));
	albm_heap_sync(&h, &d[0], false); /* leaves */
	assert_ptr_equal(albm_heap_top(&h), &d[1]);
	d[20].activeconns = 0;
	albm_heap_sync(&h, &d[20], true); /* joins */
	assert_ptr_equal(albm_heap_top(&h), &d[20]);
	d[20].activeconns = 11;
	albm_heap_sync(&h, &d[20], true); /* re-sorts: ties with d[1] (11), seq 1 first */
	assert_ptr_equal(albm_heap_top(&h), &d[1]);
	assert_true(albm_heap_check(&h));
	albm_heap_free(&h);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(d[i].heap_pos[1], -1);
}

static void test_heap_two_slots_independent(void **state)
{
	struct albm_dest d[N];
	struct albm_heap a, b;
	(void)state;

	make_dests(d, N);
	albm_heap_init(&a, 0, key_less);
	albm_heap_init(&b, 1, seq_less);
	for (size_t i = 0; i < 6; i++) {
		d[i].activeconns = (unsigned)(6 - i);
		albm_heap_push(&a, &d[i]);
		if (i % 2)
			albm_heap_push(&b, &d[i]);
	}
	assert_ptr_equal(albm_heap_top(&a), &d[5]);
	assert_ptr_equal(albm_heap_top(&b), &d[1]);
	albm_heap_remove(&b, &d[1]);
	assert_true(albm_heap_contains(&a, &d[1]));
	assert_ptr_equal(albm_heap_top(&b), &d[3]);
	assert_true(albm_heap_check(&a) && albm_heap_check(&b));
	albm_heap_free(&a);
	albm_heap_free(&b);
}

static void test_heap_random_against_linear(void **state)
{
	static struct albm_dest d[N];
	struct albm_heap h;
	uint64_t s = 88172645463325252ull;
	(void)state;

	make_dests(d, N);
	albm_heap_init(&h, 0, key_less);
	for (int op = 0; op < 200000; op++) {
		struct albm_dest *x;
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		x = &d[s % N];
		switch ((s >> 8) % 4) {
		case 0:
			albm_heap_sync(&h, x, true);
			break;
		case 1:
			albm_heap_remove(&h, x);
			break;
		default: /* key change, as a connection open/close would do */
			x->activeconns = (unsigned)((s >> 16) % 8);
			if (albm_heap_contains(&h, x))
				albm_heap_fix(&h, x);
			break;
		}
		assert_ptr_equal(albm_heap_top(&h), linear_min(d, N, 0));
		if (op % 1000 == 0)
			assert_true(albm_heap_check(&h));
	}
	assert_true(albm_heap_check(&h));
	albm_heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_push_pop_sorted),
		cmocka_unit_test(test_heap_fix_remove_sync),
		cmocka_unit_test(test_heap_two_slots_independent),
		cmocka_unit_test(test_heap_random_against_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
