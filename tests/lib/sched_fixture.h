/* ALBM test helpers: a synthetic service with a controllable clock, for scheduler tests */
#ifndef ALBM_TESTS_SCHED_FIXTURE_H
#define ALBM_TESTS_SCHED_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

struct fixture_clock {
	uint64_t now_ms;
};

static inline uint64_t fixture_clock_read(void *arg)
{
	return ((struct fixture_clock *)arg)->now_ms;
}

/* Build a service bound to `sched`, clock at 1000 ms, seed 1, with servers named
 * A, B, C, ... at 10.0.0.(i+1):80 with the given weights. */
static inline void fixture_svc(struct albm_service *svc, struct fixture_clock *clk,
			       const char *sched, const int *weights, size_t n)
{
	char name[8], err[128];

	albm_svc_init(svc, "test");
	clk->now_ms = 1000;
	albm_svc_set_clock(svc, fixture_clock_read, clk);
	albm_svc_seed(svc, 1);
	for (size_t i = 0; i < n; i++) {
		struct albm_addr a;
		char text[32];
		snprintf(name, sizeof(name), "%c", (char)('A' + i));
		snprintf(text, sizeof(text), "10.0.0.%zu:80", i + 1);
		albm_addr_parse(text, &a, err, sizeof(err));
		if (!albm_svc_add_dest(svc, name, &a, weights[i], err, sizeof(err))) {
			fprintf(stderr, "fixture: %s\n", err);
			abort();
		}
	}
	if (albm_svc_bind_name(svc, sched) < 0) {
		fprintf(stderr, "fixture: no scheduler %s\n", sched);
		abort();
	}
}

/* A flow from client 192.168.0.(c % 256) / port 1024 + c to 10.1.1.1:80. */
static inline struct albm_flow fixture_flow(unsigned c)
{
	struct albm_flow f;
	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.proto = 6;
	f.saddr[0] = 192, f.saddr[1] = 168, f.saddr[2] = (uint8_t)(c >> 8), f.saddr[3] = (uint8_t)c;
	f.daddr[0] = 10, f.daddr[1] = 1, f.daddr[2] = 1, f.daddr[3] = 1;
	f.sport = (uint16_t)(1024 + c);
	f.dport = 80;
	return f;
}

/* Pick n times (no connections opened) and write the names into out ("AABAB..."),
 * '-' for no server. */
static inline char *fixture_sequence(struct albm_service *svc, size_t n, char *out)
{
	struct albm_flow f = fixture_flow(1);
	for (size_t i = 0; i < n; i++) {
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		out[i] = d ? d->name[0] : '-';
	}
	out[n] = '\0';
	return out;
}

/* Pick n times, opening an active connection on each pick; names into out. */
static inline char *fixture_sequence_open(struct albm_service *svc, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		struct albm_flow f = fixture_flow((unsigned)i);
		struct albm_dest *d = albm_svc_schedule(svc, &f);
		out[i] = d ? d->name[0] : '-';
		if (d)
			albm_svc_conn_open(svc, d, true);
	}
	out[n] = '\0';
	return out;
}

#endif
