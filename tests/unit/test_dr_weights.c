/* ALBM: unit tests for the DR plane's weights policy (dr_weights.c) — pure, step by step */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/sched_fixture.h"
#include "common/util.h"
#include "distributor/dr_weights.h"
#include "dr/dr_table.h"

#define TABLE 4099 /* the data plane's ALBM_TABLE_SIZE */

static void test_k_follows_rate(void **state)
{
	(void)state;
	assert_int_equal(dr_weights_k(0), DR_WEIGHTS_K_MIN);
	assert_int_equal(dr_weights_k(16), 32);
	assert_int_equal(dr_weights_k(17), 34);
	assert_int_equal(dr_weights_k(300), 600);
	assert_int_equal(dr_weights_k(512), 1024);
	assert_int_equal(dr_weights_k(513), DR_WEIGHTS_K_MAX);
	assert_int_equal(dr_weights_k(UINT64_MAX), DR_WEIGHTS_K_MAX); /* no overflow */
}

/* Step 1: the set is "up and resolved"; out of it no weight; the kind is the
 * scheduler's; the rate sets K; the service is not touched. */
static void test_compute(void **state)
{
	const int w[4] = { 1, 1, 1, 0 };
	bool resolved[4] = { true, true, false, true };
	struct dr_weights_in in = { .resolved = resolved };
	struct albm_service svc;
	struct fixture_clock clk;
	struct dr_weight out[4], again[4];
	(void)state;

	fixture_svc(&svc, &clk, "lc", w, 4);
	in.svc = &svc;
	for (int i = 0; i < 6; i++)
		albm_svc_conn_open(&svc, svc.dests[0], true);
	assert_int_equal(dr_weights_compute(&in, out), ALBM_TABLE_PICKS);
	assert_true(out[0].in && out[1].in && !out[2].in && out[3].in);
	/* 32 picks on A 6, B 0, C 0 (C has no MAC, which lc does not know): B and C in
	 * turn to 6, then A, B, C in turn (A 7, B 7, C 6); C's share is not in the table */
	assert_int_equal(out[0].w, 7);
	assert_int_equal(out[1].w, 13);
	assert_int_equal(out[2].w, 0);
	assert_int_equal(out[3].w, 0); /* drained: in the set, no new flows */
	in.rate = 100;                 /* K = 200 */
	dr_weights_compute(&in, out);
	assert_int_equal(out[0].w, 63); /* 12 to B and C, then 188 in turns: 63, 63, 62 */
	assert_int_equal(out[1].w, 69);
	dr_weights_compute(&in, again); /* pure: same inputs, same table */
	for (int i = 0; i < 4; i++)
		assert_true(out[i].in == again[i].in && out[i].w == again[i].w);
	assert_int_equal(svc.dests[0]->activeconns, 6);
	assert_int_equal(svc.picks, 0);
	albm_svc_set_flags(&svc, svc.dests[1], 0, ALBM_DEST_F_AVAILABLE);
	dr_weights_compute(&in, out);
	assert_false(out[1].in); /* down: out of the set, its flows are rescheduled */
	albm_svc_destroy(&svc);
}

/* Step 2: what is worth a new table. */
static void test_differ(void **state)
{
	struct dr_weight a[2] = { { true, 256 }, { true, 512 } }, b[2];
	(void)state;

	assert_int_equal(dr_weights_shift(ALBM_TABLE_WEIGHTS), 0);
	assert_int_equal(dr_weights_shift(ALBM_TABLE_EQUAL), 0);
	assert_int_equal(dr_weights_shift(ALBM_TABLE_EFFECTIVE), 5);
	assert_int_equal(dr_weights_shift(ALBM_TABLE_PICKS), 3);
	memcpy(b, a, sizeof(b));
	assert_false(dr_weights_differ(ALBM_TABLE_WEIGHTS, a, b, 2));
	b[1].w = 520; /* 8 of 520: within 1/32, beyond nothing */
	assert_false(dr_weights_differ(ALBM_TABLE_EFFECTIVE, a, b, 2));
	assert_true(dr_weights_differ(ALBM_TABLE_WEIGHTS, a, b, 2));
	b[1].w = 0; /* to 0: always */
	assert_true(dr_weights_differ(ALBM_TABLE_PICKS, a, b, 2));
	b[1] = (struct dr_weight){ false, 0 }; /* leaves the set */
	a[1].w = 0;
	assert_true(dr_weights_differ(ALBM_TABLE_PICKS, a, b, 2));
	a[1].in = false; /* both out: nothing to apply, whatever the weights */
	a[1].w = 7;
	assert_false(dr_weights_differ(ALBM_TABLE_WEIGHTS, a, b, 2));
}

/* Step 3: the weights divided by their GCD; out of the set 0. */
static void test_quantise(void **state)
{
	struct dr_weight in[5] = {
		{ true, 256 }, { true, 768 }, { false, 512 }, { true, 0 }, { true, 1280 }
	};
	struct dr_weight none[2] = { { true, 0 }, { false, 4 } };
	uint32_t q[5];
	(void)state;

	dr_weights_quantise(in, 5, q);
	assert_int_equal(q[0], 1);
	assert_int_equal(q[1], 3);
	assert_int_equal(q[2], 0);
	assert_int_equal(q[3], 0);
	assert_int_equal(q[4], 5);
	dr_weights_quantise(none, 2, q);
	assert_int_equal(q[0], 0);
	assert_int_equal(q[1], 0);
}

/* The Maglev table of the quantised weights is the table of the weights: the step
 * changes the representation, not the decision.  And tables computed from the same
 * ratios at different scales (K = 32 and K = 64 picks, x256 effective weights)
 * are handed over identically. */
static void test_quantise_keeps_the_table(void **state)
{
	static const uint32_t w[][4] = { { 4, 28, 0, 12 }, { 256, 768, 512, 1 }, { 7, 7, 7, 7 } };
	static uint32_t t1[TABLE], t2[TABLE];
	(void)state;

	for (size_t c = 0; c < ARRAY_SIZE(w); c++) {
		struct dr_table_entry e1[4], e2[4];
		struct dr_weight in[4];
		uint32_t q[4];
		for (size_t i = 0; i < 4; i++)
			in[i] = (struct dr_weight){ true, w[c][i] };
		dr_weights_quantise(in, 4, q);
		memset(e1, 0, sizeof(e1));
		for (size_t i = 0; i < 4; i++) {
			e1[i].key[0] = 10, e1[i].key[3] = (uint8_t)(i + 1);
			e1[i].id = (uint32_t)(i + 1);
			e1[i].weight = w[c][i];
		}
		memcpy(e2, e1, sizeof(e2));
		for (size_t i = 0; i < 4; i++)
			e2[i].weight = q[i];
		assert_int_equal(dr_table_fill(e1, 4, t1, TABLE), 0);
		assert_int_equal(dr_table_fill(e2, 4, t2, TABLE), 0);
		assert_memory_equal(t1, t2, sizeof(t1));
	}

	struct dr_weight k32[3] = { { true, 4 }, { true, 28 }, { true, 0 } };
	struct dr_weight k64[3] = { { true, 8 }, { true, 56 }, { true, 0 } };
	uint32_t q32[3], q64[3];
	dr_weights_quantise(k32, 3, q32);
	dr_weights_quantise(k64, 3, q64);
	assert_memory_equal(q32, q64, sizeof(q32));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k_follows_rate),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_differ),
		cmocka_unit_test(test_quantise),
		cmocka_unit_test(test_quantise_keeps_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
