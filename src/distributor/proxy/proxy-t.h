/* ALBM: the proxy data plane's types — per-worker state, listeners, connections */
#ifndef ALBM_DISTRIBUTOR_PROXY_PROXY_T_H
#define ALBM_DISTRIBUTOR_PROXY_PROXY_T_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "distributor/worker.h"

#define ALBMD_SCRATCH_SIZE    (64 * 1024)  /* one read/write in copy mode */
#define ALBMD_PIPE_SIZE       (256 * 1024) /* splice pipes (F_SETPIPE_SZ) */
#define ALBMD_QUEUE_POLL_MS   10           /* the queue timer while clients wait */
#define ALBMD_CONN_MAX_TRIED  8            /* servers remembered per connection */
/* accepting paused after a descriptor or memory
 * shortage (HAProxy waits 100 ms too) */
#define ALBMD_ACCEPT_PAUSE_MS 100

struct albmd_conn;
struct albmd_listener;
struct albmd_alog_w;

/* The proxy's state in one worker (attached through struct albmd_worker_plane);
 * touched by that worker's thread only. */
struct albmd_pworker {
	struct albmd_worker *w;
	struct albmd *d;
	struct evl *loop;
	bool paused;                      /* listeners off: global maxconn, descriptors or
					   * memory ran out (listener.c) */
	uint64_t pause_until_ms;          /* stay paused until then (a shortage) */
	struct albmd_listener *listeners; /* registered in this loop */
	struct albmd_conn *conns;         /* live connections (doubly linked) */
	size_t nconns;
	struct albmd_conn *free_conns; /* recycled connection objects (conn.c) */
	size_t nfree;
	struct albmd_conn *dead;          /* closed in this batch; reaped after it */
	struct albmd_conn *retry;         /* connect failed; reconnect after this batch */
	struct albmd_conn *qhead, *qtail; /* waiting for a server, oldest first (queue.c) */
	bool released;                    /* a connection gave a server back */
	struct evl_timer qtimer;          /* armed while the queue is not empty */
	evl_timer_cb qtimer_cb;           /* what it calls (plane.c) */
	int (*pipes)[2];                  /* pool of empty pipes (relay.c) */
	size_t npipes;
	char *scratch;              /* ALBMD_SCRATCH_SIZE bytes for copy mode */
	struct albmd_alog_w *alog;  /* the access log's buffer, NULL when off (alog.c) */
	uint64_t alog_gen;          /* the daemon's access-log generation last seen */
	struct albmd_conn *kdrain;  /* leaving the in-kernel relay (relay_sockmap.c) */
	struct evl_timer ktimer;    /* armed while kdrain is not empty */
	struct uring_worker *uring; /* the io_uring relay's ring (relay_uring.c) */
};

/* Inbox operations on a listener (struct albmd_work ops). */
enum {
	LISTENER_OP_REGISTER = 1,
	LISTENER_OP_CLOSE = 2
};

/* One listening socket of a listener set, owned by one worker. */
struct albmd_listener {
	struct evl_io io;       /* first: the io callback gets this pointer */
	struct albmd_work work; /* register/close, applied by the owning worker */
	struct albmd_lset *set;
	struct albmd_pworker *pw;
	int fd;
	bool registered;             /* worker's thread only */
	pthread_mutex_t lock;        /* guards svc: a leaf lock */
	struct albmd_service *svc;   /* where accepted clients go (referenced) */
	struct albmd_listener *next; /* the worker's registered list */
};

/* The sockets of one listen address, one per worker (SO_REUSEPORT when > 1); the
 * main thread's view, under the daemon lock. */
struct albmd_lset {
	struct albm_addr addr;
	struct albmd_service *svc; /* the owner (referenced), NULL before start */
	bool installed, closing;
	unsigned n;
	unsigned pending;               /* listeners not yet closed by their worker (atomic) */
	enum albmd_data_path data_path; /* what svc's connections use (fastpath.c) */
	struct albmd_listener **l;      /* n of them, one per worker */
};

enum conn_state {
	CONN_CONNECTING,
	CONN_QUEUED,
	CONN_RELAY,
	CONN_CLOSED
};
enum {
	SIDE_CLIENT = 0,
	SIDE_SERVER = 1
};

