/* ALBM: the proxy plane — its data-plane operations, its per-worker state and hooks
 *
 * The top of the proxy's files: what albmd calls (albmd_dp_proxy, from the main
 * thread) and what the worker runtime calls (albmd_proxy_plane, in each worker).
 */
#include "distributor/proxy/proxy.h"

#include <stdlib.h>

#include "common/util.h"
#include "distributor/proxy/alog.h"
#include "distributor/proxy/conn.h"
#include "distributor/proxy/fastpath.h"
#include "distributor/proxy/lifecycle.h"
#include "distributor/proxy/listener.h"
#include "distributor/proxy/relay.h"

/* ---- the worker hooks ---- */

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
	fastpath_attach(pw);
	return pw;
}

static void plane_after_batch(struct albmd_worker *w, void *state)
{
	struct albmd_pworker *pw = state;

	(void)w;
	proxy_after_batch(pw);
	fastpath_after_batch(pw); /* the io_uring relay's submissions, in one call */
	alog_flush_some(pw);
	if (pw->paused || pw->pause_until_ms)
		listener_update(pw); /* a close made room, or a shortage asked for a pause */
}

static void plane_sweep(struct albmd_worker *w, void *state)
{
	(void)w;
	proxy_sweep_conns(state);
	listener_update(state);
	alog_sync(state);
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
	alog_detach(pw);
	fastpath_detach(pw);
	conn_pool_free(pw);
	relay_pipes_free(pw);
	free(pw->scratch);
	free(pw);
}

/* ---- the data-plane operations (main thread, under albmd_lock()) ---- */

static int dp_prepare(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep, char *err,
		      size_t errlen)
{
	/* once, for the first service that names a fast path (auto is epoll: no BPF
	 * program or io_uring for a config that does not use them) */
	if (cfg->data_path == ALBMD_DATA_PATH_SOCKMAP || cfg->data_path == ALBMD_DATA_PATH_URING)
		fastpath_probe(d);
	return listener_prepare(d, &albmd_dp_proxy, cfg, prep, err, errlen);
}

static void dp_abandon(struct albmd *d, void *prep)
{
	(void)d;
	listener_abandon(prep);
}

static void dp_start(struct albmd *d, struct albmd_service *svc, void *prep)
{
	listener_start(d, &albmd_proxy_plane, svc, prep);
	fastpath_service_started(d, svc);
}

static void dp_stop(struct albmd *d, struct albmd_service *svc)
{
	(void)d;
	listener_stop(svc);
}

const struct albmd_dataplane_ops albmd_dp_proxy = {
	.name = "proxy",
	.prepare = dp_prepare,
	.abandon = dp_abandon,
	.start = dp_start,
	.stop = dp_stop,
	.service_json = fastpath_service_json,
	.service_words = fastpath_service_words,
	.metrics = fastpath_metrics,
};

/* ---- in the workers ---- */

const struct albmd_worker_plane albmd_proxy_plane = {
	.name = "proxy",
	.attach = plane_attach,
	.after_batch = plane_after_batch,
	.sweep = plane_sweep,
	.close_all = plane_close_all,
	.detach = plane_detach,
};
