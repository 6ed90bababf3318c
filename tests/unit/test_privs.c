/* ALBM: unit tests for albmd's start-up checks — capabilities (privs.c) and the
 * descriptor budget (fdlimit.c) — on parsed configs */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <linux/capability.h>

#include "common/caps.h"
#include "distributor/config.h"
#include "distributor/fdlimit.h"
#include "distributor/privs.h"

#define C(x)   ALBM_CAP(CAP_##x)
#define DR_ALL (C(NET_ADMIN) | C(BPF) | C(PERFMON))

static void parse(const char *text, struct albmd_config *cfg)
{
	char err[1024] = "";

	if (albmd_config_parse("t.conf", text, strlen(text), cfg, err, sizeof(err)) != 0)
		fail_msg("config rejected: %s", err);
}

static const char proxy_high[] =
	"service web { listen 127.0.0.1:8080; server a 127.0.0.1:9001; }\n";
static const char proxy_low[] = "service web { listen 127.0.0.1:80; server a 127.0.0.1:9001; }\n";
static const char dr[] =
	"service d { listen 10.0.0.1:80; mode dr; interface eth0; server r 10.0.0.2; }\n";

static void test_caps_format(void **state)
{
	char buf[128];
	(void)state;

	assert_string_equal(albm_caps_format(0, buf, sizeof(buf)), "");
	assert_string_equal(albm_caps_format(C(BPF), buf, sizeof(buf)), "CAP_BPF");
	assert_string_equal(albm_caps_format(C(NET_ADMIN) | C(BPF), buf, sizeof(buf)),
			    "CAP_NET_ADMIN and CAP_BPF");
	assert_string_equal(albm_caps_format(DR_ALL, buf, sizeof(buf)),
			    "CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF");
	assert_string_equal(albm_caps_format(ALBM_CAP(45), buf, sizeof(buf)), "CAP_45");
}

/* Proxy mode on a high port needs nothing; below the unprivileged range only
 * CAP_NET_BIND_SERVICE, and the sysctl moves the line. */
static void test_proxy_needs(void **state)
{
	struct albmd_config cfg;
	char err[512] = "";
	(void)state;

	parse(proxy_high, &cfg);
	assert_int_equal(albmd_privs_missing(&cfg, 0, 1024, err, sizeof(err)), 0);
	albmd_config_free(&cfg);

	parse(proxy_low, &cfg);
	assert_true(albmd_privs_missing(&cfg, 0, 1024, err, sizeof(err)) == C(NET_BIND_SERVICE));
	assert_non_null(strstr(err, "service 'web' listens on 127.0.0.1:80 (below 1024) needs "
				    "CAP_NET_BIND_SERVICE"));
	assert_non_null(strstr(err, "AmbientCapabilities="));
	assert_int_equal(albmd_privs_missing(&cfg, C(NET_BIND_SERVICE), 1024, err, sizeof(err)), 0);
	assert_int_equal(albmd_privs_missing(&cfg, 0, 80, err, sizeof(err)), 0);
	albmd_config_free(&cfg);

	/* the admin HTTP and the agents' port count too */
	parse("control { http 127.0.0.1:443; }\n", &cfg);
	assert_true(albmd_privs_missing(&cfg, 0, 1024, err, sizeof(err)) == C(NET_BIND_SERVICE));
	assert_non_null(strstr(err, "admin HTTP listens on 127.0.0.1:443"));
	albmd_config_free(&cfg);
}

/* DR: CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON; the message names exactly the missing
 * ones.  Its listen port is not bound, so port 80 needs no CAP_NET_BIND_SERVICE. */
static void test_dr_needs(void **state)
{
	struct albmd_config cfg;
	char err[512] = "";
	(void)state;

	parse(dr, &cfg);
	assert_true(albmd_privs_missing(&cfg, 0, 1024, err, sizeof(err)) == DR_ALL);
	assert_non_null(strstr(err, "service 'd' (mode dr) needs CAP_NET_ADMIN, CAP_PERFMON and "
				    "CAP_BPF; missing: CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF"));
	assert_true(albmd_privs_missing(&cfg, C(NET_ADMIN) | C(BPF), 1024, err, sizeof(err)) ==
		    C(PERFMON));
	assert_non_null(strstr(err, "missing: CAP_PERFMON."));
	assert_int_equal(albmd_privs_missing(&cfg, DR_ALL, 1024, err, sizeof(err)), 0);
	/* CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON, not CAP_NET_ADMIN */
	assert_int_equal(
		albmd_privs_missing(&cfg, C(SYS_ADMIN) | C(NET_ADMIN), 1024, err, sizeof(err)), 0);
	assert_true(albmd_privs_missing(&cfg, C(SYS_ADMIN), 1024, err, sizeof(err)) ==
		    C(NET_ADMIN));
	albmd_config_free(&cfg);
}

/* Both reasons at once: one message that names both. */
static void test_both_reasons(void **state)
{
	struct albmd_config cfg;
	char err[512] = "";
	char text[512];
	(void)state;

	snprintf(text, sizeof(text), "%s%s", proxy_low, dr);
	parse(text, &cfg);
	assert_true(albmd_privs_missing(&cfg, C(NET_ADMIN) | C(BPF), 1024, err, sizeof(err)) ==
		    (C(PERFMON) | C(NET_BIND_SERVICE)));
	assert_non_null(strstr(err, "missing: CAP_PERFMON. Also service 'web' listens on"));
	albmd_config_free(&cfg);
}

/* maxconn x (2 sockets + 4 pipe ends with splice) + reserve; 0 without a limit. */
static void test_fd_need(void **state)
{
	struct albmd_config cfg;
	uint64_t n;
	(void)state;

	parse(proxy_high, &cfg);
	assert_int_equal(albmd_fd_need(&cfg), 0); /* no maxconn anywhere: unknown */
	albmd_config_free(&cfg);

	parse("maxconn 20000;\nsplice off;\n"
	      "service web { listen 127.0.0.1:8080; server a 127.0.0.1:9001; }\n",
	      &cfg);
	n = albmd_fd_need(&cfg);
	assert_true(n >= 40000 && n < 41000);
	albmd_config_free(&cfg);

	parse("maxconn 20000;\n"
	      "service web { listen 127.0.0.1:8080; server a 127.0.0.1:9001; }\n",
	      &cfg);
	n = albmd_fd_need(&cfg);
	assert_true(n >= 120000 && n < 121000); /* splice on (default) */
	albmd_config_free(&cfg);

	/* without a global maxconn, the services' limits add up */
	parse("splice off;\n"
	      "service a { listen 127.0.0.1:8080; maxconn 100; server a 127.0.0.1:9001; }\n"
	      "service b { listen 127.0.0.1:8081; maxconn 300; server b 127.0.0.1:9002; }\n",
	      &cfg);
	n = albmd_fd_need(&cfg);
	assert_true(n >= 800 && n < 1800);
	albmd_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_format), cmocka_unit_test(test_proxy_needs),
		cmocka_unit_test(test_dr_needs),    cmocka_unit_test(test_both_reasons),
		cmocka_unit_test(test_fd_need),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
