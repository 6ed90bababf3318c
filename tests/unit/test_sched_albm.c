/* ALBM: unit tests for the albm (adaptive) scheduler */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "../lib/sched_fixture.h"
#include "common/log.h"
#include "common/util.h"
#include "sched/albm_adaptive.h"

#define MB (1024ull * 1024)

#define assert_near(a, b, eps)                                                   \
	do {                                                                     \
		double a_ = (a), b_ = (b);                                       \
		if (!(fabs(a_ - b_) <= (eps)))                                   \
			fail_msg("%s = %.9g, expected %.9g", #a, a_, b_);        \
	} while (0)

/* The test's one copy of each server's latest report (dest->report points at it, as
 * it points at albmd's agent entry), by insertion number: a test has one service,
 * and removals must not make two servers share a copy. */
static struct albm_metrics reports[1024];

/* Feed dest a report: mem_frac of 1000 MB available, CPU busy cpu, state ovl. */
static void report(struct albm_service *svc, struct albm_dest *d, double mem_frac, double cpu,
		   bool ovl)
{
	struct albm_metrics *m = &reports[d->seq % 1024];

	assert_true(d->seq < sizeof(reports) / sizeof(reports[0]));
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", d->name);
	m->mem_total_bytes = 1000 * MB;
	m->mem_available_bytes = (uint64_t)llround(mem_frac * 1000.0) * MB;
	m->cpu_util = cpu;
	m->state = ovl ? ALBM_AGENT_OVERLOADED : ALBM_AGENT_OK;
	albm_svc_report(svc, d, m);
}

static void at(struct albm_service *svc, struct fixture_clock *clk, uint64_t ms)
{
	clk->now_ms = ms;
	albm_svc_tick(svc);
}

static enum albm_adapt_state state_of(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_adapt_info info;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	return info.state;
}

/* Count how often each server is picked in n picks that each open a connection. */
static void count_open(struct albm_service *svc, size_t n, unsigned *cnt)
{
	char seq[1024];

	assert_true(n < sizeof(seq));
	fixture_sequence_open(svc, n, seq);
	for (size_t i = 0; i < n; i++)
		if (seq[i] != '-')
			cnt[seq[i] - 'A']++;
}

static void test_albm_static_weight_without_reports(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	unsigned cnt[3] = { 0 };
	char seq[16];
	const int w[] = { 1, 2, 3 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(svc.dests[i]->eff_weight == w[i]);
		assert_int_equal(state_of(&svc, svc.dests[i]), ALBM_ADAPT_OK);
	}
	/* shortest expected delay from empty: C (1/3), then B (1/2) ... ; over 60
	 * picks each server ends with activeconns proportional to its weight */
	assert_string_equal(fixture_sequence_open(&svc, 6, seq), "CBCABC");
	count_open(&svc, 54, cnt);
	assert_int_equal(svc.dests[0]->activeconns, 10);
	assert_int_equal(svc.dests[1]->activeconns, 20);
	assert_int_equal(svc.dests[2]->activeconns, 30);
	/* time alone changes nothing for servers that never reported */
	at(&svc, &clk, 100000);
	assert_true(svc.dests[2]->eff_weight == 3);
	/* a weight beyond what albm_svc_add_dest() accepts still works */
	albm_svc_set_weight(&svc, svc.dests[0], 200000);
	assert_true(svc.dests[0]->eff_weight == 200000);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_destroy(&svc);
}

static void test_albm_excludes_down_drained_overloaded(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[16];
	const int w[] = { 5, 5, 5, 1 };
	struct albm_dest *a, *b, *c, *d;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2], d = svc.dests[3];
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	albm_svc_set_flags(&svc, a, 0, ALBM_DEST_F_AVAILABLE); /* A down */
	albm_svc_set_weight(&svc, b, 0);                       /* B drained */
	report(&svc, c, 0.9, 0.1, true);                        /* C: agent says overloaded */
	assert_true(c->flags & ALBM_DEST_F_AGENT_OVL);
	assert_string_equal(fixture_sequence_open(&svc, 8, seq), "DDDDDDDD");
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_DOWN);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_DRAINED);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_AGENT_OVL);
	assert_true(a->eff_weight == 0 && b->eff_weight == 0 && c->eff_weight == 0);

	/* C stays out while its agent keeps saying so, however much time passes */
	for (uint64_t t = 1100; t <= 3000; t += 100) {
		at(&svc, &clk, t);
		report(&svc, c, 0.9, 0.1, true);
		assert_string_equal(fixture_sequence(&svc, 1, seq), "D");
	}
	/* D at its IPVS connection limit: nothing left, refused */
	albm_svc_set_thresholds(&svc, d, d->activeconns, 0);
	assert_int_equal(state_of(&svc, d), ALBM_ADAPT_MAXCONN);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	/* the agent reports C recovered: it is the one eligible server again */
	report(&svc, c, 0.9, 0.1, false);
	assert_false(c->flags & ALBM_DEST_F_AGENT_OVL);
	assert_true(c->eff_weight > 0);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "CC");
	albm_svc_destroy(&svc);
}

