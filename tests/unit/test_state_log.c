/* ALBM: unit tests for albmd's state-transition log (state_log.c): which state the log
 * names for each input, and the per-server limit (5 lines per window, then a summary) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"
#include "distributor/state_log.h"

static struct albmd d;

static struct albmd_server *setup(void)
{
	static struct albmd_cfg_server cs = { .name = "s1", .weight = 1, .maxconn = 2 };
	struct albmd_cfg_service svc = {
		.name = "web", .scheduler = "wlc", .servers = &cs, .nservers = 1
	};
	char err[256];

	albm_addr_parse("127.0.0.1:9001", &cs.addr, err, sizeof(err));
	d.services = xcalloc(1, sizeof(*d.services));
	d.services[0] = albmd_service_new(&d, &svc, err, sizeof(err));
	assert_non_null(d.services[0]);
	d.nservices = 1;
	return albmd_dest_server(d.services[0]->sched.dests[0]);
}

static void teardown(void)
{
	albmd_service_retire(&d, d.services[0]);
	free(d.services);
	d.services = NULL;
	d.nservices = 0;
}

static void test_states(void **state)
{
	struct albmd_server *srv = setup();
	struct albmd_service *svc = srv->svc;
	(void)state;

	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_UP);
	/* at its maxconn: full (IPVS overload), not the agent's "overloaded" */
	albm_svc_conn_open(&svc->sched, srv->dest, true);
	albm_svc_conn_open(&svc->sched, srv->dest, true);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_FULL);
	albm_svc_conn_close(&svc->sched, srv->dest, true);
	albm_svc_conn_close(&svc->sched, srv->dest, true);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_UP);
	albm_svc_set_flags(&svc->sched, srv->dest, ALBM_DEST_F_AGENT_OVL, 0);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_OVERLOADED);
	albm_svc_set_flags(&svc->sched, srv->dest, 0, ALBM_DEST_F_AGENT_OVL);
	/* why down */
	srv->hc_down = true;
	albmd_server_refresh(&d, srv);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_HC_DOWN);
	srv->hc_down = false;
	srv->agent_down = true;
	albmd_server_refresh(&d, srv);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_SILENT);
	srv->agent_down = false;
	srv->fail_until_ms = albm_now_ms() + 60000;
	albmd_server_refresh(&d, srv);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_FAILED);
	albmd_server_set_admin(&d, srv, ALBMD_ADMIN_ENABLED); /* forgets the passive verdict */
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_UP);
	albmd_server_set_admin(&d, srv, ALBMD_ADMIN_DISABLED);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_DISABLED);
	albmd_server_set_admin(&d, srv, ALBMD_ADMIN_DRAIN);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_DRAINED);
	albmd_server_set_admin(&d, srv, ALBMD_ADMIN_ENABLED);
	assert_int_equal(albmd_log_state_of(&d, srv), ALBMD_LS_UP);
	assert_string_equal(albmd_log_state_name(ALBMD_LS_HC_DOWN), "down (health check failed)");
	teardown();
}

static void test_limit(void **state)
{
	struct albmd_server *srv = setup();
	uint64_t t = 1000000;
	(void)state;

	albmd_state_log_tick(&d, t); /* the first look only records */
	assert_true(srv->slog.init);
	assert_int_equal(srv->slog.lines, 0);
	for (int i = 0; i < 12; i++) { /* 12 transitions within one window */
		albmd_server_set_admin(&d, srv, i % 2 ? ALBMD_ADMIN_ENABLED : ALBMD_ADMIN_DISABLED);
		albmd_state_log_tick(&d, t += 100);
	}
	assert_int_equal(srv->slog.lines, ALBMD_SLOG_BURST);
	assert_int_equal(srv->slog.suppressed, 12 - ALBMD_SLOG_BURST);
	/* the window ends: the summary line, a fresh budget, the state it ended in */
	albmd_state_log_tick(&d, t += ALBMD_SLOG_WINDOW_MS);
	assert_int_equal(srv->slog.lines, 0);
	assert_int_equal(srv->slog.suppressed, 0);
	assert_int_equal(srv->slog.logged, ALBMD_LS_UP);
	albmd_server_set_admin(&d, srv, ALBMD_ADMIN_DRAIN);
	albmd_state_log_tick(&d, t += 100);
	assert_int_equal(srv->slog.lines, 1);
	assert_int_equal(srv->slog.logged, ALBMD_LS_DRAINED);
	teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_limit),
	};

	albm_log_level = ALBM_LOG_INFO; /* the log runs at info; its lines go to stderr */
	pthread_mutex_init(&d.lock, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
