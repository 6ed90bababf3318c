/* ALBM: unit tests for the agent's overload hysteresis, weight and HAProxy replies */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agent/haproxy_agent.h"
#include "agent/overload.h"

static const struct albm_overload_cfg defaults = ALBM_OVERLOAD_CFG_DEFAULT;

/* The defaults with the CPU rule on (the previous defaults: 95 % / 85 %). */
static struct albm_overload_cfg cpu_on(void)
{
	struct albm_overload_cfg c = ALBM_OVERLOAD_CFG_DEFAULT;

	c.cpu_high = 95;
	c.cpu_low = 85;
	return c;
}

/* A measurement with mem_pct % of memory available and cpu_pct % CPU used. */
static struct albm_metrics sample(double mem_pct, double cpu_pct)
{
	struct albm_metrics m = { .name = "s1", .mem_total_bytes = 1000000 };

	m.mem_available_bytes = (uint64_t)(mem_pct * 10000);
	m.cpu_util = cpu_pct / 100.0;
	return m;
}

/* Feed n identical samples; returns how many reported a state change. */
static int feed(struct albm_overload *o, double mem_pct, double cpu_pct, int n)
{
	struct albm_metrics m = sample(mem_pct, cpu_pct);
	int changes = 0;

	for (int i = 0; i < n; i++)
		changes += albm_overload_update(o, &m);
	return changes;
}

static void test_defaults_documented(void **state)
{
	(void)state;
	assert_true(defaults.mem_low == 10 && defaults.mem_high == 20);
	assert_true(defaults.cpu_high == 0); /* CPU is not an overload signal by default */
	assert_true(defaults.mem_hard == 3 && defaults.samples == 3);
	assert_true(defaults.psi_mem_high == 10 && defaults.psi_mem_low == 2);
	assert_true(defaults.majfault_high == 1000 && defaults.majfault_low == 100);
	assert_true(defaults.oom_hold == 25);
	assert_int_equal(albm_overload_cfg_check(&defaults, NULL, 0), 0);
}

static void test_memory_needs_k_samples(void **state)
{
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &defaults);
	assert_int_equal(feed(&o, 9, 10, 2), 0);
	assert_int_equal(o.state, ALBM_AGENT_OK);
	assert_int_equal(feed(&o, 9, 10, 1), 1); /* the K-th in a row */
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_int_equal(feed(&o, 9, 10, 5), 0); /* stays, no repeated change */
}

static void test_interrupted_run_restarts(void **state)
{
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &defaults);
	feed(&o, 5, 10, 2);
	feed(&o, 50, 10, 1); /* one good sample in between */
	assert_int_equal(feed(&o, 5, 10, 2), 0);
	assert_int_equal(o.state, ALBM_AGENT_OK);
	assert_int_equal(feed(&o, 5, 10, 1), 1);
}

static void test_cpu_overload(void **state)
{
	struct albm_overload_cfg c = cpu_on();
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &c);
	assert_int_equal(feed(&o, 80, 95, 10), 0); /* 95 % is not above 95 % */
	assert_int_equal(feed(&o, 80, 96, 3), 1);
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_string_equal(albm_overload_why_name(o.why), "cpu");
}

/* With the defaults a cluster-wide CPU spike marks no server overloaded: a server
 * busy at its CPU share is working (even with every task waiting for CPU). */
static void test_cpu_spike_not_overload(void **state)
{
	struct albm_overload o;
	struct albm_metrics m = sample(60, 100);
	(void)state;

	m.present = ALBM_MET_CG_PSI(ALBM_PSI_CPU) | ALBM_MET_CG_PSI(ALBM_PSI_MEMORY);
	m.cg_psi[ALBM_PSI_CPU] = (struct albm_psi){ 95, 90, 100, 100 };
	albm_overload_init(&o, &defaults);
	for (int i = 0; i < 50; i++)
		assert_false(albm_overload_update(&o, &m));
	assert_int_equal(o.state, ALBM_AGENT_OK);
	assert_int_equal(albm_overload_weight(&defaults, &m), 1); /* busy: a low weight */
}

/* Between the thresholds nothing changes in either direction: hysteresis. */
static void test_hysteresis_band(void **state)
{
	struct albm_overload_cfg c = cpu_on();
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &c);
	assert_int_equal(feed(&o, 15, 90, 20), 0); /* neither bad nor good: stays ok */
	feed(&o, 5, 10, 3);
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_int_equal(feed(&o, 15, 10, 20), 0); /* memory not above 20 % */
	assert_int_equal(feed(&o, 50, 90, 20), 0); /* CPU not below 85 % */
	assert_int_equal(feed(&o, 20, 10, 20), 0); /* 20 % is not above 20 % */
	feed(&o, 50, 10, 2);
	feed(&o, 15, 10, 1); /* breaks the run */
	assert_int_equal(feed(&o, 50, 10, 2), 0);
	assert_int_equal(feed(&o, 50, 10, 1), 1);
	assert_int_equal(o.state, ALBM_AGENT_OK);
}