static void test_albm_eff_weight_from_measurements(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_metrics m;
	struct albm_adapt_info info;
	const int w[] = { 10, 10, 7 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report(&svc, svc.dests[0], 0.5, 0.2, false); /* published: weight x memory */
	assert_near(svc.dests[0]->eff_weight, 5.0, 1e-9);
	report(&svc, svc.dests[1], 0.9, 0.7, false); /* a busy CPU is not less capacity */
	assert_near(svc.dests[1]->eff_weight, 9.0, 1e-9);
	assert_true(svc.dests[2]->eff_weight == 7); /* no report: static weight */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_near(info.capacity, 0.9, 1e-9);
	assert_near(info.mem_avail, 0.9, 1e-9);
	assert_near(info.pick_weight, 10.0, 1e-9);
	assert_int_equal(info.conn_limit, 0);

	/* out-of-range figures are clamped, a missing total or a NaN CPU ignored */
	memset(&m, 0, sizeof(m));
	m.mem_total_bytes = 100;
	m.mem_available_bytes = 400;
	m.cpu_util = NAN;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 7);
	m.mem_total_bytes = 0;
	m.cpu_util = 1.5;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 7);
	assert_int_equal(state_of(&svc, svc.dests[2]), ALBM_ADAPT_OK);
	m.mem_total_bytes = 100; /* no memory left: no capacity, excluded */
	m.mem_available_bytes = 0;
	m.cpu_util = 0.0;
	albm_svc_report(&svc, svc.dests[2], &m);
	assert_true(svc.dests[2]->eff_weight == 0);
	assert_int_equal(state_of(&svc, svc.dests[2]), ALBM_ADAPT_NO_CAPACITY);

	/* above the reserve, picks follow the live connections per static weight
	 * (sed), whatever the memory figures: A and B share equally */
	unsigned cnt[3] = { 0 };
	count_open(&svc, 80, cnt);
	assert_int_equal(cnt[0], 40);
	assert_int_equal(cnt[1], 40);
	assert_int_equal(cnt[2], 0);
	albm_svc_destroy(&svc);
}

/* Connection limits learnt from memory by AIMD. */
static void test_albm_learns_connection_limit(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	svc.adaptive.mem_reserve = 0.10;
	svc.adaptive.slow_start_ms = 1000;
	report(&svc, a, 0.5, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	fixture_sequence_open(&svc, 16, seq); /* 8 each, no limit yet */
	assert_int_equal(a->activeconns, 8);
	assert_int_equal(b->activeconns, 8);

	/* A's memory runs short with 8 connections: limit floor(0.75 * 8) = 6, and A
	 * is full until two of its connections end */
	report(&svc, a, 0.05, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	assert_true(a->eff_weight == 0);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BBB");
	albm_svc_conn_close(&svc, a, true);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	albm_svc_conn_close(&svc, a, true);
	albm_svc_conn_close(&svc, a, true); /* 5 < 6: back, without slow start */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 1, seq), "A");
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);

	/* still short at the next report: the same shortage (A drains what it took
	 * before), no second decrease ... */
	at(&svc, &clk, 1500);
	report(&svc, a, 0.08, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	/* ... until memory was back above the reserve: a new shortage decreases
	 * again, from min(limit, active) */
	at(&svc, &clk, 1700);
	report(&svc, a, 0.3, 0.0, false);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.08, 0.0, false);
	report(&svc, b, 0.5, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	/* an increase needs a whole window (4 s) in which the limit was reached and
	 * the lowest memory m would still leave room for two more average
	 * connections above the reserve: m - 2 (1 - m) / limit >= reserve */
	while (a->activeconns > 2)
		albm_svc_conn_close(&svc, a, true);
	albm_svc_set_weight(&svc, b, 0); /* only A left to pick */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	at(&svc, &clk, 6100);
	report(&svc, a, 0.6, 0.0, false); /* the window since 2000 saw 0.08: no */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "AA-"); /* limit reached */
	at(&svc, &clk, 8000);
	report(&svc, a, 0.6, 0.0, false); /* window not over yet */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 4);
	at(&svc, &clk, 10100);
	report(&svc, a, 0.6, 0.0, false); /* 0.6 - 2 x 0.4 / 4 >= 0.1, reached: + 1 */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	at(&svc, &clk, 14200);
	report(&svc, a, 0.6, 0.0, false); /* comfortable but never reached: hold */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "A-");
	at(&svc, &clk, 15000);
	report(&svc, a, 0.3, 0.0, false); /* well above the reserve, but ... */
	at(&svc, &clk, 18300);
	report(&svc, a, 0.6, 0.0, false); /* ... 0.3 - 2 x 0.7 / 5 < 0.1: hold */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	/* the agent's overloaded state alone (CPU, or the operator's threshold) is
	 * no memory shortage: the server is excluded, its limit stays */
	at(&svc, &clk, 19000);
	report(&svc, a, 0.5, 0.0, true);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_AGENT_OVL);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 5);
	at(&svc, &clk, 19500);
	report(&svc, a, 0.05, 0.0, true);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 3);
	/* every new shortage (memory back above the reserve in between) decreases;
	 * the limit never falls below one */
	for (int i = 0; i < 10; i++) {
		at(&svc, &clk, 21000 + 2000 * (uint64_t)i);
		report(&svc, a, 0.5, 0.0, false);
		at(&svc, &clk, 22000 + 2000 * (uint64_t)i);
		report(&svc, a, 0.01, 0.0, false);
	}
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 1);
	/* reports without a memory total leave the limit alone */
	struct albm_metrics m = { .cpu_util = 0.1 };
	albm_svc_report(&svc, a, &m);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 1);
	albm_svc_destroy(&svc);
}

/* A report with the stall signals: mem_frac of total_mb available, CPU cpu, and the
 * optional fields of `present` (major faults per second, OOM kills so far). */
static void report_x(struct albm_service *svc, struct albm_dest *d, double mem_frac,
		     double total_mb, double cpu, uint32_t present, double majfault, uint64_t oom)
{
	struct albm_metrics *m = &reports[d->seq % 1024];

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", d->name);
	m->mem_total_bytes = (uint64_t)llround(total_mb) * MB;
	m->mem_available_bytes = (uint64_t)llround(mem_frac * total_mb) * MB;
	m->cpu_util = cpu;
	m->present = present;
	m->majfault_rate = majfault;
	m->oom_kills = oom;
	albm_svc_report(svc, d, m);
}

static uint32_t limit_of(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_adapt_info info;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	return info.conn_limit;
}

/* A stall: unanswered requests (the data plane's count) and no CPU used over a report
 * while it held connections before too — excluded until it works again, then back
 * without slow start.  Idle keep-alive connections are no stall. */
