/* ALBM: one albm-httpd connection — request parsing, admission, producing and
 * sending the response without blocking the others */
#ifndef ALBM_LAB_HTTPD_CONN_H
#define ALBM_LAB_HTTPD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "common/ev.h"

#define HTTPD_IN_MAX 4096	      /* request head limit (431 beyond) */
#define HTTPD_HEAD_MAX 512	      /* response head */
#define HTTPD_CHUNK (1u << 20)	      /* work unit: one MiB produced or paid per turn */
#define HTTPD_LINGER_NS 2000000000ull /* longest lingering close */

struct httpd_server;

enum httpd_conn_state {
	HC_READ,    /* waiting for / parsing a request head */
	HC_QUEUED,  /* waiting in the admission FIFO */
	HC_PRODUCE, /* writing its buffer and computing, one chunk per loop turn */
	HC_SEND,    /* sending head and body (non-blocking, EPOLLOUT driven) */
	HC_LINGER,  /* answered and shut down for writing; draining unread input so
		     * that closing does not reset the answer away (HTTPD_LINGER_NS) */
};

/* Which server list `link` is on: a connection is on at most one of them. */
enum httpd_conn_list { HC_ON_NONE, HC_ON_QUEUE, HC_ON_RUN, HC_ON_SLEEP };

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
	char *buf;		    /* the request's memory (mem bytes) */
	bool buf_mapped;	    /* mmap()ed (else malloc()ed) */
	uint64_t touched, computed; /* production progress: buffer / body bytes */
	bool chunk_paid;	    /* paging delay of the next chunk already waited */
	char head[HTTPD_HEAD_MAX];
	size_t head_len, head_off;
	char *small;		 /* small body (stats, error text), malloc()ed */
	uint64_t body_off, paid; /* body bytes sent / paid for (paging model) */
};
TAILQ_HEAD(httpd_conn_list_head, httpd_conn);

/* Take over an accepted, non-blocking socket. */
void httpd_conn_new(struct httpd_server *s, int fd);
void httpd_conn_event(struct httpd_conn *c, uint32_t events);
/* One turn of work for a connection on the run list. */
void httpd_conn_run(struct httpd_conn *c);
/* Its sleep (paging delay) is over. */
void httpd_conn_wake(struct httpd_conn *c);
/* Admit queued requests while they fit (FIFO). */
void httpd_conn_pump_queue(struct httpd_server *s);
/* Drop the connection and everything it holds. */
void httpd_conn_close(struct httpd_conn *c);

#endif
