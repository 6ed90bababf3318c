/* ALBM test helpers: the albm scheduler's tests — agent reports, the clock, the
 * scheduler's view of a server (include after <cmocka.h>) */
#ifndef ALBM_TESTS_ALBM_FIXTURE_H
#define ALBM_TESTS_ALBM_FIXTURE_H

#include <math.h>

#include "sched/albm_adaptive.h"
#include "sched_fixture.h"

#define MB (1024ull * 1024)

#define assert_near(a, b, eps)                                            \
	do {                                                              \
		double a_ = (a), b_ = (b);                                \
		if (!(fabs(a_ - b_) <= (eps)))                            \
			fail_msg("%s = %.9g, expected %.9g", #a, a_, b_); \
	} while (0)

/* The test's one copy of each server's latest report (dest->report points at it, as
 * it points at albmd's agent entry), by insertion number: a test has one service,
 * and removals must not make two servers share a copy. */
static struct albm_metrics reports[1024];

/* Feed dest a report: mem_frac of 1000 MB available, CPU busy cpu, state ovl. */
static inline void report(struct albm_service *svc, struct albm_dest *d, double mem_frac,
			  double cpu, bool ovl)
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

static inline void at(struct albm_service *svc, struct fixture_clock *clk, uint64_t ms)
{
	clk->now_ms = ms;
	albm_svc_tick(svc);
}

static inline enum albm_adapt_state state_of(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_adapt_info info;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	return info.state;
}

/* Count how often each server is picked in n picks that each open a connection. */
static inline void count_open(struct albm_service *svc, size_t n, unsigned *cnt)
{
	char seq[1024];

	assert_true(n < sizeof(seq));
	fixture_sequence_open(svc, n, seq);
	for (size_t i = 0; i < n; i++)
		if (seq[i] != '-')
			cnt[seq[i] - 'A']++;
}

/* A report with the stall signals: mem_frac of total_mb available, CPU cpu, and the
 * optional fields of `present` (major faults per second, OOM kills so far). */
static inline void report_x(struct albm_service *svc, struct albm_dest *d, double mem_frac,
			    double total_mb, double cpu, uint32_t present, double majfault,
			    uint64_t oom)
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

static inline uint32_t limit_of(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_adapt_info info;

	assert_int_equal(albm_adapt_info(svc, d, &info), 0);
	return info.conn_limit;
}

#endif
