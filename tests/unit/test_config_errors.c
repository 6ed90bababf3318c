/* ALBM: unit tests for albmd's config parser: the errors, each with its file:line
 * (src/distributor/config*.c; the accepted forms are in test_config.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "distributor/config.h"

static int parse(const char *text, struct albmd_config *cfg, char *err, size_t errlen)
{
	return albmd_config_parse("t.conf", text, strlen(text), cfg, err, errlen);
}

/* Each bad config must fail with "t.conf:LINE: ..." containing the fragment. */
static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "bogus 1;", "t.conf:1: unknown directive 'bogus'" },
		{ "\n\nservice a {\n listen 1.2.3.4:5;\n scheduler zz;\n}",
		  "t.conf:5: unknown scheduler 'zz'" },
		{ "service a {\n listen 1.2.3.4:5;\n server s 1.2.3.4:6 weight 65536;\n}",
		  "t.conf:3: bad weight" },
		{ "service a {\n listen 1.2.3.4:5;\n server s 1.2.3.4:6 maxconn;\n}",
		  "t.conf:3: server 's': 'maxconn' needs a value" },
		{ "service a {\n listen 1.2.3.4:5;\n server s 1.2.3.4;\n}",
		  "t.conf:3: server 's': mode proxy needs" },
		{ "service a {\n listen 1.2.3.4:5;\n server s/x 1.2.3.4:6;\n}",
		  "t.conf:3: bad server name" },
		{ "service a {\n listen 1.2.3.4:5;\n server s nothost:6;\n}",
		  "t.conf:3: server 's': bad address" },
		{ "service a {\n listen 1.2.3.4:5\n}",
		  "t.conf:2: directive 'listen' is not terminated" },
		{ "service a {\n listen 1.2.3.4:5;\n", "t.conf:1: block 'service' is not closed" },
		{ "service a {\n service b {\n }\n}",
		  "t.conf:2: block 'service' cannot be nested" },
		{ "service a;", "t.conf:1: 'service' needs a block" },
		{ "service { listen 1.2.3.4:5; }", "t.conf:1: usage: service NAME" },
		{ "service a { listen 1.2.3.4:5; }\nservice a { listen 1.2.3.4:6; }",
		  "t.conf:2: service 'a' defined twice" },
		{ "agents { listen 1.2.3.4:5; key-file /k; }\nagents { }",
		  "t.conf:2: 'agents' block defined twice" },
		{ "agents { key-file /k; }", "t.conf:1: agents block needs 'listen" },
		{ "agents { listen 1.2.3.4:5; timeout 5ms; key-file /k; }",
		  "agent timeout must be at least 10ms" },
		{ "control { socket; }", "t.conf:1: 'socket' takes 1 argument" },
		{ "control { http nowhere; }", "t.conf:1: bad http address" },
		{ "workers 65;", "t.conf:1: bad workers '65'" },
		{ "splice maybe;", "'splice' takes 'on' or 'off'" },
		{ "drain-timeout 5;", "t.conf:1: bad drain-timeout" },
		{ "access-log;", "t.conf:1: usage: access-log PATH | syslog [SOCKET] | off" },
		{ "access-log rel/path.log;",
		  "t.conf:1: access-log: 'rel/path.log' is not an absolute path" },
		{ "access-log /a /b;", "t.conf:1: usage: access-log" },
		{ "access-log syslog /tmp/"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;",
		  "t.conf:1: access-log syslog: socket path longer" },
		{ "service a {\n listen 1.2.3.4:5;\n server-fin-timeout 0;\n}",
		  "t.conf:3: bad server-fin-timeout" },
		{ "service a {\n listen 1.2.3.4:5;\n client-fin-timeout x;\n}",
		  "t.conf:3: bad client-fin-timeout" },
		{ "}", "t.conf:1: unexpected '}'" },
		{ ";", "t.conf:1: unexpected ';'" },
		{ "{", "t.conf:1: unexpected '{'" },
		{ "pid-file \"abc", "t.conf:1: unterminated quoted string" },
		{ "workers 1;\x01", "t.conf:1: control character" },
		{ "service a {\n listen 1.2.3.4:5;\n mode dr;\n interface eth0;\n server r 1.2.3.5:81;\n}",
		  "t.conf:5: server 'r': mode dr cannot change the port" },
		{ "service a {\n listen 1.2.3.4:5;\n interface eth0;\n}",
		  "t.conf:1: service 'a': 'interface' is only for mode dr" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check http;\n}",
		  "t.conf:3: usage: health-check tcp" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check tcp rise 0;\n}",
		  "t.conf:3: bad rise '0'" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check http health;\n}",
		  "t.conf:3: health-check http: bad path 'health'" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check http /h expect 99;\n}",
		  "t.conf:3: bad health-check expect status" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check http /h expect;\n}",
		  "t.conf:3: health-check: 'expect' needs a value" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check tcp expect 200;\n}",
		  "t.conf:3: health-check tcp: 'expect' and 'host' are for health-check http" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check http /h host a/b;\n}",
		  "t.conf:3: health-check: bad host 'a/b'" },
		{ "control {\n http 10.1.2.3:9100;\n}",
		  "t.conf:2: control http 10.1.2.3:9100 is not a loopback address: it needs 'http-token-file PATH;'" },
		{ "control {\n http [::]:9100;\n}",
		  "t.conf:2: control http [::]:9100 is not a loopback address" },
		{ "state-dir;", "t.conf:1: 'state-dir' takes 1 argument" },
		{ "service a {\n listen 1.2.3.4:5;\n slow-start 1s speed 2;\n}",
		  "t.conf:3: slow-start: unknown option 'speed'" },
		{ "service a {\n listen 1.2.3.4:5;\n sched-flags wobble;\n}",
		  "t.conf:3: unknown sched-flag 'wobble'" },
		{ "service a {\n listen 1.2.3.4:5;\n proxy-protocol v3;\n}",
		  "t.conf:3: proxy-protocol takes off, v1 or v2" },
		{ "service a {\n listen 1.2.3.4:5;\n data-path xdp;\n}",
		  "t.conf:3: data-path takes auto, epoll, sockmap or uring" },
		{ "service a {\n listen 1.2.3.4:5;\n all-overloaded panic;\n}",
		  "t.conf:3: all-overloaded takes least-loaded, refuse or queue" },
		{ "service a {\n listen 1.2.3.4:5;\n xdp-mode fast;\n}",
		  "t.conf:3: xdp-mode takes generic or native" },
		{ "service a {\n listen 1.2.3.4:5;\n all-overloaded;\n}",
		  "t.conf:3: 'all-overloaded' takes 1 argument" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 60%;\n}",
		  "t.conf:3: bad mem-reserve '60%' (expected a percentage 0%-50%, e.g. 10%)" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 10;\n}",
		  "t.conf:3: bad mem-reserve '10'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 0.1;\n}",
		  "t.conf:3: bad mem-reserve '0.1'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve -5%;\n}",
		  "t.conf:3: bad mem-reserve '-5%'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 0x10%;\n}",
		  "t.conf:3: bad mem-reserve '0x10%'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve %;\n}",
		  "t.conf:3: bad mem-reserve '%'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 1.2.3%;\n}",
		  "t.conf:3: bad mem-reserve '1.2.3%'" },
		{ "service a {\n listen 1.2.3.4:5;\n mem-reserve 10% 20%;\n}",
		  "t.conf:3: 'mem-reserve' takes 1 argument" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-timeout 5;\n}",
		  "t.conf:3: bad queue-timeout" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-timeout never;\n}",
		  "t.conf:3: bad queue-timeout" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-timeout;\n}",
		  "t.conf:3: 'queue-timeout' takes 1 argument" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-max 10000001;\n}",
		  "t.conf:3: bad queue-max '10000001' (expected an integer 0-10000000)" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-max -1;\n}",
		  "t.conf:3: bad queue-max '-1'" },
		{ "service a { listen 1.2.3.4:5; }\nservice b { listen 1.2.3.4:5; }",
		  "t.conf:2: service 'b' listens on the address of service 'a'" },
		/* a single-value directive given twice in one block: both lines named */
		{ "service a {\n listen 1.2.3.4:5;\n\n listen 1.2.3.4:6;\n}",
		  "t.conf:4: duplicate 'listen' (first at line 2)" },
		{ "workers 1;\nworkers 2;", "t.conf:2: duplicate 'workers' (first at line 1)" },
		{ "agents {\n listen 1.2.3.4:5; key-file /k;\n timeout 1s; timeout 2s;\n}",
		  "t.conf:3: duplicate 'timeout' (first at line 3)" },
		{ "control {\n http 9090;\n http 9091;\n}",
		  "t.conf:3: duplicate 'http' (first at line 2)" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check tcp;\n health-check tcp rise 3;\n}",
		  "t.conf:4: duplicate 'health-check' (first at line 3)" },
		{ "service a {\n listen 1.2.3.4:5;\n mode proxy;\n mode dr;\n}",
		  "t.conf:4: duplicate 'mode' (first at line 3)" },
		{ "control { }\ncontrol { }",
		  "t.conf:2: 'control' block defined twice (first at line 1)" },
		{ "service a {\n listen 1.2.3.4:5;\n server s 1.2.3.4:6 weight 1 weight 2;\n}",
		  "t.conf:3: server 's': 'weight' given twice" },
		{ "service a {\n listen 1.2.3.4:5;\n health-check tcp rise 2 rise 3;\n}",
		  "t.conf:3: health-check: 'rise' given twice" },
		/* listeners that overlap: the wildcard of a family covers its other addresses */
		{ "service a { listen 0.0.0.0:80; }\nservice b { listen 127.0.0.1:80; }",
		  "t.conf:2: service 'b' listens on 127.0.0.1:80, which overlaps 0.0.0.0:80 of service 'a' (line 1)" },
		{ "service a { listen 10.1.2.3:80; }\n\nservice b { listen 0.0.0.0:80; }",
		  "t.conf:3: service 'b' listens on 0.0.0.0:80, which overlaps 10.1.2.3:80 of service 'a' (line 1)" },
		{ "service a { listen [::]:443; }\nservice b { listen [::1]:443; }",
		  "t.conf:2: service 'b' listens on [::1]:443, which overlaps [::]:443 of service 'a' (line 1)" },
		{ "service a { listen [fe80::1]:443; }\nservice b { listen [::]:443; }",
		  "t.conf:2: service 'b' listens on [::]:443" },
		{ "control {\n http 0.0.0.0:9090;\n}\nservice a { listen 127.0.0.1:9090; }",
		  "t.conf:2: control http 0.0.0.0:9090 overlaps 127.0.0.1:9090 of service 'a' (line 4)" },
		{ "control {\n http 9090;\n}\nservice a { listen 127.0.0.1:9090; }",
		  "t.conf:2: control http 127.0.0.1:9090 overlaps 127.0.0.1:9090 of service 'a'" },
		/* directives of another block, and keywords */
		{ "listen 1.2.3.4:5;", "t.conf:1: 'listen' is not allowed at the top level" },
		{ "service a {\n listen 1.2.3.4:5;\n timeout 1s;\n}",
		  "t.conf:3: 'timeout' is not allowed in the service block" },
		{ "service a {\n listen 1.2.3.4:5;\n mode nat;\n}",
		  "t.conf:3: unknown mode 'nat' (proxy or dr)" },
		{ "workers { }", "t.conf:1: 'workers' does not take a block" },
		{ "service a {\n listen 1.2.3.4:5;\n connect-timeout 0s;\n}",
		  "t.conf:3: connect-timeout must be at least 1ms" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-overflow refuse;\n}",
		  "t.conf:3: queue-overflow takes least-loaded or close" },
		{ "service a {\n listen 1.2.3.4:5;\n queue-overflow;\n}",
		  "t.conf:3: 'queue-overflow' takes 1 argument" },
		/* the peers' parameters */
		{ "service a {\n listen 1.2.3.4:5;\n orca-blackout 10;\n}",
		  "t.conf:3: bad orca-blackout" },
		{ "service a {\n listen 1.2.3.4:5;\n orca-expiration 50ms;\n}",
		  "t.conf:3: orca-expiration must be at least 100ms" },
		{ "service a {\n listen 1.2.3.4:5;\n orca-update 10ms;\n}",
		  "t.conf:3: orca-update must be at least 100ms" },
		{ "service a {\n listen 1.2.3.4:5;\n orca-update off;\n}",
		  "t.conf:3: bad orca-update" },
		{ "service a {\n listen 1.2.3.4:5;\n orca-error-penalty -1;\n}",
		  "t.conf:3: bad orca-error-penalty '-1' (expected a number 0-100)" },
		{ "service a {\n listen 1.2.3.4:5;\n orca-error-penalty nan;\n}",
		  "t.conf:3: bad orca-error-penalty 'nan'" },
		{ "service a {\n listen 1.2.3.4:5;\n prequal-q-rif 1.5;\n}",
		  "t.conf:3: bad prequal-q-rif '1.5' (expected a number 0-1)" },
		{ "service a {\n listen 1.2.3.4:5;\n prequal-q-rif 84%;\n}",
		  "t.conf:3: bad prequal-q-rif '84%'" },
		{ "service a {\n listen 1.2.3.4:5;\n prequal-pool 0;\n}",
		  "t.conf:3: bad prequal-pool '0' (expected an integer 1-1024)" },
		{ "service a {\n listen 1.2.3.4:5;\n prequal-pool 1025;\n}",
		  "t.conf:3: bad prequal-pool '1025'" },
		{ "service a {\n listen 1.2.3.4:5;\n prequal-latency-max-age 0ms;\n}",
		  "t.conf:3: prequal-latency-max-age must be at least 1ms" },
		{ "service a {\n listen 1.2.3.4:5;\n lr-choices 0;\n}",
		  "t.conf:3: bad lr-choices '0' (expected an integer 1-64)" },
		{ "service a {\n listen 1.2.3.4:5;\n lr-choices two;\n}",
		  "t.conf:3: bad lr-choices 'two'" },
		{ "service a {\n listen 1.2.3.4:5;\n lr-active-request-bias -0.5;\n}",
		  "t.conf:3: bad lr-active-request-bias '-0.5' (expected a number 0-100)" },
		{ "service a {\n listen 1.2.3.4:5;\n lr-active-request-bias 1 2;\n}",
		  "t.conf:3: 'lr-active-request-bias' takes 1 argument" },
	};
	char err[2048];
	struct albmd_config cfg;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rc = parse(cases[i].text, &cfg, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc %d, want '%s', got '%s'", i, rc, cases[i].want, err);
		assert_int_equal(cfg.nservices, 0); /* nothing leaks out of a failed parse */
	}
}

static void test_many_errors(void **state)
{
	char err[8192];
	struct albmd_config cfg;
	char text[4096] = "";
	(void)state;

	/* all errors are reported, and their number is limited */
	for (int i = 0; i < 30; i++)
		strcat(text, "nope 1;\n");
	assert_int_equal(parse(text, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:1: unknown directive 'nope'"));
	assert_non_null(strstr(err, "t.conf:20: unknown directive 'nope'"));
	assert_null(strstr(err, "t.conf:21:"));
	assert_non_null(strstr(err, "10 more errors"));
	/* a tiny error buffer is not overrun */
	char small[16];
	assert_int_equal(parse(text, &cfg, small, sizeof(small)), -EINVAL);
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
