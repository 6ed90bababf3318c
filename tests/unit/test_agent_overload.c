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
	assert_true(defaults.cpu_high == 95 && defaults.cpu_low == 85);
	assert_true(defaults.mem_hard == 3 && defaults.samples == 3);
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
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &defaults);
	assert_int_equal(feed(&o, 80, 95, 10), 0); /* 95 % is not above 95 % */
	assert_int_equal(feed(&o, 80, 96, 3), 1);
	assert_int_equal(o.state, ALBM_AGENT_OVERLOADED);
}

/* Between the thresholds nothing changes in either direction: hysteresis. */
static void test_hysteresis_band(void **state)
{
	struct albm_overload o;
	(void)state;

	albm_overload_init(&o, &defaults);
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
	struct albm_overload_cfg c = { .mem_low = 30, .mem_high = 40, .cpu_high = 50,
				       .cpu_low = 20, .mem_hard = 0, .samples = 1 };
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
	c = defaults;
	c.cpu_low = 95; /* not below cpu_high */
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpu-low"));
	c = defaults;
	c.samples = 0;
	assert_int_equal(albm_overload_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--samples"));
}

static void test_weight(void **state)
{
	struct albm_metrics idle = sample(100, 0), half = sample(55, 0), busy = sample(100, 47.5);
	struct albm_metrics low = sample(10, 0), worse = sample(60, 50);
	(void)state;

	assert_int_equal(albm_overload_weight(&defaults, &idle), 100);
	assert_int_equal(albm_overload_weight(&defaults, &half), 50); /* (55-10)/(100-10) */
	assert_int_equal(albm_overload_weight(&defaults, &busy), 50); /* (95-47.5)/95 */
	assert_int_equal(albm_overload_weight(&defaults, &low), 1);   /* never 0: that is drain */
	/* the scarcer resource decides */
	assert_int_equal(albm_overload_weight(&defaults, &worse),
			 albm_overload_weight(&defaults, &(struct albm_metrics){
							   .mem_total_bytes = 1,
							   .mem_available_bytes = 1,
							   .cpu_util = 0.5 }));
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
		cmocka_unit_test(test_hysteresis_band),
		cmocka_unit_test(test_hard_limit),
		cmocka_unit_test(test_configurable),
		cmocka_unit_test(test_cfg_check),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_haproxy_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
