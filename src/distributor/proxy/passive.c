/* ALBM: the proxy's passive timings of a connection — connect, TTFB, duration, failures
 *
 * Per server, without probes (issue 15: "albmd measures per server, passively"):
 *
 *	connect   connect() started -> the socket is established;
 *	TTFB      the first request byte forwarded -> the first response byte read: the
 *	          server's own queueing and service time (Prequal's latency), not the
 *	          transfer, and not the time a client waited in albmd's queue;
 *	duration  established -> closed: what a connection costs the server;
 *	errors    a connect that failed or timed out, or a connection the server ended
 *	          (closed or reset) after the request and before any response byte.
 *
 * Only a connection's first request is timed (HTTP keep-alive reuses the connection
 * for others, which the proxy does not parse).  Times are µs of CLOCK_MONOTONIC, read
 * only when a figure starts or ends; the samples go to the server's accumulator
 * (distributor/passive.c), which the tick publishes to the schedulers.
 */
#include "distributor/proxy/passive.h"

#include "common/util.h"
#include "distributor/passive.h"

static uint64_t now_us(void)
{
	return albm_now_ns() / 1000;
}

static void sample(struct albmd_conn *c, enum albmd_passive_fig fig, uint64_t from, uint64_t to)
{
	albmd_passive_sample(&c->srv->passive, fig, to > from ? to - from : 0);
}

void passive_connecting(struct albmd_conn *c)
{
	c->tm = (struct conn_timing){ .connect_us = now_us() };
}

void passive_connected(struct albmd_conn *c)
{
	c->tm.est_us = now_us();
	if (c->srv && c->tm.connect_us)
		sample(c, ALBMD_PASSIVE_CONNECT, c->tm.connect_us, c->tm.est_us);
}

void passive_connect_failed(struct albmd_conn *c)
{
	if (c->srv)
		albmd_passive_error(&c->srv->passive);
	c->tm.connect_us = 0;
}

uint64_t passive_pump_start(const struct albmd_conn *c)
{
	return c->tm.answered || !c->tm.est_us || !c->srv ? 0 : now_us();
}

void passive_relayed(struct albmd_conn *c, uint64_t t0)
{
	if (!t0)
		return;
	/* the pump reads the client first, and reads a side only while it is readable:
	 * bytes it found were there when it started, t0 (taken before it, so a long
	 * first transfer is not counted in the figure) */
	if (!c->tm.req_us && c->dir[SIDE_CLIENT].bytes) {
		c->tm.req_us = t0;
		albmd_passive_waiting(&c->srv->passive, 1);
	}
	if (c->dir[SIDE_SERVER].bytes) {
		/* a server that speaks first is timed from the connection */
		sample(c, ALBMD_PASSIVE_TTFB, c->tm.req_us ? c->tm.req_us : c->tm.est_us, t0);
		c->tm.answered = true;
		if (c->tm.req_us)
			albmd_passive_waiting(&c->srv->passive, -1);
	}
}

void passive_closing(struct albmd_conn *c)
{
	if (!c->srv || !c->tm.est_us)
		return;
	sample(c, ALBMD_PASSIVE_DURATION, c->tm.est_us, now_us());
	if (!c->tm.answered && c->tm.req_us)
		albmd_passive_waiting(&c->srv->passive, -1);
	/* the server hung up on a request it never answered */
	if (!c->tm.answered && c->dir[SIDE_CLIENT].bytes && c->rdhup[SIDE_SERVER])
		albmd_passive_error(&c->srv->passive);
	c->tm.est_us = 0;
}
