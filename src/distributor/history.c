/* ALBM: albmd's sample history — what the dashboard plots (the paper's Figures 4-5, live)
 *
 * Every ALBMD_HIST_INTERVAL_MS the main thread samples each server (the agent's
 * available memory and CPU, active connections, effective weight, state, connections
 * opened per second) and each service (connections per second, queue length, active
 * connections) into rings of ALBMD_HIST_LEN points: 5 minutes at 1 s, about 6 KiB per
 * server.  All rings share one sequence number, so a client asks for what is newer
 * than the last "seq" it saw (GET /api/history?since=SEQ) and gets columns it can
 * append.  A series is born with its server and freed with it (a reload that keeps a
 * server keeps its history).
 */
#include "distributor/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/service.h"

struct srv_point {
	float mem_pct; /* NaN: no agent report */
	float cpu;     /* 0-100 %, NaN: no report */
	float eff_weight;
	float rps; /* connections opened per second */
	uint32_t conns;
	uint8_t state; /* enum albmd_state */
};

struct svc_point {
	float rps;
	uint32_t queued, conns;
};

/* One series: points[seq % LEN] holds sample seq, for seq >= first. */
struct albmd_hist {
	uint64_t first;      /* the first sample it took part in */
	uint64_t last_total; /* connections counter at the previous sample */
	union {
		struct srv_point srv[ALBMD_HIST_LEN];
		struct svc_point svc[ALBMD_HIST_LEN];
	} p;
};

/* The daemon's clock: sample seq was taken at t_ms[seq % LEN] (wall clock). */
struct albmd_history {
	uint64_t seq;     /* samples taken (the newest is seq) */
	uint64_t last_ms; /* monotonic time of the newest */
	uint64_t t_ms[ALBMD_HIST_LEN];
};

static struct albmd_hist *hist_get(struct albmd_hist **h, uint64_t seq, uint64_t total)
{
	if (!*h) {
		*h = xcalloc(1, sizeof(**h));
		(*h)->first = seq;
		(*h)->last_total = total;
	}
	return *h;
}

/* Per-second rate of a counter between two samples, and remember it. */
static float rate(struct albmd_hist *h, uint64_t total, double secs)
{
	uint64_t d = total >= h->last_total ? total - h->last_total : 0;

	h->last_total = total;
	return secs > 0 ? (float)((double)d / secs) : 0.0f;
}

static void sample_server(struct albmd *d, struct albmd_server *srv, uint64_t seq, double secs)
{
	const struct albmd_agent *a = srv->agent;
	struct albmd_hist *h;
	struct srv_point *p;

	if (!srv->dest)
		return;
	h = hist_get(&srv->hist, seq, srv->dest->total_conns);
	p = &h->p.srv[seq % ALBMD_HIST_LEN];
	p->rps = rate(h, srv->dest->total_conns, secs);
	p->conns = srv->dest->activeconns;
	p->eff_weight = (float)srv->dest->eff_weight;
	p->state = (uint8_t)albmd_server_state(d, srv);
	p->mem_pct = p->cpu = NAN;
	if (a && albmd_agent_has_report(a) && a->m.mem_total_bytes) {
		p->mem_pct = (float)(100.0 * (double)a->m.mem_available_bytes /
				     (double)a->m.mem_total_bytes);
		p->cpu = (float)(100.0 * a->m.cpu_util);
	}
}

static void sample_service(struct albmd *d, struct albmd_service *svc, uint64_t seq, double secs)
{
	uint64_t total = ALBMD_STAT_GET(svc->st.conns_total);
	struct albmd_hist *h = hist_get(&svc->hist, seq, total);
	struct svc_point *p = &h->p.svc[seq % ALBMD_HIST_LEN];

	p->rps = rate(h, total, secs);
	p->queued = (uint32_t)ALBMD_STAT_GET(svc->st.queued);
	p->conns = (uint32_t)ALBMD_STAT_GET(svc->st.conns_active);
	for (size_t i = 0; i < svc->sched.ndests; i++)
		sample_server(d, albmd_dest_server(svc->sched.dests[i]), seq, secs);
}

