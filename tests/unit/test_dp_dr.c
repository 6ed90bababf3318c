/* ALBM: unit tests for albmd's DR data plane — scheduler state to XDP table weights, flow counts */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "distributor/dataplane_dr.h"
#include "distributor/dr_weights.h"

/* No BPF is touched below: the weights policy is pure, and the flow-count feed only
 * reads the counters it is given. */

#define NS 3

struct rig {
	struct albmd_service svc;
	struct albmd_server srv[NS];
	struct drd_real reals[NS];
	struct drd_svc ds;
	struct dr_weight out[NS]; /* the last rig_weights() */
	enum albm_table_kind kind;
};

/* A DR service with NS servers A, B, C of the given weights, every MAC known. */
static void rig_init(struct rig *r, const char *sched, const int *w)
{
	char name[2] = "A", err[128];

	memset(r, 0, sizeof(*r));
	albm_svc_init(&r->svc.sched, "web");
	albm_svc_seed(&r->svc.sched, 1);
	r->svc.cfg.idle_timeout_ms = 600000;
	albm_addr_parse("10.0.0.100:80", &r->ds.vip, err, sizeof(err));
	for (int i = 0; i < NS; i++) {
		name[0] = (char)('A' + i);
		r->srv[i].dest =
			albm_svc_add_dest(&r->svc.sched, name, NULL, w[i], err, sizeof(err));
		assert_non_null(r->srv[i].dest);
		r->srv[i].dest->owner = &r->srv[i];
		r->srv[i].svc = &r->svc;
		r->reals[i].srv = &r->srv[i];
		r->reals[i].resolved = true;
	}
	assert_int_equal(albm_svc_bind_name(&r->svc.sched, sched), 0);
	r->ds.svc = &r->svc;
	r->ds.reals = r->reals;
	r->ds.nreals = NS;
}

/* The weights policy on the rig's state (MACs as in reals[], rate as in ds). */
static void rig_weights(struct rig *r, uint32_t *w)
{
	bool resolved[NS];
	struct dr_weights_in in = { .svc = &r->svc.sched,
				    .resolved = resolved,
				    .rate = r->ds.rate };

	for (int i = 0; i < NS; i++)
		resolved[i] = r->reals[i].resolved;
	r->kind = dr_weights_compute(&in, r->out);
	for (int i = 0; i < NS; i++)
		w[i] = r->out[i].in ? r->out[i].w : UINT32_MAX;
}

static void test_static_schedulers(void **state)
{
	const int w[NS] = { 2, 5, 0 };
	struct rig r;
	uint32_t t[NS];
	(void)state;

	rig_init(&r, "wrr", w);
	rig_weights(&r, t);
	assert_int_equal(r.kind, ALBM_TABLE_WEIGHTS);
	assert_int_equal(t[0], 2); /* the weights; drained C stays in the set with 0 */
	assert_int_equal(t[1], 5);
	assert_int_equal(t[2], 0);
	albm_svc_set_flags(&r.svc.sched, r.srv[0].dest, 0, ALBM_DEST_F_AVAILABLE);
	albm_svc_set_thresholds(&r.svc.sched, r.srv[1].dest, 1, 0);
	albm_svc_conn_open(&r.svc.sched, r.srv[1].dest, true); /* B at its maxconn */
	rig_weights(&r, t);
	assert_int_equal(t[0], UINT32_MAX); /* down: out of the set (flows rescheduled) */
	assert_int_equal(t[1], 0);          /* at maxconn: no new flows, kept */
	albm_svc_destroy(&r.svc.sched);

	rig_init(&r, "rr", w);
	rig_weights(&r, t);
	assert_int_equal(r.kind, ALBM_TABLE_EQUAL);
	assert_int_equal(t[0], 1); /* rr ignores weights but 0 */
	assert_int_equal(t[1], 1);
	assert_int_equal(t[2], 0);
	r.reals[1].resolved = false; /* no MAC: not in the set */
	rig_weights(&r, t);
	assert_int_equal(t[1], UINT32_MAX);
	albm_svc_destroy(&r.svc.sched);
}

static void test_wlc_picks_leave_no_trace(void **state)
{
	const int w[NS] = { 1, 1, 1 };
	struct rig r;
	uint32_t t[NS];
	(void)state;

	rig_init(&r, "wlc", w);
	for (int i = 0; i < 24; i++)
		albm_svc_conn_open(&r.svc.sched, r.srv[0].dest, true);
	for (int i = 0; i < 4; i++)
		albm_svc_conn_open(&r.svc.sched, r.srv[1].dest, true);
	albm_svc_set_thresholds(&r.svc.sched, r.srv[2].dest, 10, 0); /* C: maxconn 10 */
	rig_weights(&r, t);
	assert_int_equal(r.kind, ALBM_TABLE_PICKS);
	/* 32 picks as wlc would place 32 connections on A 24, B 4, C 0 (maxconn 10):
	 * C to 4, then B and C in turn (ties to list order) to 10, where C is full;
	 * B alone to 24; then A and B in turn: A 1, B 21, C 10 */
	assert_int_equal(t[0], 1);
	assert_int_equal(t[1], 21);
	assert_int_equal(t[2], 10);
	/* the policy is pure: no scratch connection, flag or statistic anywhere */
	assert_int_equal(r.srv[0].dest->activeconns, 24);
	assert_int_equal(r.srv[1].dest->activeconns, 4);
	assert_int_equal(r.srv[2].dest->activeconns, 0);
	assert_int_equal(r.srv[2].dest->total_conns, 0);
	assert_false(r.srv[2].dest->flags & ALBM_DEST_F_OVERLOAD);
	assert_int_equal(r.svc.sched.picks, 0);
	assert_int_equal(r.svc.sched.no_dest, 0);
	r.ds.rate = 300; /* K follows the new-flow rate: 2 x 300 */
	rig_weights(&r, t);
	assert_int_equal(t[0] + t[1] + t[2], 600);
	albm_svc_destroy(&r.svc.sched);
}

