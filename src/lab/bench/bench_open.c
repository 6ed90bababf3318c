/* ALBM: albm-bench's open loop — Poisson arrivals dispatched to a pool of clients */
#include "lab/bench/bench_open.h"

#include <stddef.h>
#include <stdlib.h>

#include "common/util.h"

static void open_dispatch(struct bench_open *o);

static void open_due(struct evl *loop, struct evl_timer *t)
{
	(void)loop;
	open_dispatch((struct bench_open *)((char *)t - offsetof(struct bench_open, timer)));
}

/* A client's request ended: back on the stack, and a waiting arrival may go now. */
static void open_idle(struct bench_client *c, void *arg)
{
	struct bench_open *o = arg;

	o->idle[o->nidle++] = c;
	open_dispatch(o); /* a no-op when called from within open_dispatch() */
}

void bench_open_init(struct bench_open *o, struct bench_ctx *ctx, struct bench_client *clients,
		     unsigned n, uint64_t seed)
{
	*o = (struct bench_open){ .ctx = ctx };
	bench_arrivals_init(&o->arr, seed);
	evl_timer_init(&o->timer);
	o->idle = xcalloc(n, sizeof(*o->idle));
	for (unsigned i = n; i-- > 0;) /* client 0 on top */
		o->idle[o->nidle++] = &clients[i];
	ctx->idle = open_idle;
	ctx->idle_arg = o;
}

/* One arrival goes out on an idle client; it is counted as sent on time or late. */
static void open_send(struct bench_open *o, uint64_t now)
{
	struct bench_client *c = o->idle[--o->nidle];
	uint64_t intended = bench_arrivals_next(&o->arr);
	uint64_t size = bench_arrivals_take(&o->arr, o->ctx->mix);
	enum bench_lateness late = bench_arrival_lateness(intended, now, o->exhausted);

	if (o->ctx->step)
		bench_step_sent(o->ctx->step, late);
	if (o->ctx->series)
		o->ctx->series->sent++;
	bench_client_send(c, size, intended);
}

/*
 * Send every arrival that is due while there are idle clients, then sleep until
 * the next one.  Iterative: a request that fails at once returns its client to
 * the stack through open_idle(), which must not recurse into here.
 */
static void open_dispatch(struct bench_open *o)
{
	uint64_t now = albm_now_ns(), next;

	if (o->dispatching || !o->ctx->running || o->arr.rate <= 0)
		return;
	o->dispatching = true;
	while (o->ctx->running && bench_arrivals_next(&o->arr) <= now) {
		if (!o->nidle) {
			o->exhausted = true;
			break;
		}
		open_send(o, now);
		now = albm_now_ns();
	}
	next = bench_arrivals_next(&o->arr);
	if (next > now)
		o->exhausted = false; /* the backlog is gone */
	o->dispatching = false;
	if (!o->ctx->running || next <= now) {
		/* Every client is busy: the next one to finish calls open_idle(). */
		evl_timer_stop(o->ctx->loop, &o->timer);
		return;
	}
	/* Rounded up: the timer never fires before the arrival is due. */
	evl_timer_start(o->ctx->loop, &o->timer, (next - now + 999999) / 1000000, open_due);
}

void bench_open_rate(struct bench_open *o, double rate)
{
	bench_arrivals_set_rate(&o->arr, rate, albm_now_ns());
	open_dispatch(o);
}

uint64_t bench_open_backlog(const struct bench_open *o)
{
	return bench_arrivals_backlog(&o->arr, albm_now_ns());
}

void bench_open_stop(struct bench_open *o)
{
	evl_timer_stop(o->ctx->loop, &o->timer);
}

void bench_open_free(struct bench_open *o)
{
	free(o->idle);
	o->idle = NULL;
}