static void test_albm_stall(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	for (int i = 0; i < 10; i++) { /* the servers work: 90 % of their CPU */
		report(&svc, a, 0.8, 0.9, false);
		report(&svc, b, 0.8, 0.9, false);
	}
	assert_string_equal(fixture_sequence_open(&svc, 4, seq), "ABAB");
	a->passive.waiting = 2;
	at(&svc, &clk, 1200);
	report(&svc, a, 0.8, 0.5, false); /* busy, working */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	at(&svc, &clk, 1400);
	report(&svc, a, 0.8, 0.01, false); /* paused: no CPU, requests unanswered */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	assert_true(a->eff_weight == 0);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BBB");
	at(&svc, &clk, 1500); /* the tick keeps it out while its requests wait */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	at(&svc, &clk, 1600);
	report(&svc, a, 0.8, 0.6, false); /* working again: back at once, no ramp */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "AA");
	/* its requests answered (the data plane's count falls) also ends a stall */
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALLED);
	a->passive.waiting = 0;
	at(&svc, &clk, 1700);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* idle keep-alive connections wait for no answer: no stall */
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* nor a server that has just been given its first connection */
	b->passive.waiting = 1;
	while (b->activeconns)
		albm_svc_conn_close(&svc, b, true);
	report(&svc, b, 0.8, 0.0, false);
	albm_svc_conn_open(&svc, b, true);
	report(&svc, b, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_OK);
	/* a starved machine: every server's CPU falls, none is to blame */
	for (int i = 0; i < 30; i++) {
		report(&svc, a, 0.8, 0.01, false);
		report(&svc, b, 0.8, 0.01, false);
	}
	a->passive.waiting = 2;
	report(&svc, a, 0.8, 0.0, false);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	albm_svc_destroy(&svc);
}

/* A neighbour takes memory: the limit follows the memory it leaves, the learnt limit
 * is not lowered for it, and the server takes its share again when it goes.  A burst
 * seen in one report is no neighbour. */
static void test_albm_neighbour(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	struct albm_dest *a;
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	a = svc.dests[0];
	svc.adaptive.mem_reserve = 0.2;
	for (int i = 0; i < 4; i++) /* idle: 100 MB of 1000 in use */
		report(&svc, svc.dests[i], 0.9, 0.5, false);
	fixture_sequence_open(&svc, 16, seq); /* 4 each */
	at(&svc, &clk, 1200);
	for (int i = 0; i < 4; i++) /* 40 MB a connection */
		report(&svc, svc.dests[i], 0.74, 0.5, false);
	/* a burst of large requests on A, one report: not a neighbour */
	at(&svc, &clk, 1400);
	report(&svc, a, 0.40, 0.5, false);
	at(&svc, &clk, 1600);
	report(&svc, a, 0.74, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 0);
	/* something takes 500 MB on A, two reports running: a neighbour; A may hold as
	 * many connections as the memory left above the reserve holds at 40 MB each:
	 * 4 + floor((240 - 200) / 40) = 5 */
	at(&svc, &clk, 1800);
	report(&svc, a, 0.24, 0.5, false); /* suspected: the headroom applies at once */
	assert_int_equal(limit_of(&svc, a), 5);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.24, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 5);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* below the reserve with the neighbour there: no AIMD decrease, the limit is
	 * what the memory holds: 4 + floor((100 - 200) / 40) = 1, A is full */
	at(&svc, &clk, 2200);
	report(&svc, a, 0.10, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 1);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BCD");
	/* it goes: no limit again, A takes its share at once */
	at(&svc, &clk, 2400);
	report(&svc, a, 0.74, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 0);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	assert_string_equal(fixture_sequence_open(&svc, 1, seq), "A");
	/* a shortage its own connections explain lowers the learnt limit: A alone takes
	 * 16 more (21 x 40 MB + 100 = 940 MB in use): 0.75 x 21 */
	for (int i = 1; i < 4; i++)
		albm_svc_set_weight(&svc, svc.dests[i], 0);
	assert_string_equal(fixture_sequence_open(&svc, 16, seq), "AAAAAAAAAAAAAAAA");
	at(&svc, &clk, 2600);
	report(&svc, a, 0.06, 0.5, false);
	assert_int_equal(limit_of(&svc, a), 15);
	albm_svc_destroy(&svc);
}

/* An OOM kill halves what the server held; major faults (thrashing) are a shortage
 * even with memory reported free. */
static void test_albm_oom_and_thrashing(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1 };
	struct albm_dest *a, *b;
	char seq[32];
	const uint32_t p = ALBM_MET_OOM_KILLS | ALBM_MET_MAJFAULT;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	report_x(&svc, a, 0.9, 1000, 0.5, p, 0, 3);
	report_x(&svc, b, 0.9, 1000, 0.5, p, 0, 0);
	fixture_sequence_open(&svc, 12, seq); /* 6 each */
	at(&svc, &clk, 1200);
	report_x(&svc, a, 0.5, 1000, 0.5, p, 0, 3); /* no new kill: nothing */
	assert_int_equal(limit_of(&svc, a), 0);
	while (a->activeconns) /* the kill resets its connections */
		albm_svc_conn_close(&svc, a, true);
	at(&svc, &clk, 1400);
	report_x(&svc, a, 0.95, 1000, 0.0, p, 0, 4); /* killed: 6 held -> 3 */
	assert_int_equal(limit_of(&svc, a), 3);
	/* B: 40 % free, but reading its pages back from swap at 1000/s: a shortage
	 * (from the limit A's taught it at the tick, 3: floor(0.75 x 3)) */
	at(&svc, &clk, 1600);
	assert_int_equal(limit_of(&svc, b), 3);
	report_x(&svc, b, 0.4, 1000, 0.5, p, 1000, 0);
	assert_int_equal(limit_of(&svc, b), 2);
	/* a high rate without the field's bit is no signal (nor a thrash below it) */
	at(&svc, &clk, 1800);
	report_x(&svc, b, 0.5, 1000, 0.5, 0, 5000, 0);
	at(&svc, &clk, 3000);
	report_x(&svc, b, 0.4, 1000, 0.5, p, 100, 0);
	assert_int_equal(limit_of(&svc, b), 2);
	albm_svc_destroy(&svc);
}