static void test_hard_limit(void **state)
{
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &defaults);
	assert_int_equal(feed(&o, 2, 10, 1), 1); /* below --mem-hard: at once */
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_true(o.hard);
	assert_int_equal(feed(&o, 5, 10, 1), 0);
	assert_false(o.hard); /* out of the hard zone, still overloaded */
	assert_int_equal(feed(&o, 50, 10, 2), 0);
	assert_int_equal(feed(&o, 2, 10, 1), 0); /* back below: the recovery run restarts */
	assert_true(o.hard);
	assert_int_equal(feed(&o, 50, 10, 3), 1);
	assert_int_equal(o.state, ALBM_AGENT_OK);
	assert_false(o.hard);
}

static void test_configurable(void **state)
{
	struct albm_overload_cfg c = { .mem_low = 30,
				       .mem_high = 40,
				       .cpu_high = 50,
				       .cpu_low = 20,
				       .mem_hard = 0,
				       .samples = 1 };
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &c);
	assert_int_equal(feed(&o, 35, 45, 1), 0);
	assert_int_equal(feed(&o, 29, 10, 1), 1);
	assert_int_equal(feed(&o, 41, 19, 1), 1);
	assert_int_equal(feed(&o, 41, 51, 1), 1);
	assert_int_equal(feed(&o, 0, 0, 1), 0); /* mem_hard 0: no hard limit */
	assert_false(o.hard);
}

static void test_cfg_check(void **state)
{
	struct albm_overload_cfg c;
	char err[256] = "";
	(void)state;

	c = defaults;
	c.mem_low = 25; /* above mem_high */
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--mem-low (25)"));
	c = defaults;
	c.mem_hard = 11; /* above mem_low */
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	c = cpu_on();
	c.cpu_low = 95; /* not below cpu_high */
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpu-low"));
	c = defaults;
	c.cpu_low = 95; /* CPU off: cpu_low is not used */
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), 0);
	c = defaults;
	c.psi_mem_low = 10;
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--psi-mem-low"));
	c = defaults;
	c.majfault_low = 2000;
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--majfault-high"));
	c = defaults;
	c.samples = 0;
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--samples"));
}

static void test_weight(void **state)
{
	struct albm_overload_cfg c = cpu_on();
	struct albm_metrics idle = sample(100, 0), half = sample(55, 0), busy = sample(100, 47.5);
	struct albm_metrics low = sample(10, 0), worse = sample(60, 50);
	(void)state;

	assert_int_equal(albm_overload_weight(&c, &idle), 100);
	assert_int_equal(albm_overload_weight(&c, &half), 50); /* (55-10)/(100-10) */
	assert_int_equal(albm_overload_weight(&c, &busy), 50); /* (95-47.5)/95 */
	assert_int_equal(albm_overload_weight(&c, &low), 1);   /* never 0: that is drain */
	/* the scarcer resource decides */
	assert_int_equal(albm_overload_weight(&c, &worse),
			 albm_overload_weight(&c, &(struct albm_metrics){ .mem_total_bytes = 1,
									  .mem_available_bytes = 1,
									  .cpu_util = 0.5 }));
	/* CPU rule off: the headroom below 100 % */
	idle = sample(100, 60);
	assert_int_equal(albm_overload_weight(&defaults, &idle), 40);
}

/* m with the given memory PSI "full" share over the interval, in the cgroup's or the
 * host's file. */
static struct albm_metrics stalled(double mem_pct, double full_pct, bool cgroup)
{
	struct albm_metrics m = sample(mem_pct, 30);
	int r = ALBM_PSI_MEMORY;

	m.present = cgroup ? ALBM_MET_CG_PSI(r) : ALBM_MET_HOST_PSI(r);
	if (cgroup)
		m.cg_psi[r].full_pct = full_pct;
	else
		m.host_psi[r].full_pct = full_pct;
	return m;
}

static int feed_m(struct albm_overload *o, const struct albm_metrics *m, int n)
{
	int changes = 0;

	for (int i = 0; i < n; i++)
		changes += albm_overload_update(o, m);
	return changes;
}

/* Memory "full" stall (a server that thrashes though it shows memory available)
 * overloads after K samples, with its own hysteresis band. */
static void test_memory_stall(void **state)
{
	struct albm_overload o;
	struct albm_metrics hot = stalled(60, 30, true), mid = stalled(60, 5, true);
	struct albm_metrics calm = stalled(60, 1, true);
	(void)state;

	albm_overload_init(&o, &defaults);
	assert_int_equal(feed_m(&o, &mid, 10), 0); /* 5 % is inside the band */
	assert_int_equal(feed_m(&o, &hot, 2), 0);
	assert_int_equal(feed_m(&o, &hot, 1), 1);
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_string_equal(albm_overload_why_name(o.why), "memory-stall");
	assert_int_equal(feed_m(&o, &mid, 10), 0); /* not below 2 %: stays */
	assert_int_equal(feed_m(&o, &calm, 3), 1);
	assert_int_equal(o.why, ALBM_OVL_NONE);
}

/* A cgroup-scoped agent judges by its cgroup's PSI, never the host's (other cgroups'
 * stalls); a host-wide agent by the host's. */
