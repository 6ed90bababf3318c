/* ALBM: the proxy's connection log — one HAProxy-style line per connection, buffered per worker */
#ifndef ALBM_DISTRIBUTOR_PROXY_ALOG_H
#define ALBM_DISTRIBUTOR_PROXY_ALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/addr.h"
#include "distributor/proxy/proxy-t.h"

/* One line's fields (docs/albmd.md, "Connection log"). */
struct alog_rec {
	const struct albm_addr *client;
	uint64_t accept_wall_ms; /* when accepted, ms since the epoch */
	const char *service;
	const char *server; /* NULL: none was connected ("-") */
	int64_t tw, tc, tt; /* ms queued, connecting (-1: never connected), in total */
	uint64_t bytes_in;  /* client -> server */
	uint64_t bytes_out; /* server -> client */
	char term[2];       /* termination state */
	unsigned retries;
};

/* The formatted date of the last second seen (formatting costs more than a line). */
struct alog_date {
	time_t sec;
	char text[32];
};

/* Write one line (with its '\n') into buf; its length, or 0 when it does not fit. */
size_t alog_format(char *buf, size_t cap, const struct alog_rec *r, struct alog_date *dc);

/* The connection ended (its term set): its line into the worker's buffer. */
void alog_conn(struct albmd_pworker *pw, const struct albmd_conn *c, uint64_t now_ms);
/* After a batch: write the buffer once it holds enough lines. */
void alog_flush_some(struct albmd_pworker *pw);
/* The sweep: write the buffer, and follow the daemon's target (on, off, reopened). */
void alog_sync(struct albmd_pworker *pw);
/* Shutdown: write what is left and let the target go. */
void alog_detach(struct albmd_pworker *pw);

#endif
