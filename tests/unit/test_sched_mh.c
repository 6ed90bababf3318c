/* ALBM: unit tests for the mh (Maglev hashing) scheduler */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"

#define NKEYS 20000

static char before[NKEYS], after[NKEYS];

/* The pick of every key 0..n-1 (distinct client addresses); 0 = none. */
static void map_keys(struct albm_service *svc, unsigned n, char *out)
{
	for (unsigned k = 0; k < n; k++) {
		struct albm_flow f = fixture_flow(k);
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		out[k] = d ? d->name[0] : 0;
	}
}

static void count_keys(const char *map, unsigned n, unsigned cnt[128])
{
	memset(cnt, 0, 128 * sizeof(cnt[0]));
	for (unsigned k = 0; k < n; k++)
		cnt[map[k] ? (unsigned char)map[k] : '-']++;
}

static void add_server(struct albm_service *svc, const char *name, const char *addr, int w)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse(addr, &a, err, sizeof(err)), 0);
	assert_non_null(albm_svc_add_dest(svc, name, &a, w, err, sizeof(err)));
}

static void test_mh_stable_and_even(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 10);
	map_keys(&svc, NKEYS, before);
	map_keys(&svc, NKEYS, after);
	assert_memory_equal(before, after, NKEYS); /* same key, same server */
	count_keys(before, NKEYS, cnt);
	for (char c = 'A'; c < 'A' + 10; c++) /* about 1/10 each */
		assert_in_range(cnt[(unsigned char)c], NKEYS / 10 * 85 / 100,
				NKEYS / 10 * 115 / 100);
	assert_int_equal(cnt['-'], 0);
	albm_svc_destroy(&svc);
}

/* One of N leaves: about 1/N of the keys move, and those of the others stay. */
static void test_mh_minimal_disruption(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	const unsigned n = 10;
	unsigned moved = 0, others = 0, others_moved = 0;
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, n);
	map_keys(&svc, NKEYS, before);
	albm_svc_del_dest(&svc, albm_svc_find_dest(&svc, "E"));
	map_keys(&svc, NKEYS, after);
	for (unsigned k = 0; k < NKEYS; k++) {
		assert_int_not_equal(after[k], 'E');
		assert_int_not_equal(after[k], 0);
		moved += after[k] != before[k];
		if (before[k] != 'E') {
			others++;
			others_moved += after[k] != before[k];
		}
	}
	assert_true(moved >= NKEYS / n * 8 / 10);                  /* E's keys had to move */
	assert_true(moved < (unsigned)(NKEYS * (1.5 / n + 0.02))); /* ... and few more */
	assert_true(others_moved * 20 < others);                   /* < 5% of the rest */

	/* a new server takes about 1/(N) of the keys, from everyone */
	add_server(&svc, "Z", "10.0.0.99:80", 1);
	map_keys(&svc, NKEYS, before);
	moved = 0;
	for (unsigned k = 0; k < NKEYS; k++)
		moved += before[k] != after[k];
	assert_true(moved < (unsigned)(NKEYS * (1.5 / n + 0.02)));
	assert_true(moved > NKEYS / n / 2);
	albm_svc_destroy(&svc);
}

static void test_mh_weights(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 200, 100, 100 }; /* gcd 100: turns 2, 1, 1 */
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 3);
	map_keys(&svc, NKEYS, before);
	count_keys(before, NKEYS, cnt);
	assert_in_range(cnt['A'], NKEYS * 45 / 100, NKEYS * 55 / 100);
	assert_in_range(cnt['B'], NKEYS * 20 / 100, NKEYS * 30 / 100);
	/* a weight change rebuilds: now 1:1:2 */
	albm_svc_set_weight(&svc, svc.dests[0], 100);
	albm_svc_set_weight(&svc, svc.dests[2], 200);
	map_keys(&svc, NKEYS, before);
	count_keys(before, NKEYS, cnt);
	assert_in_range(cnt['C'], NKEYS * 45 / 100, NKEYS * 55 / 100);
	assert_in_range(cnt['A'], NKEYS * 20 / 100, NKEYS * 30 / 100);
	albm_svc_destroy(&svc);
}

/* Weight 0 quiesces without touching the table (IPVS last_weight): its keys fail,
 * or with mh-fallback go elsewhere, and no other key moves. */
