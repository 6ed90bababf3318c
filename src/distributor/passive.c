/* ALBM: albmd's passive measurements of a server — samples in, EWMA and windowed p90 out
 *
 * The data plane times what it sees of each connection (the proxy: proxy/passive.c)
 * and hands each figure here, from whichever worker relays it: no probe, no extra
 * traffic.  Each figure keeps an EWMA (weight ALBMD_PASSIVE_ALPHA per sample, the
 * first sample taken whole) and a ring of its latest samples for a windowed p90
 * (TCP's SRTT and Envoy's outlier detection keep the same two kinds of figure: a
 * smooth estimate for decisions, a percentile for a tail).  The workers write under
 * a per-server leaf lock; the 100 ms tick copies the result into the scheduler's
 * destination under the service lock, where schedulers (prequal: TTFB; orca: the
 * errors; albm) and the views read it without touching this lock.
 */
#include "distributor/passive.h"

#include <string.h>

#include "common/util.h"
#include "distributor/daemon.h"

void albmd_passive_init(struct albmd_passive *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

void albmd_passive_destroy(struct albmd_passive *p)
{
	pthread_mutex_destroy(&p->lock);
}

void albmd_passive_sample(struct albmd_passive *p, enum albmd_passive_fig fig, uint64_t us)
{
	struct albmd_passive_ring *r;
	uint32_t now = (uint32_t)albm_now_ms();

	if ((unsigned)fig >= ALBMD_PASSIVE_NFIG)
		return;
	if (us > UINT32_MAX)
		us = UINT32_MAX; /* 71 minutes: a connection that long is not a latency */
	pthread_mutex_lock(&p->lock);
	r = &p->fig[fig];
	r->ewma_us = r->samples ? r->ewma_us + ALBMD_PASSIVE_ALPHA * ((double)us - r->ewma_us)
				: (double)us;
	r->samples++;
	r->us[r->head] = (uint32_t)us;
	r->ms[r->head] = now;
	r->head = (r->head + 1) % ALBMD_PASSIVE_WINDOW;
	p->dirty = true;
	pthread_mutex_unlock(&p->lock);
}

void albmd_passive_error(struct albmd_passive *p)
{
	pthread_mutex_lock(&p->lock);
	p->errors++;
	p->dirty = true;
	pthread_mutex_unlock(&p->lock);
}

void albmd_passive_waiting(struct albmd_passive *p, int delta)
{
	pthread_mutex_lock(&p->lock);
	if (delta > 0 || p->waiting >= (uint32_t)-delta)
		p->waiting += (uint32_t)delta;
	p->dirty = true;
	pthread_mutex_unlock(&p->lock);
}

bool albmd_passive_p90(const struct albmd_passive_ring *r, uint32_t now_ms, uint32_t window_ms,
		       uint32_t *p90)
{
	uint32_t v[ALBMD_PASSIVE_WINDOW];
	size_t n = 0,
	       have = r->samples < ALBMD_PASSIVE_WINDOW ? (size_t)r->samples : ALBMD_PASSIVE_WINDOW;

	for (size_t i = 0; i < have; i++) {
		if (now_ms - r->ms[i] > window_ms) /* unsigned: the ms clock may wrap */
			continue;
		/* insertion sort: at most 64 values */
		size_t j = n++;
		while (j > 0 && v[j - 1] > r->us[i]) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = r->us[i];
	}
	if (!n)
		return false;
	*p90 = v[(n * 9 + 9) / 10 - 1]; /* nearest rank: ceil(0.9 n) */
	return true;
}

/* One server: copy what is new into its destination. */
static void publish_one(struct albm_dest *dest, struct albmd_passive *p, uint32_t now,
			uint64_t svc_now)
{
	struct albm_dest_latency *out[ALBMD_PASSIVE_NFIG] = {
		&dest->passive.connect,
		&dest->passive.ttfb,
		&dest->passive.duration,
	};

	/* the relay's byte counters (flushed as it goes: conn_flush_stats) */
	dest->passive.resp_bytes = ALBMD_STAT_GET(albmd_dest_server(dest)->st.bytes_out);
	pthread_mutex_lock(&p->lock);
	if (!p->dirty) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	for (int f = 0; f < ALBMD_PASSIVE_NFIG; f++) {
		const struct albmd_passive_ring *r = &p->fig[f];
		uint32_t p90;
		if (!r->samples)
			continue;
		out[f]->ewma_us =
			r->ewma_us > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)(r->ewma_us + 0.5);
		out[f]->samples = r->samples;
		if (albmd_passive_p90(r, now, ALBMD_PASSIVE_WINDOW_MS, &p90))
			out[f]->p90_us = p90;
	}
	dest->passive.errors = p->errors;
	dest->passive.waiting = p->waiting;
	dest->passive.updated_ms = svc_now ? svc_now : 1;
	p->dirty = false;
	pthread_mutex_unlock(&p->lock);
}

void albmd_passive_publish(struct albmd_service *svc)
{
	uint32_t now = (uint32_t)albm_now_ms();
	uint64_t svc_now = albm_svc_now(&svc->sched);

	for (size_t i = 0; i < svc->sched.ndests; i++) {
		struct albm_dest *dest = svc->sched.dests[i];
		publish_one(dest, &albmd_dest_server(dest)->passive, now, svc_now);
	}
}