void albmd_history_sample(struct albmd *d)
{
	struct albmd_history *hs = d->history;
	uint64_t now = albm_now_ms();
	double secs;

	if (!hs)
		hs = d->history = xcalloc(1, sizeof(*hs));
	secs = hs->seq ? (double)(now - hs->last_ms) / 1000.0 : 0;
	hs->seq++;
	hs->last_ms = now;
	hs->t_ms[hs->seq % ALBMD_HIST_LEN] = albm_wall_ms();
	for (size_t i = 0; i < d->nservices; i++)
		sample_service(d, d->services[i], hs->seq, secs);
}

void albmd_history_tick(struct albmd *d, uint64_t now_ms)
{
	if (!d->history || now_ms - d->history->last_ms >= ALBMD_HIST_INTERVAL_MS)
		albmd_history_sample(d);
}

/* ---- JSON ---- */

/* A number, or null for NaN (JSON has no NaN). */
static json_t *num(double v)
{
	return isnan(v) ? json_null() : json_real(round(v * 100.0) / 100.0);
}

/* The sample range [from, to] a series covers: points before its first are null. */
struct span {
	uint64_t from, to;
};

#define COLUMN(h, sp, field, make)                                                              \
	({                                                                                      \
		json_t *a_ = json_array();                                                      \
		for (uint64_t s_ = (sp).from; s_ <= (sp).to; s_++)                              \
			json_array_append_new(a_,                                               \
					      !(h) || s_ < (h)->first                           \
						      ? json_null()                             \
						      : make((h)->field[s_ % ALBMD_HIST_LEN])); \
		a_;                                                                             \
	})

#define P_MEM(p)   num((p).mem_pct)
#define P_CPU(p)   num((p).cpu)
#define P_WGT(p)   num((p).eff_weight)
#define P_RPS(p)   num((p).rps)
#define P_CONNS(p) json_integer((p).conns)
#define P_STATE(p) json_integer((p).state)
#define P_QUEUE(p) json_integer((p).queued)

static json_t *server_series(const struct albmd_server *srv, struct span sp)
{
	const struct albmd_hist *h = srv->hist;

	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", srv->name, "state",
			 COLUMN(h, sp, p.srv, P_STATE), "mem_available_pct",
			 COLUMN(h, sp, p.srv, P_MEM), "cpu", COLUMN(h, sp, p.srv, P_CPU),
			 "active_conns", COLUMN(h, sp, p.srv, P_CONNS), "effective_weight",
			 COLUMN(h, sp, p.srv, P_WGT), "rps", COLUMN(h, sp, p.srv, P_RPS));
}

static json_t *service_series(const struct albmd_service *svc, struct span sp)
{
	const struct albmd_hist *h = svc->hist;
	json_t *servers = json_array();

	for (size_t i = 0; i < svc->sched.ndests; i++)
		json_array_append_new(servers,
				      server_series(albmd_dest_server(svc->sched.dests[i]), sp));
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", svc->name, "rps",
			 COLUMN(h, sp, p.svc, P_RPS), "queued", COLUMN(h, sp, p.svc, P_QUEUE),
			 "active_conns", COLUMN(h, sp, p.svc, P_CONNS), "servers", servers);
}

json_t *albmd_history_json(struct albmd *d, uint64_t since)
{
	const struct albmd_history *hs = d->history;
	json_t *t = json_array(), *services = json_array(), *states = json_array();
	struct span sp = { 1, 0 };

	for (int st = ALBMD_ST_UP; st <= ALBMD_ST_UNKNOWN; st++)
		json_array_append_new(states, json_string(albmd_state_name((enum albmd_state)st)));
	if (hs && hs->seq) {
		sp.to = hs->seq;
		sp.from = hs->seq >= ALBMD_HIST_LEN ? hs->seq - ALBMD_HIST_LEN + 1 : 1;
		sp.from = ALBM_MAX(sp.from, since + 1);
	}
	for (uint64_t s = sp.from; s <= sp.to; s++)
		json_array_append_new(t, json_integer((json_int_t)hs->t_ms[s % ALBMD_HIST_LEN]));
	for (size_t i = 0; i < d->nservices; i++)
		json_array_append_new(services, service_series(d->services[i], sp));
	return json_pack("{s:i, s:i, s:I, s:o, s:o, s:o}", "interval_ms", ALBMD_HIST_INTERVAL_MS,
			 "len", ALBMD_HIST_LEN, "seq", (json_int_t)(hs ? hs->seq : 0), "states",
			 states, "t", t, "services", services);
}

void albmd_history_close(struct albmd *d)
{
	free(d->history);
	d->history = NULL;
}