static void test_mh_quiesce_and_fallback(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 4);
	map_keys(&svc, NKEYS, before);
	albm_svc_set_weight(&svc, svc.dests[1], 0);
	map_keys(&svc, NKEYS, after);
	for (unsigned k = 0; k < NKEYS; k++)
		assert_int_equal(after[k], before[k] == 'B' ? 0 : before[k]);

	svc.flags |= ALBM_SVC_F_SCHED_FALLBACK;
	map_keys(&svc, NKEYS, after);
	for (unsigned k = 0; k < NKEYS; k++) {
		if (before[k] == 'B')
			assert_true(after[k] == 'A' || after[k] == 'C' || after[k] == 'D');
		else
			assert_int_equal(after[k], before[k]);
	}
	count_keys(after, NKEYS, cnt); /* the rehash spreads B's keys over the rest */
	for (char c = 'A'; c <= 'D'; c += 1 + (c == 'A'))
		assert_true(cnt[(unsigned char)c] > NKEYS / 4 + NKEYS / 40);

	/* down and maxconn overload are unusable too */
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_thresholds(&svc, svc.dests[2], 1, 0);
	albm_svc_conn_open(&svc, svc.dests[2], true);
	map_keys(&svc, NKEYS, after);
	count_keys(after, NKEYS, cnt);
	assert_int_equal(cnt['D'], NKEYS);

	/* weight back: B's old keys return (the table never changed) */
	svc.flags = 0;
	albm_svc_set_weight(&svc, svc.dests[1], 1);
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AVAILABLE, 0);
	albm_svc_conn_close(&svc, svc.dests[2], true);
	map_keys(&svc, NKEYS, after);
	assert_memory_equal(before, after, NKEYS);
	albm_svc_destroy(&svc);
}

static void test_mh_port_flag(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	unsigned seen[128] = { 0 }, distinct = 0;
	struct albm_dest *first = NULL;
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 4);
	for (unsigned p = 0; p < 64; p++) {
		struct albm_flow f = fixture_flow(11);
		f.sport = (uint16_t)(3000 + p);
		struct albm_dest *d = albm_svc_schedule(&svc, &f);
		if (!first)
			first = d;
		assert_ptr_equal(d, first); /* the port is ignored */
	}
	svc.flags |= ALBM_SVC_F_SCHED_PORT;
	for (unsigned p = 0; p < 64; p++) {
		struct albm_flow f = fixture_flow(11);
		f.sport = (uint16_t)(3000 + p);
		struct albm_dest *d = albm_svc_schedule(&svc, &f);
		assert_ptr_equal(albm_svc_schedule(&svc, &f), d);
		if (!seen[(unsigned char)d->name[0]]++)
			distinct++;
	}
	assert_int_equal(distinct, 4);
	albm_svc_destroy(&svc);
}

static void test_mh_empty_and_zero(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 0, 0 };
	unsigned cnt[128];
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 2); /* never had a weight: no slots */
	map_keys(&svc, 64, after);
	count_keys(after, 64, cnt);
	assert_int_equal(cnt['-'], 64);
	albm_svc_set_weight(&svc, svc.dests[1], 3);
	map_keys(&svc, 64, after);
	count_keys(after, 64, cnt);
	assert_int_equal(cnt['B'], 64);
	albm_svc_del_dest(&svc, svc.dests[1]);
	albm_svc_del_dest(&svc, svc.dests[0]);
	map_keys(&svc, 4, after);
	count_keys(after, 4, cnt);
	assert_int_equal(cnt['-'], 4);
	albm_svc_destroy(&svc);
}

/* Rebinding (scheduler change at run time) gives the same table. */
static void test_mh_rebind(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 3, 1, 2 };
	(void)state;

	fixture_svc(&svc, &clk, "mh", w, 3);
	map_keys(&svc, NKEYS, before);
	assert_int_equal(albm_svc_bind_name(&svc, "rr"), 0);
	assert_int_equal(albm_svc_bind_name(&svc, "mh"), 0);
	map_keys(&svc, NKEYS, after);
	assert_memory_equal(before, after, NKEYS);
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mh_stable_and_even),
		cmocka_unit_test(test_mh_minimal_disruption),
		cmocka_unit_test(test_mh_weights),
		cmocka_unit_test(test_mh_quiesce_and_fallback),
		cmocka_unit_test(test_mh_port_flag),
		cmocka_unit_test(test_mh_empty_and_zero),
		cmocka_unit_test(test_mh_rebind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
