/* ALBM: unit tests for the winner tree over list positions (src/sched/wintree.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sched/wintree.h"

#define N 100

/* A model of the tree: keys per position, den == 0 for absent. */
struct model {
	uint64_t num[N], den[N];
	size_t n; /* positions in use */
};

static bool model_before(const struct model *m, size_t a, size_t b)
{
	unsigned __int128 x = (unsigned __int128)m->num[a] * m->den[b];
	unsigned __int128 y = (unsigned __int128)m->num[b] * m->den[a];

	return x < y || (x == y && a < b);
}

static long model_min(const struct model *m)
{
	long best = -1;

	for (size_t i = 0; i < m->n; i++)
		if (m->den[i] && (best < 0 || model_before(m, i, (size_t)best)))
			best = (long)i;
	return best;
}

static long model_first_le(const struct model *m, size_t lo, uint64_t num, uint64_t den)
{
	for (size_t i = lo; i < m->n; i++)
		if (m->den[i] &&
		    (unsigned __int128)m->num[i] * den <= (unsigned __int128)num * m->den[i])
			return (long)i;
	return -1;
}

static void test_wintree_min_and_ties(void **state)
{
	struct albm_wintree t;
	(void)state;

	albm_wintree_init(&t);
	assert_int_equal(albm_wintree_min(&t), -1);
	albm_wintree_set(&t, 5, 3, 2); /* grows to 8 leaves */
	assert_int_equal(albm_wintree_min(&t), 5);
	albm_wintree_set(&t, 2, 6, 4); /* 6/4 == 3/2: the earlier position wins */
	assert_int_equal(albm_wintree_min(&t), 2);
	albm_wintree_set(&t, 7, 0, 9);
	assert_int_equal(albm_wintree_min(&t), 7);
	albm_wintree_clear(&t, 7);
	assert_false(albm_wintree_present(&t, 7));
	assert_int_equal(albm_wintree_min(&t), 2);
	albm_wintree_set(&t, 2, 7, 4); /* larger: 5 wins */
	assert_int_equal(albm_wintree_min(&t), 5);
	assert_int_equal(albm_wintree_num(&t, 5), 3);
	/* 128-bit products: (2^40 + 1) / (2^31 + 1) < 2^40 / 2^31 = 512 */
	albm_wintree_set(&t, 0, 1ull << 40, 1ull << 31);
	albm_wintree_set(&t, 1, (1ull << 40) + 1, (1ull << 31) + 1);
	albm_wintree_clear(&t, 2);
	albm_wintree_clear(&t, 5);
	assert_int_equal(albm_wintree_min(&t), 1);
	assert_true(albm_wintree_check(&t));
	albm_wintree_free(&t);
}

static void test_wintree_delete_shifts(void **state)
{
	struct albm_wintree t;
	(void)state;

	albm_wintree_init(&t);
	for (size_t i = 0; i < 8; i++)
		albm_wintree_set(&t, i, 10 - i, 1); /* a full tree; position 7 is the minimum */
	albm_wintree_delete(&t, 1);                 /* 2..7 move to 1..6 */
	assert_int_equal(albm_wintree_min(&t), 6);
	assert_int_equal(albm_wintree_num(&t, 1), 8);
	assert_false(albm_wintree_present(&t, 7)); /* the freed last slot */
	albm_wintree_delete(&t, 6);
	assert_int_equal(albm_wintree_min(&t), 5);
	assert_false(albm_wintree_present(&t, 6));
	assert_true(albm_wintree_check(&t));
	albm_wintree_free(&t);
}

static void test_wintree_first_le(void **state)
{
	struct albm_wintree t;
	const uint64_t keys[] = { 3, 0, 2, 5, 1, 4, 2, 0 };
	(void)state;

	albm_wintree_init(&t);
	for (size_t i = 0; i < 8; i++)
		albm_wintree_set(&t, i, keys[i], 1);
	albm_wintree_clear(&t, 7);
	assert_int_equal(albm_wintree_first_le(&t, 0, 0, 1), 1);
	assert_int_equal(albm_wintree_first_le(&t, 2, 0, 1), -1); /* 7 is absent */
	assert_int_equal(albm_wintree_first_le(&t, 2, 1, 1), 4);
	assert_int_equal(albm_wintree_first_le(&t, 5, 2, 1), 6);
	assert_int_equal(albm_wintree_first_le(&t, 7, 9, 1), -1);
	assert_int_equal(albm_wintree_first_le(&t, 8, 9, 1), -1); /* past the end */
	assert_int_equal(albm_wintree_first_le(&t, 3, 9, 2), 4);  /* key <= 4.5 */
	albm_wintree_free(&t);
}

static void test_wintree_random_against_model(void **state)
{
	static struct model m;
	struct albm_wintree t;
	uint64_t s = 88172645463325252ull;
	(void)state;

	memset(&m, 0, sizeof(m));
	albm_wintree_init(&t);
	for (int op = 0; op < 200000; op++) {
		size_t i;
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		i = m.n ? s % (m.n + 1) : 0;
		switch ((s >> 8) % 8) {
		case 0: /* clear */
			if (i < m.n) {
				m.den[i] = 0;
				albm_wintree_clear(&t, i);
			}
			break;
		case 1: /* delete: later positions shift down */
			if (i < m.n && (s >> 20) % 4 == 0) {
				memmove(&m.num[i], &m.num[i + 1], (m.n - i - 1) * sizeof(m.num[0]));
				memmove(&m.den[i], &m.den[i + 1], (m.n - i - 1) * sizeof(m.den[0]));
				m.n--;
				albm_wintree_delete(&t, i);
			}
			break;
		default: /* set (appending when i == n) */
			if (i == m.n && m.n == N)
				break;
			m.num[i] = (s >> 16) % 12;
			m.den[i] = 1 + (s >> 24) % 3;
			if (i == m.n)
				m.n++;
			albm_wintree_set(&t, i, m.num[i], m.den[i]);
			break;
		}
		assert_int_equal(albm_wintree_min(&t), model_min(&m));
		if (op % 64 == 0) {
			size_t lo = (s >> 32) % (m.n + 2);
			uint64_t num = (s >> 40) % 12, den = 1 + (s >> 48) % 3;
			assert_int_equal(albm_wintree_first_le(&t, lo, num, den),
					 model_first_le(&m, lo, num, den));
		}
		if (op % 1000 == 0)
			assert_true(albm_wintree_check(&t));
	}
	assert_true(albm_wintree_check(&t));
	albm_wintree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wintree_min_and_ties),
		cmocka_unit_test(test_wintree_delete_shifts),
		cmocka_unit_test(test_wintree_first_le),
		cmocka_unit_test(test_wintree_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
