/* ALBM: unit tests for "a scheduler is one file plus one table line" — capabilities, not names
 *
 * Two schedulers are defined here, in the test, and registered with one line each
 * (albm_sched_set_extra).  albmd then takes them like its own: the config accepts
 * them, a service binds them, the proxy plane's picks are theirs, albmd's slow start
 * follows ALBM_SCHED_F_ADAPTIVE, and the DR plane's weights policy takes the weights()
 * hook or the default the flags select.  Nothing in albmd knows their names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/util.h"
#include "distributor/dr_weights.h"
#include "distributor/service.h"

/* ---- "last": the last usable server of the list; ramps its own weights ---- */

static struct albm_dest *last_usable(const struct albm_service *svc)
{
	for (size_t i = svc->ndests; i-- > 0;)
		if (albm_dest_usable(svc->dests[i]))
			return svc->dests[i];
	return NULL;
}

static struct albm_dest *sched_last_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	(void)flow;
	return last_usable(svc);
}

/* Pure: every new connection would go to the last usable server. */
static enum albm_table_kind sched_last_weights(const struct albm_service *svc, uint32_t k,
					       uint32_t *w)
{
	const struct albm_dest *d = last_usable(svc);

	memset(w, 0, svc->ndests * sizeof(*w));
	if (d)
		w[d->idx] = k;
	return ALBM_TABLE_PICKS;
}

static const struct albm_sched_ops sched_last = {
	.name = "test-last",
	.description = "test: the last usable server",
	.flags = ALBM_SCHED_F_ADAPTIVE,
	.schedule = sched_last_schedule,
	.weights = sched_last_weights,
};

/* ---- "first": the first usable server; weighted, no hook, no own slow start ---- */

static struct albm_dest *sched_first_schedule(struct albm_service *svc,
					      const struct albm_flow *flow)
{
	(void)flow;
	for (size_t i = 0; i < svc->ndests; i++)
		if (albm_dest_usable(svc->dests[i]))
			return svc->dests[i];
	return NULL;
}

static const struct albm_sched_ops sched_first = {
	.name = "test-first",
	.description = "test: the first usable server",
	.flags = ALBM_SCHED_F_WEIGHTED,
	.schedule = sched_first_schedule,
};

/* The one table line each. */
static const struct albm_sched_ops *const test_scheds[] = { &sched_last, &sched_first };

/* ---- a daemon with one service from a config text ---- */

struct rig {
	struct albmd d;
	struct albmd_config cfg;
	struct albmd_service *svc;
};

static void rig_up(struct rig *r, const char *sched)
{
	char text[512], err[512];

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->d.lock, NULL);
	snprintf(text, sizeof(text),
		 "service web { listen 127.0.0.1:8080; scheduler %s;\n"
		 "  slow-start 10s;\n"
		 "  server s1 127.0.0.1:9001 weight 10; server s2 127.0.0.1:9002 weight 10;\n"
		 "  server s3 127.0.0.1:9003 weight 10; }\n",
		 sched);
	if (albmd_config_parse("test.conf", text, strlen(text), &r->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	r->svc = albmd_service_new(&r->d, &r->cfg.services[0], err, sizeof(err));
	if (!r->svc)
		fail_msg("service: %s", err);
}

static void rig_down(struct rig *r)
{
	albmd_service_retire(&r->d, r->svc);
	albmd_config_free(&r->cfg);
	pthread_mutex_destroy(&r->d.lock);
}

static void test_registered_like_our_own(void **state)
{
	struct albmd_config cfg;
	char err[256];
	const char *text = "service web { listen 127.0.0.1:8080; scheduler test-nope; "
			   "server s1 127.0.0.1:9001; }\n";
	(void)state;

	assert_ptr_equal(albm_sched_find("test-last"), &sched_last);
	assert_ptr_equal(albm_sched_at(albm_sched_count() - 1), &sched_first);
	/* an unknown one is still refused by name */
	assert_true(albmd_config_parse("t.conf", text, strlen(text), &cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "unknown scheduler 'test-nope'"));
}

/* The proxy plane's decision is the scheduler's pick. */
static void test_proxy_picks(void **state)
{
	struct albm_flow f = { .family = AF_INET };
	struct rig r;
	(void)state;

	rig_up(&r, "test-last");
	assert_string_equal(albm_svc_schedule(&r.svc->sched, &f)->name, "s3");
	albmd_server_set_admin(&r.d, albmd_server_find(r.svc, "s3"), ALBMD_ADMIN_DRAIN);
	assert_string_equal(albm_svc_schedule(&r.svc->sched, &f)->name, "s2");
	rig_down(&r);

	rig_up(&r, "test-first");
	assert_string_equal(albm_svc_schedule(&r.svc->sched, &f)->name, "s1");
	rig_down(&r);
}

/* albmd's slow start: applied unless the scheduler ramps by itself. */
static void test_slow_start_by_capability(void **state)
{
	struct albmd_server *srv;
	struct rig r;
	(void)state;

	rig_up(&r, "test-first"); /* not ADAPTIVE: albmd ramps a recovered server */
	srv = albmd_server_find(r.svc, "s2");
	albmd_server_set_admin(&r.d, srv, ALBMD_ADMIN_DISABLED);
	albmd_server_set_admin(&r.d, srv, ALBMD_ADMIN_ENABLED);
	assert_int_equal(srv->dest->weight, 5); /* slow_start_min 50 % of 10 at t = 0 */
	rig_down(&r);

	rig_up(&r, "test-last"); /* ADAPTIVE: the weight is left to the scheduler */
	srv = albmd_server_find(r.svc, "s2");
	albmd_server_set_admin(&r.d, srv, ALBMD_ADMIN_DISABLED);
	albmd_server_set_admin(&r.d, srv, ALBMD_ADMIN_ENABLED);
	assert_int_equal(srv->dest->weight, 10);
	rig_down(&r);
}

/* The DR plane's weights policy: the hook, or the default of the flags. */
static void test_dr_weights_policy(void **state)
{
	bool resolved[3] = { true, true, true };
	struct dr_weights_in in = { .resolved = resolved };
	struct dr_weight out[3];
	struct rig r;
	(void)state;

	rig_up(&r, "test-last");
	in.svc = &r.svc->sched;
	assert_int_equal(dr_weights_compute(&in, out), ALBM_TABLE_PICKS);
	assert_int_equal(out[0].w, 0);
	assert_int_equal(out[2].w, DR_WEIGHTS_K_MIN); /* all of K to s3 */
	resolved[2] = false; /* no MAC: out of the set, whatever the scheduler says */
	dr_weights_compute(&in, out);
	assert_false(out[2].in);
	assert_int_equal(out[0].w + out[1].w + out[2].w, 0);
	rig_down(&r);

	resolved[2] = true;
	rig_up(&r, "test-first"); /* no hook, WEIGHTED: the static weights */
	in.svc = &r.svc->sched;
	albmd_server_set_weight(&r.d, albmd_server_find(r.svc, "s1"), 3);
	assert_int_equal(dr_weights_compute(&in, out), ALBM_TABLE_WEIGHTS);
	assert_int_equal(out[0].w, 3);
	assert_int_equal(out[1].w, 10);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered_like_our_own),
		cmocka_unit_test(test_proxy_picks),
		cmocka_unit_test(test_slow_start_by_capability),
		cmocka_unit_test(test_dr_weights_policy),
	};

	albm_sched_set_extra(test_scheds, ARRAY_SIZE(test_scheds));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
