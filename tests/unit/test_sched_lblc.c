/* ALBM: unit tests for the lblc and lblcr schedulers and their shared table (lbl.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"
#include "common/util.h"
#include "sched/lbl.h"

#define DAY_MS (24ull * 60 * 60 * 1000)

/* A flow from client c to destination address 10.2.(v >> 8).(v & 255). */
static struct albm_flow dflow(unsigned v, unsigned c)
{
	struct albm_flow f = fixture_flow(c);

	f.daddr[0] = 10, f.daddr[1] = 2, f.daddr[2] = (uint8_t)(v >> 8), f.daddr[3] = (uint8_t)v;
	return f;
}

static struct albm_dest *pick(struct albm_service *svc, unsigned v)
{
	struct albm_flow f = dflow(v, v * 7 + 1);
	return albm_svc_schedule(svc, &f);
}

static void open_n(struct albm_service *svc, struct albm_dest *d, unsigned n)
{
	while (n--)
		albm_svc_conn_open(svc, d, true);
}

static void close_all(struct albm_service *svc, struct albm_dest *d)
{
	while (d->activeconns)
		albm_svc_conn_close(svc, d, true);
}

/* ---- the table ---- */

static unsigned freed;

static void count_free(struct albm_lbl_entry *e)
{
	freed++;
	free(e);
}

static void test_table_lru_cap_and_expiry(void **state)
{
	struct albm_lbl_table t;
	struct albm_flow f;
	(void)state;

	freed = 0;
	albm_lbl_table_init(&t, 8, 1000, count_free);
	for (unsigned v = 0; v < 8; v++) {
		f = dflow(v, 0);
		albm_lbl_insert(&t, xcalloc(1, sizeof(struct albm_lbl_entry)), &f, 100 + v);
	}
	f = dflow(0, 0);
	assert_non_null(albm_lbl_get(&t, &f, 200)); /* 0 used again: 1 is now the oldest */
	f = dflow(8, 0);
	albm_lbl_insert(&t, xcalloc(1, sizeof(struct albm_lbl_entry)), &f, 201);
	assert_int_equal(t.count, 8);
	assert_int_equal(freed, 1);
	f = dflow(1, 0);
	assert_null(albm_lbl_get(&t, &f, 202)); /* evicted */
	f = dflow(0, 0);
	assert_non_null(albm_lbl_get(&t, &f, 202));
	f = dflow(0, 99); /* another client, same destination: same entry */
	assert_non_null(albm_lbl_get(&t, &f, 203));
	/* expiry: entries last used at 102..107 expire at 1102..1107 */
	albm_lbl_expire(&t, 1104);
	assert_int_equal(t.count, 5); /* 2, 3, 4 freed; 5, 6, 7, 0 and 8 stay */
	f = dflow(5, 0);
	assert_non_null(albm_lbl_get(&t, &f, 1104));
	f = dflow(6, 0);
	assert_null(albm_lbl_get(&t, &f, 1106)); /* lazily expired at lookup */
	assert_int_equal(t.count, 4);
	albm_lbl_table_free(&t);
	assert_int_equal(freed, 9);
}

/* IPv6 destinations whose folds collide still stay apart. */
static void test_table_ipv6_keys(void **state)
{
	struct albm_lbl_table t;
	struct albm_flow a = fixture_flow(1), b = fixture_flow(1);
	struct albm_lbl_entry *ea = xcalloc(1, sizeof(*ea)), *eb = xcalloc(1, sizeof(*eb));
	(void)state;

	freed = 0;
	a.family = b.family = AF_INET6;
	memset(a.daddr, 0, 16);
	memset(b.daddr, 0, 16);
	a.daddr[0] = 1, a.daddr[4] = 1; /* the words XOR to 0 in both */
	b.daddr[8] = 2, b.daddr[12] = 2;
	albm_lbl_table_init(&t, 16, DAY_MS, count_free);
	albm_lbl_insert(&t, ea, &a, 0);
	albm_lbl_insert(&t, eb, &b, 0);
	assert_ptr_equal(albm_lbl_get(&t, &a, 1), ea);
	assert_ptr_equal(albm_lbl_get(&t, &b, 1), eb);
	albm_lbl_del(&t, ea);
	assert_null(albm_lbl_get(&t, &a, 2));
	assert_ptr_equal(albm_lbl_get(&t, &b, 2), eb);
	albm_lbl_table_free(&t);
	assert_int_equal(freed, 2);
}

/* ---- lblc ---- */