/* Speeds: bytes served per CPU-second.  A server that serves half as much per unit of
 * its CPU (its weight wrong, or a neighbour on its CPU) gets half the weight; right
 * weights leave the pick alone. */
static void test_albm_learns_speed(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 2 };
	struct albm_dest *a, *b, *c;
	unsigned cnt[3] = { 0, 0, 0 };
	char seq[64];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2];
	/* 10 s at full CPU: A serves 4 MB/s, B 2 MB/s, C (weight 2, twice the memory)
	 * 8 MB/s */
	for (uint64_t t = 1000; t <= 11000; t += 200) {
		clk.now_ms = t;
		a->passive.resp_bytes = (t - 1000) * 4000;
		b->passive.resp_bytes = (t - 1000) * 2000;
		c->passive.resp_bytes = (t - 1000) * 8000;
		report(&svc, a, 0.8, 1.0, false);
		report(&svc, b, 0.8, 1.0, false);
		report_x(&svc, c, 0.8, 2000, 1.0, 0, 0, 0);
		albm_svc_tick(&svc);
	}
	/* per unit of weight: 4, 2, 4 MB/s; median 4: rel 1, 0.5, 1 */
	struct albm_adapt_info ia, ib, ic;
	assert_int_equal(albm_adapt_info(&svc, a, &ia), 0);
	assert_int_equal(albm_adapt_info(&svc, b, &ib), 0);
	assert_int_equal(albm_adapt_info(&svc, c, &ic), 0);
	assert_near(ia.pick_weight, 1.0, 1e-6);
	assert_near(ib.pick_weight, 0.5, 1e-6);
	assert_near(ic.pick_weight, 2.0, 1e-6);
	/* 35 new connections: shares 1 : 0.5 : 2 */
	count_open(&svc, 35, cnt);
	assert_int_equal(cnt[0], 10);
	assert_int_equal(cnt[1], 5);
	assert_int_equal(cnt[2], 20);
	/* no CPU used (idle, paused): no evidence, the speed stays */
	for (uint64_t t = 11200; t <= 20000; t += 200) {
		clk.now_ms = t;
		report(&svc, b, 0.8, 0.0, false);
		albm_svc_tick(&svc);
	}
	assert_int_equal(albm_adapt_info(&svc, b, &ib), 0);
	assert_near(ib.pick_weight, 0.5, 1e-6);
	(void)seq;
	albm_svc_destroy(&svc);
}

/* Equal servers are not set apart by the estimate's noise: within 1.25x of the median
 * the speed factor is 1. */
static void test_albm_speed_deadband(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	struct albm_adapt_info info;
	const uint64_t rate[] = { 4000, 4800, 3300 }; /* bytes per ms: 1.2x and 0.83x of B */
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (uint64_t t = 1000; t <= 11000; t += 200) {
		clk.now_ms = t;
		for (int i = 0; i < 3; i++) {
			svc.dests[i]->passive.resp_bytes = (t - 1000) * rate[i];
			report(&svc, svc.dests[i], 0.8, 1.0, false);
		}
		albm_svc_tick(&svc);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(albm_adapt_info(&svc, svc.dests[i], &info), 0);
		assert_near(info.speed, 1.0, 1e-9);
	}
	albm_svc_destroy(&svc);
}

/* A cold start: equal weights, unequal memory; before any limit is learnt a server's
 * share of a flash crowd is no larger than its share of memory (per unit of weight). */
static void test_albm_cold_start_by_memory(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1, 1 };
	const double mb[] = { 128, 128, 48, 48 };
	unsigned cnt[4] = { 0, 0, 0, 0 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	for (int i = 0; i < 4; i++)
		report_x(&svc, svc.dests[i], 0.95, mb[i], 0.0, 0, 0, 0);
	at(&svc, &clk, 1100); /* the tick compares the totals: median 88 MB */
	count_open(&svc, 32, cnt); /* weights 128/88 x 1 (rel 1 wins), 48/88 */
	assert_int_equal(cnt[0], 10);
	assert_int_equal(cnt[1], 10);
	assert_int_equal(cnt[2], 6);
	assert_int_equal(cnt[3], 6);
	/* a learnt limit takes over from the prior */
	report_x(&svc, svc.dests[2], 0.05, 48, 0.5, 0, 0, 0);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 4);
	struct albm_adapt_info info;
	assert_int_equal(albm_adapt_info(&svc, svc.dests[2], &info), 0);
	assert_near(info.pick_weight, 1.0, 1e-9);
	albm_svc_destroy(&svc);
}

/* A limit learnt from one or two connections says more about the server (a neighbour
 * took its memory) than about the workload: it is not shared, and a first approach
 * needs three connections. */
static void test_albm_limit_from_few_not_shared(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	char seq[8];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	for (int i = 0; i < 3; i++)
		report(&svc, svc.dests[i], 0.95, 0.5, false);
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "ABC"); /* one each */
	at(&svc, &clk, 1200);
	report(&svc, svc.dests[0], 0.35, 0.5, false); /* under 2 x reserve with 1: no limit */
	assert_int_equal(limit_of(&svc, svc.dests[0]), 0);
	report(&svc, svc.dests[0], 0.05, 0.5, false); /* a shortage with 1: its own limit 1 */
	assert_int_equal(limit_of(&svc, svc.dests[0]), 1);
	at(&svc, &clk, 1300); /* ... that the tick does not hand on */
	assert_int_equal(limit_of(&svc, svc.dests[1]), 0);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 0);
	albm_svc_destroy(&svc);
}

