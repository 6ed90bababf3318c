/* ALBM: albm-httpd's server — listener, event loop (common/ev.c), lists, counters */
#ifndef ALBM_LAB_HTTPD_SERVER_H
#define ALBM_LAB_HTTPD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "common/addr.h"
#include "common/ev.h"
#include "lab/httpd/httpd_conn.h"
#include "lab/httpd/httpd_cost.h"
#include "lab/httpd/httpd_env.h"

struct httpd_cfg {
	struct albm_addr listen;
	char name[ALBM_NAME_MAX]; /* X-Server value */
	struct httpd_cost_cfg cost;
	unsigned max_conns;	  /* beyond: 503 and close */
	uint64_t idle_timeout_ms; /* no progress for this long: close */
};

struct httpd_counters {
	uint64_t accepted, served, served_bytes, rejected, not_found, bad_requests;
	uint64_t aborted;      /* client gone or stalled while its response was held */
	uint64_t stats;	       /* /stats requests */
	uint64_t queued_total; /* requests that waited for admission */
	uint64_t cpu_ns;       /* CPU burnt by the cost model */
};

struct httpd_server {
	const struct httpd_cfg *cfg;
	int lfd;
	struct evl *loop;
	struct evl_io lio;	/* the listener */
	struct evl_timer turn;	/* bounds the loop's sleep: 0 ms while work is runnable */
	uint64_t last_scan_ns;	/* idle scan, once a second */
	unsigned max_conns;	/* --max-conns within the fd limit */
	struct httpd_cost cost;
	struct httpd_counters n;
	unsigned nconns;
	struct httpd_conn_list_head conns, queue, runq, sleepers;
	unsigned nrun;
	uint64_t start_ns;
	char *pattern; /* HTTPD_CHUNK bytes: source when mem is 0 */
};

/* Validate a --name: 1..63 of [A-Za-z0-9_.-]. */
bool httpd_name_valid(const char *name);

int httpd_server_open(struct httpd_server *s, const struct httpd_cfg *cfg, char *err,
		      size_t errlen);
/* Serve until httpd_server_stop(); returns 0 or -errno from epoll_wait(). */
int httpd_server_run(struct httpd_server *s);
/* Ask the running server to stop (async-signal-safe). */
void httpd_server_stop(void);
void httpd_server_close(struct httpd_server *s);

/* Register `events` for c (0 removes interest); returns 0 or -errno. */
int httpd_server_watch(struct httpd_server *s, struct httpd_conn *c, uint32_t events);
/* Move c between the queue / run / sleep lists. */
void httpd_server_list(struct httpd_server *s, struct httpd_conn *c, enum httpd_conn_list to);

/* The /stats document (malloc()ed JSON text). */
char *httpd_stats_json(const struct httpd_server *s);

#endif