static void test_lblc_sticky_until_overloaded(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	struct albm_dest *p, *q;
	(void)state;

	fixture_svc(&svc, &clk, "lblc", w, 3);
	p = pick(&svc, 1);
	assert_ptr_equal(p, svc.dests[0]);             /* all idle: the first in list order */
	open_n(&svc, p, 1);                            /* 1 active, weight 1: not overloaded */
	assert_ptr_equal(pick(&svc, 1), p);            /* sticky though B and C are idle */
	assert_ptr_equal(pick(&svc, 2), svc.dests[1]); /* a new address: least loaded */
	open_n(&svc, p, 1); /* 2 > weight 1 while B, C have 0 * 2 < 1: overloaded */
	q = pick(&svc, 1);
	assert_ptr_equal(q, svc.dests[1]);
	close_all(&svc, p);
	assert_ptr_equal(pick(&svc, 1), q); /* the entry moved to B */

	/* no server below half its weight: an overloaded server keeps its entry */
	open_n(&svc, svc.dests[0], 1);
	open_n(&svc, svc.dests[1], 3);
	open_n(&svc, svc.dests[2], 1);
	assert_ptr_equal(pick(&svc, 1), q);
	/* ... until one becomes light again */
	close_all(&svc, svc.dests[2]);
	assert_ptr_equal(pick(&svc, 1), svc.dests[2]);
	albm_svc_destroy(&svc);
}

/* Brute-force wlc over the usable servers: least overhead / weight, first wins. */
static struct albm_dest *wlc_reference(const struct albm_service *svc)
{
	struct albm_dest *least = NULL;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (!albm_dest_usable(d))
			continue;
		if (!least || albm_dest_overhead(least) * (uint64_t)d->weight >
				      albm_dest_overhead(d) * (uint64_t)least->weight)
			least = d;
	}
	return least;
}

/* New addresses go to the wlc server, whatever the connection history. */
static void test_lblc_new_entries_follow_wlc(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 3, 2, 5, 0, 4, 2 };
	uint64_t x = 12345;
	(void)state;

	fixture_svc(&svc, &clk, "lblc", w, 7);
	albm_svc_set_flags(&svc, svc.dests[6], 0, ALBM_DEST_F_AVAILABLE); /* G down */
	for (unsigned v = 0; v < 3000; v++) {
		struct albm_dest *want = wlc_reference(&svc), *got = pick(&svc, 1000 + v);
		assert_ptr_equal(got, want);
		assert_true(got != svc.dests[4] && got != svc.dests[6]);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		if ((x >> 33) % 3) {
			albm_svc_conn_open(&svc, got, (x >> 40) & 1);
		} else {
			struct albm_dest *d = svc.dests[(x >> 35) % svc.ndests];
			bool active = d->activeconns > 0;
			if (d->activeconns || d->inactconns)
				albm_svc_conn_close(&svc, d, active);
		}
		if (v == 1500) /* a weight change re-sorts */
			albm_svc_set_weight(&svc, svc.dests[1], 9);
	}
	albm_svc_destroy(&svc);
}

static void test_lblc_down_removed_and_empty(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "lblc", w, 3);
	for (unsigned v = 0; v < 30; v++)
		open_n(&svc, pick(&svc, v), 1); /* 10 addresses per server */
	albm_svc_set_flags(&svc, svc.dests[0], 0, ALBM_DEST_F_AVAILABLE);
	for (unsigned v = 0; v < 30; v++)
		assert_ptr_not_equal(pick(&svc, v), svc.dests[0]);
	albm_svc_set_flags(&svc, svc.dests[0], ALBM_DEST_F_AVAILABLE, 0);
	/* removal: its entries go with it (ASan checks that nothing dangles) */
	struct albm_dest *b = svc.dests[1];
	albm_svc_del_dest(&svc, b);
	for (unsigned v = 0; v < 30; v++) {
		struct albm_dest *d = pick(&svc, v);
		assert_true(d == svc.dests[0] || d == svc.dests[1]);
	}
	albm_svc_set_weight(&svc, svc.dests[0], 0);
	albm_svc_set_weight(&svc, svc.dests[1], 0);
	assert_null(pick(&svc, 1));
	albm_svc_destroy(&svc);
}

static void test_lblc_expiry(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 2, 2 };
	(void)state;

	fixture_svc(&svc, &clk, "lblc", w, 2);
	assert_ptr_equal(pick(&svc, 5), svc.dests[0]);
	open_n(&svc, svc.dests[0], 1); /* A busier than B, but not overloaded */
	clk.now_ms += DAY_MS - 1;
	assert_ptr_equal(pick(&svc, 5), svc.dests[0]); /* still cached; use renews it */
	clk.now_ms += DAY_MS - 1;
	albm_svc_tick(&svc);
	assert_ptr_equal(pick(&svc, 5), svc.dests[0]);
	clk.now_ms += DAY_MS;
	albm_svc_tick(&svc);                           /* a day unused: expired */
	assert_ptr_equal(pick(&svc, 5), svc.dests[1]); /* scheduled afresh by wlc */
	albm_svc_destroy(&svc);
}