/* Limits are shared per byte of memory when every server reports a total. */
static void test_albm_shares_limit_by_memory(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 1, 1, 1 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report_x(&svc, svc.dests[0], 0.9, 2000, 0.5, 0, 0, 0);
	report_x(&svc, svc.dests[1], 0.9, 1000, 0.5, 0, 0, 0);
	report_x(&svc, svc.dests[2], 0.9, 500, 0.5, 0, 0, 0);
	fixture_sequence_open(&svc, 24, seq); /* 8 each */
	at(&svc, &clk, 1200);
	report_x(&svc, svc.dests[0], 0.05, 2000, 0.5, 0, 0, 0); /* 8 -> 6 */
	at(&svc, &clk, 1300);
	assert_int_equal(limit_of(&svc, svc.dests[0]), 6);
	assert_int_equal(limit_of(&svc, svc.dests[1]), 3);
	assert_int_equal(limit_of(&svc, svc.dests[2]), 1); /* 1.5 */
	albm_svc_destroy(&svc);
}

/* Servers that never ran short start from the learnt limit per unit of weight. */
static void test_albm_shares_learnt_limit(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 2, 1, 1, 4 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 4);
	for (int i = 0; i < 3; i++)
		report(&svc, svc.dests[i], 0.5, 0.0, false); /* D never reports */
	fixture_sequence_open(&svc, 16, seq); /* A gets 4 (weight 2 of 8) */
	assert_int_equal(svc.dests[0]->activeconns, 4);
	at(&svc, &clk, 100);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_int_equal(info.conn_limit, 0); /* nobody has learnt anything yet */
	report(&svc, svc.dests[0], 0.05, 0.0, false); /* A short with 4: limit 3 */
	at(&svc, &clk, 200);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 3);
	/* B and C: 3 per 2 weight units x 1 = 1.5 -> 1; D has no memory figures */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[1], &info), 0);
	assert_int_equal(info.conn_limit, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[2], &info), 0);
	assert_int_equal(info.conn_limit, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[3], &info), 0);
	assert_int_equal(info.conn_limit, 0);
	assert_int_equal(state_of(&svc, svc.dests[1]), ALBM_ADAPT_FULL);
	albm_svc_destroy(&svc);
}

/* No limit until memory first falls below twice the reserve; then what it holds. */
static void test_albm_limit_on_first_approach(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1, 1 };
	char seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	assert_true(svc.adaptive.mem_reserve > 0.19 && svc.adaptive.mem_reserve < 0.21);
	report(&svc, svc.dests[0], 0.9, 0.0, false);
	report(&svc, svc.dests[0], 0.5, 0.0, false); /* idle or not: no limit */
	fixture_sequence_open(&svc, 10, seq);
	report(&svc, svc.dests[0], 0.41, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 0);
	report(&svc, svc.dests[0], 0.39, 0.0, false); /* under 2 x 20 %, with 5 */
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_int_equal(info.conn_limit, 5);
	assert_int_equal(state_of(&svc, svc.dests[0]), ALBM_ADAPT_FULL);
	assert_string_equal(fixture_sequence_open(&svc, 2, seq), "BB");
	/* never short yet, so no level is known to be safe: three good windows in a
	 * row per step (the first window saw 0.39: 0.39 - 2 x 0.61 / 5 < 0.2) */
	const unsigned expect[] = { 5, 5, 5, 6 };
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		at(&svc, &clk, clk.now_ms + 4100);
		report(&svc, svc.dests[0], 0.9, 0.0, false);
		report(&svc, svc.dests[1], 0.9, 0.0, false);
		assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
		assert_int_equal(info.conn_limit, expect[i]);
		fixture_sequence_open(&svc, 2, seq); /* A takes any new room: reached */
		assert_int_equal(state_of(&svc, svc.dests[0]), ALBM_ADAPT_FULL);
	}
	albm_svc_destroy(&svc);
}

/* Back to the level that ran short takes three good windows, below it one. */
static void test_albm_limit_probes_slowly_at_ceiling(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 1 };
	struct albm_dest *a;
	char seq[32];
	uint64_t t = 0;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 1);
	a = svc.dests[0];
	svc.adaptive.mem_reserve = 0.10;
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	report(&svc, a, 0.5, 0.0, false);
	fixture_sequence_open(&svc, 8, seq);
	report(&svc, a, 0.05, 0.0, false); /* short with 8: limit 6, ceiling 8 */
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	while (a->activeconns > 6)
		albm_svc_conn_close(&svc, a, true);
	t = clk.now_ms + 4100; /* the window of the shortage ends, unqualified */
	at(&svc, &clk, t);
	report(&svc, a, 0.9, 0.0, false);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_int_equal(info.conn_limit, 6);
	/* one good window (limit reached, plenty of memory): 6 -> 7; then three in
	 * a row to go back to 8, where it ran short */
	unsigned expect[] = { 7, 7, 7, 8 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(state_of(&svc, a), ALBM_ADAPT_FULL); /* reached */
		t += 4100;
		at(&svc, &clk, t);
		report(&svc, a, 0.9, 0.0, false);
		assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
		assert_int_equal(info.conn_limit, expect[i]);
		fixture_sequence_open(&svc, 1, seq); /* fill the new room, if any */
	}
	albm_svc_destroy(&svc);
}

static void test_albm_asymmetric_smoothing(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100 };
	struct albm_dest *a;
	double lo = 1e9, hi = 0, expect;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 1);
	a = svc.dests[0];
	svc.adaptive.rise_alpha = 0.5;
	report(&svc, a, 0.8, 0.0, false); /* first report taken as is */
	assert_near(a->eff_weight, 80.0, 1e-9);
	report(&svc, a, 0.2, 0.0, false); /* a drop: at once */
	assert_near(a->eff_weight, 20.0, 1e-9);
	report(&svc, a, 0.8, 0.0, false); /* a rise: half way per report */
	assert_near(a->eff_weight, 50.0, 1e-9);
	report(&svc, a, 0.8, 0.0, false);
	assert_near(a->eff_weight, 65.0, 1e-9);
	report(&svc, a, 0.6, 0.0, false); /* below the smoothed value: at once */
	assert_near(a->eff_weight, 60.0, 1e-9);

	/* noisy reports alternating 0.2 / 0.8: with the default alpha the weight
	 * moves within 20-38, not 20-80 */
	svc.adaptive.rise_alpha = 0.3;
	for (int i = 0; i < 20; i++) {
		report(&svc, a, i % 2 ? 0.8 : 0.2, 0.0, false);
		if (i >= 2) {
			lo = fmin(lo, a->eff_weight);
			hi = fmax(hi, a->eff_weight);
		}
	}
	expect = 20.0 + 0.3 * 60.0;
	assert_near(lo, 20.0, 1e-9);
	assert_near(hi, expect, 1e-9);
	/* a lasting rise is reached geometrically: 1 - 0.7^k of the way from the
	 * last low report (20) */
	for (int k = 0; k < 10; k++)
		report(&svc, a, 0.8, 0.0, false);
	expect = 80.0 - (80.0 - 20.0) * pow(0.7, 11);
	assert_near(a->eff_weight, expect, 1e-6);
	albm_svc_destroy(&svc);
}

