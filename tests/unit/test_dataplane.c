/* ALBM: unit tests for albmd's data-plane registry (dataplane.c) and the config's `mode` */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "distributor/config.h"
#include "distributor/dataplane.h"

static void test_registry(void **state)
{
	char names[128];
	(void)state;

	assert_int_equal(albmd_dataplane_count(), 2);
	assert_ptr_equal(albmd_dataplane_for(ALBMD_MODE_PROXY), &albmd_dp_proxy);
	assert_ptr_equal(albmd_dataplane_for(ALBMD_MODE_DR), &albmd_dp_dr);
	assert_null(albmd_dataplane_at(albmd_dataplane_count()));
	assert_int_equal(albmd_dataplane_find("proxy"), ALBMD_MODE_PROXY);
	assert_int_equal(albmd_dataplane_find("dr"), ALBMD_MODE_DR);
	assert_int_equal(albmd_dataplane_find("xdp"), -ENOENT);
	assert_string_equal(albmd_mode_name(ALBMD_MODE_DR), "dr");
	albmd_dataplane_names(names, sizeof(names));
	assert_string_equal(names, "proxy or dr");
	/* every plane implements the lifecycle; the view hooks are optional */
	for (size_t i = 0; i < albmd_dataplane_count(); i++) {
		const struct albmd_dataplane_ops *dp = albmd_dataplane_at(i);
		assert_non_null(dp->name);
		assert_true(dp->prepare && dp->abandon && dp->start && dp->stop);
	}
}

/* The config's `mode` goes through the registry; an unknown one names the known. */
static void test_config_mode(void **state)
{
	const char *ok = "service web { listen 10.0.0.1:80; mode dr; interface eth0;\n"
			 "  server s1 10.0.0.2; }\n";
	const char *bad = "service web { listen 10.0.0.1:80; mode xdp; server s1 10.0.0.2:80; }\n";
	struct albmd_config cfg;
	char err[512];
	(void)state;

	assert_int_equal(albmd_config_parse("t.conf", ok, strlen(ok), &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.services[0].mode, ALBMD_MODE_DR);
	albmd_config_free(&cfg);
	assert_true(albmd_config_parse("t.conf", bad, strlen(bad), &cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "t.conf:1: unknown mode 'xdp' (proxy or dr)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_config_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