/* The state starts with the table (sched_lblc.c / sched_lblcr.c): peek its size. */
static size_t table_count(const struct albm_service *svc)
{
	return ((const struct albm_lbl_table *)svc->sched_data)->count;
}

static void test_lblc_lblcr_bounded(void **state)
{
	const char *names[] = { "lblc", "lblcr" };
	(void)state;

	for (int s = 0; s < 2; s++) {
		struct albm_service svc;
		struct fixture_clock clk;
		const int w[] = { 1, 1 };

		fixture_svc(&svc, &clk, names[s], w, 2);
		for (unsigned v = 0; v < ALBM_LBL_MAX_ENTRIES + 500; v++) {
			struct albm_flow f = dflow(v & 0xffff, 0);
			f.daddr[1] = (uint8_t)(v >> 16);
			assert_non_null(albm_svc_schedule(&svc, &f));
		}
		assert_int_equal(table_count(&svc), ALBM_LBL_MAX_ENTRIES);
		albm_svc_destroy(&svc);
	}
}

/* ---- lblcr ---- */

static void test_lblcr_set_grows_and_balances(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	struct albm_dest *a, *b, *c;
	(void)state;

	fixture_svc(&svc, &clk, "lblcr", w, 3);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2];
	assert_ptr_equal(pick(&svc, 1), a);
	open_n(&svc, a, 1);
	assert_ptr_equal(pick(&svc, 1), a); /* not overloaded: the set stays {A} */
	open_n(&svc, a, 1);                 /* 2 > 1 while B, C are light */
	assert_ptr_equal(pick(&svc, 1), b); /* B joins: {A, B} */
	open_n(&svc, b, 1);
	/* within the set the least loaded member wins, though C is idle */
	assert_ptr_equal(pick(&svc, 1), b);
	close_all(&svc, a);
	assert_ptr_equal(pick(&svc, 1), a);
	/* a down member is skipped */
	albm_svc_set_flags(&svc, a, 0, ALBM_DEST_F_AVAILABLE);
	assert_ptr_equal(pick(&svc, 1), b);
	albm_svc_set_flags(&svc, a, ALBM_DEST_F_AVAILABLE, 0);
	/* B overloaded too: C joins */
	open_n(&svc, a, 2);
	open_n(&svc, b, 1);
	assert_ptr_equal(pick(&svc, 1), c);
	albm_svc_destroy(&svc);
}

/* A set with several members, unchanged for the expiration time, drops its most
 * loaded member. */
static void test_lblcr_set_shrinks(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	(void)state;

	fixture_svc(&svc, &clk, "lblcr", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	assert_ptr_equal(pick(&svc, 1), a);
	open_n(&svc, a, 2);
	assert_ptr_equal(pick(&svc, 1), b); /* {A, B}, modified now */
	open_n(&svc, b, 1);
	clk.now_ms += DAY_MS / 2;
	assert_ptr_equal(pick(&svc, 1), b); /* used, but the set is unchanged */
	clk.now_ms += DAY_MS / 2 + 1;
	assert_ptr_equal(pick(&svc, 1), b); /* A, the most loaded, leaves */
	close_all(&svc, a);                 /* A idle now, B at 1 */
	assert_ptr_equal(pick(&svc, 1), b); /* A is no longer a member */
	albm_svc_destroy(&svc);
}

static void test_lblcr_removal(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "lblcr", w, 3);
	for (unsigned v = 0; v < 60; v++) {
		struct albm_dest *d = pick(&svc, v % 20);
		open_n(&svc, d, 1 + v % 3);
	}
	albm_svc_del_dest(&svc, svc.dests[0]);
	albm_svc_del_dest(&svc, svc.dests[0]);
	for (unsigned v = 0; v < 20; v++)
		assert_ptr_equal(pick(&svc, v), svc.dests[0]);
	albm_svc_del_dest(&svc, svc.dests[0]);
	assert_null(pick(&svc, 3));
	albm_svc_destroy(&svc);
}

static void test_registry_has_lbl(void **state)
{
	(void)state;
	assert_non_null(albm_sched_find("lblc"));
	assert_non_null(albm_sched_find("lblcr"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lru_cap_and_expiry),
		cmocka_unit_test(test_table_ipv6_keys),
		cmocka_unit_test(test_lblc_sticky_until_overloaded),
		cmocka_unit_test(test_lblc_new_entries_follow_wlc),
		cmocka_unit_test(test_lblc_down_removed_and_empty),
		cmocka_unit_test(test_lblc_expiry),
		cmocka_unit_test(test_lblc_lblcr_bounded),
		cmocka_unit_test(test_lblcr_set_grows_and_balances),
		cmocka_unit_test(test_lblcr_set_shrinks),
		cmocka_unit_test(test_lblcr_removal),
		cmocka_unit_test(test_registry_has_lbl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