/* Slow start after the agent reports recovery: Envoy's curve, sampled. */
static void test_albm_slow_start_after_overload(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100, 100 };
	struct albm_dest *a;
	struct albm_adapt_info info;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0];
	svc.adaptive.slow_start_ms = 1000;
	svc.adaptive.slow_start_aggression = 1.0;
	svc.adaptive.slow_start_min = 0.1;
	svc.adaptive.report_timeout_ms = 0; /* no ageing in this test */
	report(&svc, a, 0.5, 0.0, true); /* overloaded at 1000 */
	assert_true(a->eff_weight == 0);
	at(&svc, &clk, 2000);
	report(&svc, a, 0.5, 0.0, false); /* recovered at 2000: ramp starts */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_SLOW_START);
	assert_near(a->eff_weight, 100 * 0.5 * 0.1, 1e-9); /* the min */
	at(&svc, &clk, 2050);
	assert_near(a->eff_weight, 100 * 0.5 * 0.1, 1e-9); /* 0.05 < min */
	at(&svc, &clk, 2250);
	assert_near(a->eff_weight, 100 * 0.5 * 0.25, 1e-9);
	report(&svc, a, 0.5, 0.0, false); /* keep the report fresh */
	at(&svc, &clk, 2600);
	assert_near(a->eff_weight, 100 * 0.5 * 0.6, 1e-9);
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_near(info.ramp, 0.6, 1e-9);
	report(&svc, a, 0.5, 0.0, false);
	at(&svc, &clk, 3000); /* window over */
	assert_near(a->eff_weight, 50.0, 1e-9);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);

	/* aggression 2: sqrt curve */
	svc.adaptive.slow_start_aggression = 2.0;
	report(&svc, a, 0.5, 0.0, true);
	at(&svc, &clk, 3100);
	report(&svc, a, 0.5, 0.0, false);
	at(&svc, &clk, 3100 + 250);
	assert_near(a->eff_weight, 100 * 0.5 * 0.5, 1e-9);
	albm_svc_destroy(&svc);
}

/* Slow start also follows a return from down, drain and report timeout, and a
 * server added to a service already serving; not servers present at the start. */
static void test_albm_slow_start_triggers(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 10, 10 };
	struct albm_dest *a, *b, *c;
	char err[128], seq[32];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 2);
	a = svc.dests[0], b = svc.dests[1];
	svc.adaptive.slow_start_ms = 1000;
	svc.adaptive.slow_start_min = 0.1;
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	/* a server added before any pick: full weight */
	c = albm_svc_add_dest(&svc, "C", NULL, 10, err, sizeof(err));
	assert_non_null(c);
	assert_true(c->eff_weight == 10);
	albm_svc_del_dest(&svc, c);

	fixture_sequence_open(&svc, 4, seq);
	albm_svc_set_flags(&svc, a, 0, ALBM_DEST_F_AVAILABLE);
	at(&svc, &clk, 1500);
	albm_svc_set_flags(&svc, a, ALBM_DEST_F_AVAILABLE, 0);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_SLOW_START);
	assert_near(a->eff_weight, 1.0, 1e-9);
	at(&svc, &clk, 2000);
	assert_near(a->eff_weight, 5.0, 1e-9);

	albm_svc_set_weight(&svc, b, 0);
	albm_svc_set_weight(&svc, b, 20);
	assert_near(b->eff_weight, 2.0, 1e-9);

	/* added while serving: ramps */
	c = albm_svc_add_dest(&svc, "C", NULL, 10, err, sizeof(err));
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_SLOW_START);
	assert_near(c->eff_weight, 1.0, 1e-9);
	at(&svc, &clk, 3000);
	assert_true(a->eff_weight == 10 && b->eff_weight == 20 && c->eff_weight == 10);

	/* return from a report timeout */
	report(&svc, c, 1.0, 0.0, false);
	at(&svc, &clk, 3000 + 1001);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_STALE);
	report(&svc, c, 1.0, 0.0, false);
	assert_int_equal(state_of(&svc, c), ALBM_ADAPT_SLOW_START);
	assert_near(c->eff_weight, 1.0, 1e-9);

	/* slow start off: straight back to full weight */
	svc.adaptive.slow_start_ms = 0;
	albm_svc_set_flags(&svc, b, 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_flags(&svc, b, ALBM_DEST_F_AVAILABLE, 0);
	assert_true(b->eff_weight == 20);
	albm_svc_destroy(&svc);
}