static void test_albm_effective_weights(void **state)
{
	const int w[NS] = { 1, 3, 2 };
	struct albm_metrics m = { .mem_total_bytes = 100,
				  .mem_available_bytes = 90,
				  .state = ALBM_AGENT_OVERLOADED };
	struct rig r;
	uint32_t t[NS];
	(void)state;

	rig_init(&r, "albm", w);
	rig_weights(&r, t);
	assert_int_equal(r.kind, ALBM_TABLE_EFFECTIVE);
	assert_int_equal(t[0], 256); /* no report: the static weight, x 256 */
	assert_int_equal(t[1], 768);
	albm_svc_report(&r.svc.sched, r.srv[2].dest, &m); /* C reports overload */
	rig_weights(&r, t);
	assert_int_equal(t[2], 0);
	assert_true(r.out[2].in); /* overload: kept in the set, no new flows */
	albm_svc_report(&r.svc.sched, r.srv[0].dest, &m);
	albm_svc_report(&r.svc.sched, r.srv[1].dest, &m);
	r.svc.sched.adaptive.all_overloaded_policy = ALBM_ALL_OVL_LEAST_LOADED;
	rig_weights(&r, t); /* all overloaded: least-loaded -> exactly one server */
	assert_int_equal(t[0] + t[1] + t[2], 1);
	assert_int_equal(r.svc.sched.picks, 0);
	/* queue: XDP cannot hold a flow, so it is least-loaded here (and stays queue) */
	r.svc.sched.adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	rig_weights(&r, t);
	assert_int_equal(t[0] + t[1] + t[2], 1);
	assert_int_equal(r.svc.sched.adaptive.all_overloaded_policy, ALBM_ALL_OVL_QUEUE);
	r.svc.sched.adaptive.all_overloaded_policy = ALBM_ALL_OVL_REFUSE;
	rig_weights(&r, t);
	assert_int_equal(t[0] + t[1] + t[2], 0);
	albm_svc_destroy(&r.svc.sched);
}

static void test_rebuild_thresholds(void **state)
{
	(void)state;
	assert_false(dr_weight_moved(5, 5, 0));
	assert_true(dr_weight_moved(100, 101, 0));  /* static: any change */
	assert_false(dr_weight_moved(256, 263, 5)); /* effective: within 1/32 */
	assert_true(dr_weight_moved(256, 265, 5));
	assert_false(dr_weight_moved(16, 18, 3)); /* picks: within 1/8 */
	assert_true(dr_weight_moved(16, 19, 3));
	assert_true(dr_weight_moved(0, 1, 3)); /* to or from 0: always */
	assert_true(dr_weight_moved(1000, 0, 5));
}

static void test_feed_counts(void **state)
{
	const int w[NS] = { 1, 1, 1 };
	struct rig r;
	struct drd_real *e;
	(void)state;

	rig_init(&r, "wlc", w);
	e = &r.reals[0];
	e->applied.in = true;
	e->last_pkt_ms = 1000;
	e->cur = (struct dr_real_stats){ .pkts = 50, .new_flows = 10, .closed_flows = 4 };
	drd_real_feed(&r.ds, e, 10, 1000);
	assert_int_equal(r.srv[0].dest->activeconns, 6);  /* opened - closed */
	assert_int_equal(r.srv[0].dest->total_conns, 10); /* every flow, closed or not */
	assert_int_equal(r.svc.st.conns_total, 10);
	assert_int_equal(r.svc.st.conns_active, 6);
	e->cur.new_flows = 12, e->cur.closed_flows = 11;
	drd_real_feed(&r.ds, e, 2, 2000);
	assert_int_equal(r.srv[0].dest->activeconns, 1);
	assert_int_equal(r.srv[0].dest->total_conns, 12);
	/* no packet for idle-timeout: the flow ended without a FIN, forget it */
	drd_real_feed(&r.ds, e, 0, 1000 + r.svc.cfg.idle_timeout_ms);
	assert_int_equal(r.srv[0].dest->activeconns, 0);
	assert_int_equal(r.svc.st.conns_active, 0);
	e->cur.new_flows = 15; /* later flows (and their packets) count again */
	e->last_pkt_ms = 1000 + r.svc.cfg.idle_timeout_ms;
	drd_real_feed(&r.ds, e, 3, 1000 + r.svc.cfg.idle_timeout_ms);
	assert_int_equal(r.srv[0].dest->activeconns, 3);
	albm_svc_destroy(&r.svc.sched);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_schedulers),
		cmocka_unit_test(test_wlc_picks_leave_no_trace),
		cmocka_unit_test(test_albm_effective_weights),
		cmocka_unit_test(test_rebuild_thresholds),
		cmocka_unit_test(test_feed_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
