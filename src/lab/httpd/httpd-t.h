/* ALBM: albm-httpd's types — the server, its connections and their lists (types only:
 * httpd_server.c and httpd_conn.c each use the other's struct without including the
 * other's header) */
#ifndef ALBM_LAB_HTTPD_HTTPD_T_H
#define ALBM_LAB_HTTPD_HTTPD_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "albm/metrics-t.h"
#include "common/addr.h"
#include "common/ev.h"
#include "lab/httpd/httpd_cost.h"

struct httpd_server;

#define HTTPD_IN_MAX    4096          /* request head limit (431 beyond) */
#define HTTPD_HEAD_MAX  512           /* response head */
#define HTTPD_CHUNK     (1u << 20)    /* work unit: one MiB produced or paid per turn */
#define HTTPD_LINGER_NS 2000000000ull /* longest lingering close */

enum httpd_conn_state {
	HC_READ,    /* waiting for / parsing a request head */
	HC_QUEUED,  /* waiting in the admission FIFO */
	HC_PRODUCE, /* writing its buffer and computing, one chunk per loop turn */
	HC_SEND,    /* sending head and body (non-blocking, EPOLLOUT driven) */
	HC_LINGER,  /* answered and shut down for writing; draining unread input so
		     * that closing does not reset the answer away (HTTPD_LINGER_NS) */
};

/* Which server list `link` is on: a connection is on at most one of them. */
enum httpd_conn_list {
	HC_ON_NONE,
	HC_ON_QUEUE,
	HC_ON_RUN,
	HC_ON_SLEEP
};

struct httpd_conn {
	struct httpd_server *srv;
	int fd;
	struct evl_io io; /* in the server's loop once watched (io.fd = -1 before) */
	enum httpd_conn_state state;
	enum httpd_conn_list on;
	TAILQ_ENTRY(httpd_conn) all;  /* every connection (idle scan, shutdown) */
	TAILQ_ENTRY(httpd_conn) link; /* queue, run list or sleep list */
	uint64_t last_active_ns, wake_ns;

	char in[HTTPD_IN_MAX]; /* request bytes, possibly pipelined ones */
	size_t in_len;
	bool keepalive; /* of the current request */

	/* The current response. */
	bool bytes;    /* a /bytes/N answer (else a small one) */
	uint64_t size; /* body length */
	uint64_t mem;  /* buffer bytes accounted while admitted */
	bool admitted;
	char *buf;                  /* the request's memory (mem bytes) */
	bool buf_mapped;            /* mmap()ed (else malloc()ed) */
	uint64_t touched, computed; /* production progress: buffer / body bytes */
	bool chunk_paid;            /* paging delay of the next chunk already waited */
	char head[HTTPD_HEAD_MAX];
	size_t head_len, head_off;
	char *small;             /* small body (stats, error text), malloc()ed */
	uint64_t body_off, paid; /* body bytes sent / paid for (paging model) */
};
TAILQ_HEAD(httpd_conn_list_head, httpd_conn);

struct httpd_cfg {
	struct albm_addr listen;
	char name[ALBM_NAME_MAX]; /* X-Server value */
	struct httpd_cost_cfg cost;
	unsigned max_conns;       /* beyond: 503 and close */
	uint64_t idle_timeout_ms; /* no progress for this long: close */
};

struct httpd_counters {
	uint64_t accepted, served, served_bytes, rejected, not_found, bad_requests;
	uint64_t aborted;      /* client gone or stalled while its response was held */
	uint64_t stats;        /* /stats requests */
	uint64_t queued_total; /* requests that waited for admission */
	uint64_t cpu_ns;       /* CPU burnt by the cost model */
};

struct httpd_server {
	const struct httpd_cfg *cfg;
	int lfd;
	struct evl *loop;
	struct evl_io lio;     /* the listener */
	struct evl_timer turn; /* bounds the loop's sleep: 0 ms while work is runnable */
	uint64_t last_scan_ns; /* idle scan, once a second */
	unsigned max_conns;    /* --max-conns within the fd limit */
	struct httpd_cost cost;
	struct httpd_counters n;
	unsigned nconns;
	struct httpd_conn_list_head conns, queue, runq, sleepers;
	unsigned nrun;
	uint64_t start_ns;
	char *pattern; /* HTTPD_CHUNK bytes: source when mem is 0 */
};

#endif