static void test_albm_stale_fades_then_fails(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 100, 100, 100 };
	struct albm_dest *a, *b, *c;
	char seq[16];
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	a = svc.dests[0], b = svc.dests[1], c = svc.dests[2];
	svc.adaptive.report_timeout_ms = 1000; /* trusted 250 ms, fades until 1000 */
	report(&svc, a, 0.8, 0.0, false);
	report(&svc, b, 0.3, 0.0, false);
	at(&svc, &clk, 1250);
	assert_near(a->eff_weight, 80.0, 1e-9);
	at(&svc, &clk, 1625); /* trust half way from 1 to 0.5 */
	assert_near(a->eff_weight, 80.0 * 0.75, 1e-9);
	assert_near(b->eff_weight, 30.0 * 0.75, 1e-9);
	struct albm_adapt_info info;
	assert_int_equal(albm_adapt_info(&svc, a, &info), 0);
	assert_near(info.pick_weight, 100.0 * 0.75, 1e-9);
	at(&svc, &clk, 2000);
	assert_near(a->eff_weight, 40.0, 1e-9);
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_OK);
	at(&svc, &clk, 2001); /* past the timeout: failed */
	assert_int_equal(state_of(&svc, a), ALBM_ADAPT_STALE);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_STALE);
	assert_true(a->eff_weight == 0 && b->eff_weight == 0);
	/* C never reported: balanced on its static weight, never failed */
	assert_true(c->eff_weight == 100);
	assert_string_equal(fixture_sequence(&svc, 3, seq), "CCC");
	/* a fresh report brings A back */
	report(&svc, a, 0.8, 0.0, false);
	assert_true(a->eff_weight > 0);
	assert_int_not_equal(state_of(&svc, a), ALBM_ADAPT_STALE);
	/* report_timeout_ms 0: reports never age */
	svc.adaptive.report_timeout_ms = 0;
	at(&svc, &clk, 1000000);
	assert_int_equal(state_of(&svc, b), ALBM_ADAPT_SLOW_START);
	albm_svc_destroy(&svc);
}

static void test_albm_all_overloaded_policy(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	char seq[16];
	const int w[] = { 1, 1, 1, 1, 1 };
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 5);
	report(&svc, svc.dests[0], 0.10, 0.5, true);
	report(&svc, svc.dests[1], 0.30, 0.5, true);
	report(&svc, svc.dests[2], 0.20, 0.5, true);
	report(&svc, svc.dests[3], 0.95, 0.5, false); /* D: most memory, but down */
	albm_svc_set_flags(&svc, svc.dests[3], 0, ALBM_DEST_F_AVAILABLE);
	report(&svc, svc.dests[4], 0.90, 0.0, false); /* E: no memory left */
	report(&svc, svc.dests[4], 0.0, 0.0, false);
	assert_int_equal(state_of(&svc, svc.dests[4]), ALBM_ADAPT_NO_CAPACITY);

	/* QUEUE (default): nothing, the data plane holds the connection; at its queue's
	 * bound the overflow server is the least-loaded one (B: most memory of the up
	 * servers excluded by measurement; D is down) */
	assert_int_equal(svc.adaptive.all_overloaded_policy, ALBM_ALL_OVL_QUEUE);
	uint64_t nd = svc.no_dest, picks = svc.picks;
	assert_string_equal(fixture_sequence(&svc, 2, seq), "--");
	assert_int_equal(svc.no_dest, nd + 2);
	assert_true(albm_svc_may_wait(&svc));
	assert_ptr_equal(albm_svc_overflow(&svc), svc.dests[1]);
	assert_int_equal(svc.picks, picks + 1);

	/* LEAST_LOADED: SED over the up servers on weight x available
	 * memory (A .10, B .30, C .20, E floored at .01), counting live connections,
	 * so the fallback spreads instead of herding onto one server:
	 * B (1/.3) -> C (1/.2 < 2/.3) -> B (2/.3 < 2/.2) */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_LEAST_LOADED;
	assert_string_equal(fixture_sequence_open(&svc, 3, seq), "BCB");
	report(&svc, svc.dests[2], 0.40, 0.5, true); /* C: 2/.4 beats A 1/.1, B 3/.3 */
	assert_string_equal(fixture_sequence(&svc, 1, seq), "C");

	/* REFUSE: nothing at all, no waiting, no overflow */
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	uint64_t before = svc.no_dest;
	assert_string_equal(fixture_sequence(&svc, 3, seq), "---");
	assert_int_equal(svc.no_dest, before + 3);
	assert_false(albm_svc_may_wait(&svc));
	assert_null(albm_svc_overflow(&svc));
	/* one server recovers: it is used whatever the policy */
	report(&svc, svc.dests[0], 0.5, 0.5, false);
	assert_string_equal(fixture_sequence(&svc, 2, seq), "AA");
	albm_svc_destroy(&svc);
}

/* Proportional share with connections opening and closing (seeded churn). */
static void test_albm_proportional_share_with_churn(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 8, 4, 2 };
	struct albm_dest *open[700];
	size_t nopen = 0;
	unsigned picks[3] = { 0 };
	uint64_t rng = 12345;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 3);
	report(&svc, svc.dests[0], 0.8, 0.1, false); /* memory and CPU above the */
	report(&svc, svc.dests[1], 0.4, 0.1, false); /* reserve: the weights 8:4:2 */
	report(&svc, svc.dests[2], 0.9, 0.8, false); /* decide */
	for (int i = 0; i < 20000; i++) {
		struct albm_flow f = fixture_flow((unsigned)i);
		struct albm_dest *d = albm_svc_schedule(&svc, &f);

		assert_non_null(d);
		if (i >= 10000) /* count once the open set is in steady state */
			picks[d->idx]++;
		albm_svc_conn_open(&svc, d, true);
		if (nopen == ARRAY_SIZE(open)) { /* close a random open connection */
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t k = rng % nopen;
			albm_svc_conn_close(&svc, open[k], true);
			open[k] = open[--nopen];
		}
		open[nopen++] = d;
	}
	/* 8:4:2 of 10000 = 5714 / 2857 / 1429; allow 3% of the total */
	assert_in_range(picks[0], 5714 - 300, 5714 + 300);
	assert_in_range(picks[1], 2857 - 300, 2857 + 300);
	assert_in_range(picks[2], 1429 - 300, 1429 + 300);
	/* the open connections are in the same proportion, within one each */
	assert_in_range(svc.dests[0]->activeconns, 399, 401);
	assert_in_range(svc.dests[1]->activeconns, 199, 201);
	assert_in_range(svc.dests[2]->activeconns, 99, 101);
	albm_svc_destroy(&svc);
}