static void test_stall_scope(void **state)
{
	struct albm_overload_cfg c = defaults;
	struct albm_overload o;
	struct albm_metrics host = stalled(60, 50, false), both = host;
	(void)state;

	c.cgroup_scope = true;
	albm_overload_init(&o, &c);
	assert_int_equal(feed_m(&o, &host, 10), 0);
	both.present |= ALBM_MET_CG_PSI(ALBM_PSI_MEMORY);
	both.cg_psi[ALBM_PSI_MEMORY].full_pct = 0.5;
	assert_int_equal(feed_m(&o, &both, 10), 0); /* the cgroup is calm */
	albm_overload_init(&o, &defaults);
	assert_int_equal(feed_m(&o, &host, 3), 1);
	c.psi_mem_high = 0; /* rule off */
	c.cgroup_scope = false;
	albm_overload_init(&o, &c);
	assert_int_equal(feed_m(&o, &host, 10), 0);
}

static void test_major_faults(void **state)
{
	struct albm_overload o;
	struct albm_metrics m = sample(60, 30);
	(void)state;

	m.present = ALBM_MET_MAJFAULT;
	albm_overload_init(&o, &defaults);
	m.majfault_rate = 1000; /* not above */
	assert_int_equal(feed_m(&o, &m, 10), 0);
	m.majfault_rate = 5000;
	assert_int_equal(feed_m(&o, &m, 3), 1);
	assert_string_equal(albm_overload_why_name(o.why), "major-faults");
	m.majfault_rate = 500;
	assert_int_equal(feed_m(&o, &m, 10), 0);
	m.majfault_rate = 50;
	assert_int_equal(feed_m(&o, &m, 3), 1);
	/* the same rate without the bit (not measured) means nothing */
	m.majfault_rate = 5000;
	m.present = 0;
	assert_int_equal(feed_m(&o, &m, 10), 0);
}

/* An OOM kill overloads at once and holds for oom_hold samples, then K good ones. */
static void test_oom_kill(void **state)
{
	struct albm_overload_cfg c = defaults;
	struct albm_overload o;
	struct albm_metrics m = sample(90, 10);
	(void)state;

	c.oom_hold = 5;
	m.present = ALBM_MET_OOM_KILLS;
	m.oom_kills = 7; /* kills before the agent started: the baseline */
	albm_overload_init(&o, &c);
	assert_int_equal(feed_m(&o, &m, 3), 0);
	m.oom_kills = 8;
	assert_int_equal(feed_m(&o, &m, 1), 1);
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
	assert_string_equal(albm_overload_why_name(o.why), "oom-kill");
	assert_int_equal(feed_m(&o, &m, 5), 0); /* held, memory fine or not */
	assert_int_equal(feed_m(&o, &m, 2), 0);
	assert_int_equal(feed_m(&o, &m, 1), 1); /* 5 held + K = 3 good */
	m.oom_kills = 2;                        /* a new cgroup: a new baseline, not a kill */
	assert_int_equal(feed_m(&o, &m, 3), 0);
	m.oom_kills = 3;
	assert_int_equal(feed_m(&o, &m, 1), 1);
	c.oom_hold = 0; /* OOM kills not used */
	albm_overload_init(&o, &c);
	assert_int_equal(feed_m(&o, &m, 1), 0);
	m.oom_kills = 9;
	assert_int_equal(feed_m(&o, &m, 5), 0);
}

static void test_haproxy_lines(void **state)
{
	struct albm_overload o;
	struct albm_metrics m = sample(55, 0);
	char line[ALBM_HAPROXY_LINE_MAX];
	(void)state;

	albm_overload_init(&o, &defaults);
	albm_overload_update(&o, &m);
	albm_haproxy_format(&o, &m, line, sizeof(line));
	assert_string_equal(line, "ready up 50%\n");
	m = sample(5, 0);
	feed(&o, 5, 0, 3);
	albm_haproxy_format(&o, &m, line, sizeof(line));
	assert_string_equal(line, "drain up\n");
	m = sample(1, 0);
	albm_overload_update(&o, &m);
	albm_haproxy_format(&o, &m, line, sizeof(line));
	assert_string_equal(line, "drain down #memory below hard limit\n");
	m = sample(90, 0);
	feed(&o, 90, 0, 3);
	albm_haproxy_format(&o, &m, line, sizeof(line));
	assert_string_equal(line, "ready up 89%\n"); /* (90-10)/90 */
	albm_haproxy_format_blind(line, sizeof(line));
	assert_string_equal(line, "drain down #no measurement\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_documented),
		cmocka_unit_test(test_memory_needs_k_samples),
		cmocka_unit_test(test_interrupted_run_restarts),
		cmocka_unit_test(test_cpu_overload),
		cmocka_unit_test(test_cpu_spike_not_overload),
		cmocka_unit_test(test_memory_stall),
		cmocka_unit_test(test_stall_scope),
		cmocka_unit_test(test_major_faults),
		cmocka_unit_test(test_oom_kill),
		cmocka_unit_test(test_hysteresis_band),
		cmocka_unit_test(test_hard_limit),
		cmocka_unit_test(test_configurable),
		cmocka_unit_test(test_cfg_check),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_haproxy_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
