/* ALBM: the proxy plane in the workers — per-worker state and the runtime's hooks */
#include "distributor/proxy/proxy.h"

#include <stdlib.h>

#include "common/util.h"
#include "distributor/proxy/conn.h"
#include "distributor/proxy/lifecycle.h"
#include "distributor/proxy/listener.h"
#include "distributor/proxy/relay.h"

static void *plane_attach(struct albmd_worker *w)
{
	struct albmd_pworker *pw = xcalloc(1, sizeof(*pw));

	pw->w = w;
	pw->d = w->d;
	pw->loop = w->loop;
	evl_timer_init(&pw->qtimer);
	pw->qtimer_cb = proxy_queue_timer;
	relay_pipes_init(pw);
	pw->scratch = xmalloc(ALBMD_SCRATCH_SIZE);
	return pw;
}

static void plane_after_batch(struct albmd_worker *w, void *state)
{
	(void)w;
	proxy_after_batch(state);
}

static void plane_sweep(struct albmd_worker *w, void *state)
{
	(void)w;
	proxy_sweep_conns(state);
	listener_resume_if_room(state);
}

static void plane_close_all(struct albmd_worker *w, void *state)
{
	(void)w;
	proxy_close_all(state);
}

static void plane_detach(struct albmd_worker *w, void *state)
{
	struct albmd_pworker *pw = state;

	evl_timer_stop(w->loop, &pw->qtimer);
	conn_pool_free(pw);
	relay_pipes_free(pw);
	free(pw->scratch);
	free(pw);
}

const struct albmd_worker_plane albmd_proxy_plane = {
	.name = "proxy",
	.attach = plane_attach,
	.after_batch = plane_after_batch,
	.sweep = plane_sweep,
	.close_all = plane_close_all,
	.detach = plane_detach,
};