/* The pick weight as the scheduler compares it: in 1/65536 units, at least 1. */
static uint64_t brute_den(const struct albm_service *svc, const struct albm_dest *d)
{
	struct albm_adapt_info info;
	uint64_t den;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	den = (uint64_t)(info.pick_weight * ALBM_ADAPT_EFF_SCALE + 0.5);
	return den ? den : 1;
}

/* Brute force of the rule: among the eligible servers (those publishing an
 * effective weight), the least (active + 1) / (w x trust x ramp), ties to the
 * first in list order. */
static struct albm_dest *brute_pick(const struct albm_service *svc)
{
	struct albm_dest *best = NULL;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		if (d->eff_weight <= 0)
			continue;
		if (!best ||
		    (unsigned __int128)(d->activeconns + 1ull) * brute_den(svc, best) <
			    (unsigned __int128)(best->activeconns + 1ull) * brute_den(svc, d))
			best = d;
	}
	return best;
}

/* Random operations; after each, the O(1) pick equals the O(n) definition. */
static void test_albm_matches_brute_force(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	const int w[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
	uint64_t rng = 99;
	char err[128], name[16];
	int added = 0;
	(void)state;

	fixture_svc(&svc, &clk, "albm", w, 8);
	svc.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	for (int i = 0; i < 20000; i++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		struct albm_dest *d = svc.ndests ? svc.dests[rng % svc.ndests] : NULL;
		unsigned op = (unsigned)(rng >> 32) % 100;

		if (!d || op < 2) {
			snprintf(name, sizeof(name), "N%d", added++);
			assert_non_null(albm_svc_add_dest(&svc, name, NULL, 1 + op % 7, err,
							  sizeof(err)));
		} else if (op < 4 && svc.ndests > 4) {
			albm_svc_del_dest(&svc, d);
		} else if (op < 40) {
			struct albm_flow f = fixture_flow((unsigned)i);
			struct albm_dest *p = albm_svc_schedule(&svc, &f);
			assert_ptr_equal(p, brute_pick(&svc));
			if (p)
				albm_svc_conn_open(&svc, p, true);
		} else if (op < 70) {
			if (d->activeconns)
				albm_svc_conn_close(&svc, d, true);
		} else if (op < 85) {
			report(&svc, d, (double)(rng >> 40 & 1023) / 1023.0,
			       (double)(rng >> 20 & 255) / 255.0, (rng >> 8 & 15) == 0);
		} else if (op < 90) {
			albm_svc_set_weight(&svc, d, (int)(rng >> 50 & 7));
		} else if (op < 94) {
			albm_svc_set_flags(&svc, d, (rng & 64) ? ALBM_DEST_F_AVAILABLE : 0,
					   (rng & 64) ? 0 : ALBM_DEST_F_AVAILABLE);
		} else {
			at(&svc, &clk, clk.now_ms + (rng >> 30 & 255));
		}
		assert_ptr_equal(albm_svc_schedule(&svc, NULL), brute_pick(&svc));
	}
	albm_svc_destroy(&svc);
}

static void test_albm_info_and_rebind(void **state)
{
	struct albm_service svc;
	struct fixture_clock clk;
	struct albm_adapt_info info;
	const int w[] = { 10 };
	(void)state;

	fixture_svc(&svc, &clk, "rr", w, 1);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), -EINVAL);
	report(&svc, svc.dests[0], 0.4, 0.0, false);
	/* binding albm later starts from the last report */
	assert_int_equal(albm_svc_bind_name(&svc, "albm"), 0);
	assert_near(svc.dests[0]->eff_weight, 4.0, 1e-9);
	assert_int_equal(albm_adapt_info(&svc, svc.dests[0], &info), 0);
	assert_string_equal(albm_adapt_state_name(info.state), "ok");
	assert_string_equal(albm_adapt_state_name(ALBM_ADAPT_AGENT_OVL), "overloaded");
	assert_string_equal(albm_adapt_state_name((enum albm_adapt_state)99), "?");
	/* and unbinding restores the static weight */
	assert_int_equal(albm_svc_bind_name(&svc, "rr"), 0);
	assert_true(svc.dests[0]->eff_weight == 10);
	assert_true(svc.dests[0]->heap_pos[0] == -1);
	albm_svc_destroy(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_albm_static_weight_without_reports),
		cmocka_unit_test(test_albm_excludes_down_drained_overloaded),
		cmocka_unit_test(test_albm_eff_weight_from_measurements),
		cmocka_unit_test(test_albm_learns_connection_limit),
		cmocka_unit_test(test_albm_shares_learnt_limit),
		cmocka_unit_test(test_albm_shares_limit_by_memory),
		cmocka_unit_test(test_albm_limit_from_few_not_shared),
		cmocka_unit_test(test_albm_cold_start_by_memory),
		cmocka_unit_test(test_albm_stall),
		cmocka_unit_test(test_albm_neighbour),
		cmocka_unit_test(test_albm_oom_and_thrashing),
		cmocka_unit_test(test_albm_learns_speed),
		cmocka_unit_test(test_albm_speed_deadband),
		cmocka_unit_test(test_albm_limit_on_first_approach),
		cmocka_unit_test(test_albm_limit_probes_slowly_at_ceiling),
		cmocka_unit_test(test_albm_asymmetric_smoothing),
		cmocka_unit_test(test_albm_slow_start_after_overload),
		cmocka_unit_test(test_albm_slow_start_triggers),
		cmocka_unit_test(test_albm_stale_fades_then_fails),
		cmocka_unit_test(test_albm_all_overloaded_policy),
		cmocka_unit_test(test_albm_proportional_share_with_churn),
		cmocka_unit_test(test_albm_matches_brute_force),
		cmocka_unit_test(test_albm_info_and_rebind),
	};
	albm_log_level = ALBM_LOG_ERR; /* the refusals above are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