/* One direction of the relay: from side `dir` to side `1 - dir`. */
struct conn_dir {
	int pipe[2];       /* splice mode when pipe[0] >= 0 */
	size_t pipe_bytes; /* bytes waiting in the pipe */
	char *buf;         /* copy mode: bytes read but not yet written */
	uint32_t off, len;
	bool eof, shut;          /* source ended / destination shut down for writing */
	uint64_t bytes, flushed; /* relayed; part already added to the statistics */
};

/* The connection's part in the in-kernel relay (relay_sockmap.c; fastpath.c). */
enum conn_kstate {
	KERNEL_OFF = 0,
	KERNEL_ON,
	KERNEL_DRAIN
};
struct conn_kernel {
	enum conn_kstate state;
	bool refused;        /* no hand-off (any more): epoll, handed once, or it failed */
	uint64_t cookie[2];  /* SO_COOKIE of each socket: the BPF maps' keys */
	uint64_t base_wr[2]; /* bytes written into side i before the hand-off */
	uint64_t base_rd[2]; /* dir[i].bytes at the hand-off */
	uint64_t fwd[2];     /* bytes the kernel passed on from side i since */
	uint64_t checked_ms; /* when fwd was last read */
	struct albmd_conn *drain_next;
	/* data-path uring (relay_uring.c): per direction i (from side i), the buffers
	 * waiting to be sent (a list in the worker's buffer table), the part of the first
	 * one sent, how many are queued, a send and a multishot recv in flight */
	uint32_t uslot; /* the worker's slot of this connection + 1 (0: none) */
	uint16_t uhead[2], utail[2], uqlen[2];
	uint32_t uoff[2];
	bool usending[2], uarmed[2], uleaving;
	int urefs;      /* operations in flight */
	int8_t ufailed; /* a socket failed in the ring: its side + 1 (0: none); the
			 * ring consumed the error, so relay.c is told (a reset goes on
			 * as a reset) */
};

/* One socket of a connection; the epoll callback gets &end->io. */
struct conn_end {
	struct evl_io io; /* first */
	struct albmd_conn *c;
	int side;
};

/* The passive timings of a connection's current server attempt (proxy/passive.c), in µs
 * of CLOCK_MONOTONIC; 0 = not yet. */
struct conn_timing {
	uint64_t connect_us; /* connect() started */
	uint64_t est_us;     /* established */
	uint64_t req_us;     /* first request byte forwarded */
	bool answered;       /* a response byte came (TTFB taken) */
};

struct albmd_conn {
	struct albmd_conn *next_free;   /* the pool (conn.c) */
	struct albmd_conn *prev, *next; /* the worker's live list */
	struct albmd_conn *dead_next, *retry_next;
	struct albmd_conn *qprev, *qnext; /* the worker's queue (CONN_QUEUED) */
	struct albmd_pworker *pw;
	struct conn_end end[2]; /* client, server */
	enum conn_state state;
	bool rd_ready[2], wr_ready[2], rdhup[2];
	struct conn_dir dir[2];
	struct albmd_service *svc;
	struct albmd_server *srv;
	struct albmd_server *tried[ALBMD_CONN_MAX_TRIED];
	unsigned ntried, attempts;
	struct albm_addr peer;
	uint64_t start_ms, last_ms, queued_ms;
	uint64_t accept_ms;           /* the access log's times (alog.c) */
	uint32_t wait_ms, connect_ms; /* time queued, time of the last connect */
	char term[2];                 /* termination state (lifecycle.c conn_close_in) */
	char refusal;                 /* why admission closed it ('P', 'S', 'K'), or 0 */
	int8_t failed_side;           /* the relay's socket that failed (relay.c) */
	bool connect_timed_out;       /* the last connect failed by timeout */
	/* copied from the service at admission: read without the lock */
	uint64_t connect_timeout_ms, idle_timeout_ms, queue_timeout_ms;
	uint64_t client_fin_timeout_ms, server_fin_timeout_ms;
	unsigned retries;
	enum albmd_proxy_proto pp;
	bool splice;
	struct conn_timing tm;
	enum albmd_data_path data_path; /* resolved: epoll or sockmap (fastpath.c) */
	struct conn_kernel k;
};

#endif
