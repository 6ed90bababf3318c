/* ALBM: albmd configuration types — the parsed config file's structs, enums and limits
 * (types only: config.h, config_directives.h and dataplane.h share them without
 * including each other) */
#ifndef ALBM_DISTRIBUTOR_CONFIG_T_H
#define ALBM_DISTRIBUTOR_CONFIG_T_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "common/addr.h"
#include "sched/sched-t.h"

#define ALBMD_SCHED_NAME_MAX  32
#define ALBMD_PATH_MAX        256
#define ALBMD_MAX_WORKERS     64
#define ALBMD_MAX_SERVICES    256
#define ALBMD_MAX_SERVERS     1024 /* per service */
#define ALBMD_MAX_PEERS       16   /* other distributors in an ha group */
#define ALBMD_ANNOUNCE_DEVICE "albm-vip0"

/* A service's data plane: the index of its entry in dataplane.c's registry (the
 * `mode` keyword is the plane's name); the planes the config checks by name. */
enum albmd_mode {
	ALBMD_MODE_PROXY = 0,
	ALBMD_MODE_DR = 1
};
enum albmd_proxy_proto {
	ALBMD_PP_OFF = 0,
	ALBMD_PP_V1 = 1,
	ALBMD_PP_V2 = 2
};
/* What a queued client gets at the queue's bound (queue-timeout, queue-max). */
enum albmd_queue_overflow {
	ALBMD_QOVF_LEAST_LOADED = 0,
	ALBMD_QOVF_CLOSE = 1
};
enum albmd_xdp_mode {
	ALBMD_XDP_GENERIC = 0,
	ALBMD_XDP_NATIVE = 1
}; /* mode dr */
/* Mode proxy's relay (`data-path`): auto picks the fastest the kernel offers. */
enum albmd_data_path {
	ALBMD_DATA_PATH_AUTO = 0,
	ALBMD_DATA_PATH_EPOLL = 1,
	ALBMD_DATA_PATH_SOCKMAP = 2,
	ALBMD_DATA_PATH_URING = 3
};

/* `server NAME ADDR [weight N] [maxconn N] [down];` */
struct albmd_cfg_server {
	char name[ALBM_NAME_MAX];
	struct albm_addr addr;
	bool has_port;    /* ADDR had a port (required in proxy mode) */
	int weight;       /* 0-65535, default 1 */
	uint32_t maxconn; /* 0 = unlimited */
	bool disabled;    /* `down` flag: starts administratively disabled */
	int line;
};

enum albmd_health_kind {
	ALBMD_HC_TCP = 0,
	ALBMD_HC_HTTP = 1
};

/* `health-check tcp [interval T] [timeout T] [rise N] [fall N];`
 * `health-check http PATH [expect STATUS] [host NAME] [options];` (keepalived's HTTP_GET) */
struct albmd_cfg_health {
	bool enabled;
	enum albmd_health_kind kind;
	char path[256];  /* http: the request target */
	char host[128];  /* http: the Host header ("" = the server's address) */
	unsigned expect; /* http: the status a healthy server answers (default 200) */
	uint64_t interval_ms, timeout_ms;
	unsigned rise, fall;
};

/* `access-log PATH | syslog [SOCKET] | off;` */
enum albmd_alog_kind {
	ALBMD_ALOG_OFF = 0,
	ALBMD_ALOG_FILE,
	ALBMD_ALOG_SYSLOG
};

struct albmd_cfg_service {
	char name[ALBM_NAME_MAX];
	struct albm_addr listen;
	bool has_listen;
	enum albmd_mode mode;
	char scheduler[ALBMD_SCHED_NAME_MAX];
	uint32_t sched_flags;         /* ALBM_SVC_F_SCHED_* (sched-flags) */
	char interface[IF_NAMESIZE];  /* mode dr */
	enum albmd_xdp_mode xdp_mode; /* mode dr: `xdp-mode generic|native;` */
	bool announce;                /* mode dr: hold the VIP on the announce device
				       * while ready (docs/ha.md) */
	/* copied from the ha block by the parser, so that a plane that prepares or
	 * rebuilds a service reads its group settings with it */
	bool in_group;  /* an ha block exists (mode dr: shared inputs) */
	bool flow_sync; /* ... with flow-sync on */
	uint64_t table_interval_ms, table_guard_ms;
	uint64_t connect_timeout_ms, idle_timeout_ms;
	uint64_t client_fin_timeout_ms; /* half-closed: the server has finished, the client idles */
	uint64_t server_fin_timeout_ms; /* half-closed: the client has finished, the server idles */
	unsigned retries;               /* extra servers tried after a failed connect */
	unsigned max_fails;             /* passive health: failures that mark a server down */
	uint64_t fail_timeout_ms;       /* ... for this long */
	uint32_t maxconn;               /* service-wide limit, 0 = none */
	uint64_t queue_timeout_ms;      /* no server free: wait this long (0 = close at once) */
	uint32_t queue_max;             /* connections waiting at once (per service) */
	enum albmd_queue_overflow queue_overflow; /* beyond either bound (queue-overflow) */
	enum albmd_proxy_proto proxy_protocol;
	enum albmd_data_path data_path; /* mode proxy: `data-path auto|epoll|sockmap|uring;` */
	struct albmd_cfg_health health;
	struct albm_adaptive_params adaptive; /* slow-start, rise-alpha, all-overloaded,
					       * mem-reserve */
	struct albm_orca_params orca;         /* orca-* (scheduler orca) */
	struct albm_prequal_params prequal;   /* prequal-* (scheduler prequal) */
	struct albm_lr_params lr;             /* lr-* (scheduler lr) */
	struct albmd_cfg_server *servers;
	size_t nservers;
	int line;
};

/* `peer NAME ADDR:PORT node-id N;` in the ha block: another distributor of the group. */
struct albmd_cfg_peer {
	char name[ALBM_NAME_MAX];
	struct albm_addr addr; /* its sync address (its own `listen`) */
	uint32_t node_id;      /* its `node-id` */
	int line;
};

/* `ha { }`: this distributor's place in a group of distributors (docs/ha.md). */
struct albmd_cfg_ha {
	uint32_t node_id;        /* unique in the group, 1..2^32-1 */
	struct albm_addr listen; /* UDP address of sync and heartbeats */
	char key_file[ALBMD_PATH_MAX];
	int key_file_line;
	bool flow_sync;             /* send new flows to the peers, install theirs */
	uint64_t table_interval_ms; /* measured weights change at multiples of this */
	uint64_t table_guard_ms;    /* ... from reports dated this long before the boundary */
	uint64_t flush_ms;          /* a batch of flows waits at most this long */
	uint64_t heartbeat_ms;      /* tables and liveness, this often */
	uint64_t max_age_ms;        /* messages dated further from our clock are stale */
	struct albmd_cfg_peer peers[ALBMD_MAX_PEERS];
	size_t npeers;
};

struct albmd_config {
	char path[ALBMD_PATH_MAX];
	/* global */
	unsigned workers;
	uint32_t maxconn;          /* global limit on proxied connections, 0 = none */
	uint64_t drain_timeout_ms; /* SIGTERM: wait this long for live connections */
	bool splice;               /* zero-copy relay (default on) */
	char pid_file[ALBMD_PATH_MAX];
	char announce_device[IF_NAMESIZE];    /* the tun device announced VIPs live on */
	uint64_t announce_linger_ms;          /* SIGTERM: forward this long after the withdraw */
	char state_dir[ALBMD_PATH_MAX];       /* "" = $STATE_DIRECTORY (systemd), else none */
	enum albmd_alog_kind access_log;      /* the per-connection log (access_log.c) */
	char access_log_path[ALBMD_PATH_MAX]; /* its file, or syslog's socket */
	/* agents { } */
	bool has_agents;
	struct albm_addr agents_listen;
	char key_file[ALBMD_PATH_MAX];
	int key_file_line;
	uint64_t agent_timeout_ms;
	uint64_t report_max_age_ms;
	/* control { } */
	char control_socket[ALBMD_PATH_MAX];
	bool has_http;
	struct albm_addr http;
	int http_line;
	/* ha { } */
	bool has_ha;
	int ha_line;
	struct albmd_cfg_ha ha;
	char http_token_file[ALBMD_PATH_MAX]; /* required unless http is a loopback address */
	int http_token_line;
	char chart_js[ALBMD_PATH_MAX]; /* the dashboard's chart library */
	/* service NAME { } */
	struct albmd_cfg_service *services;
	size_t nservices;
};

#define ALBMD_DEFAULT_SOCKET           "/run/albm/albmd.sock"
#define ALBMD_DEFAULT_CHART_JS         "/usr/share/javascript/chart.js/chart.min.js" /* libjs-chart.js */
#define ALBMD_QUEUE_TIMEOUT_DEFAULT_MS 1000 /* queue-timeout (docs/albmd.md, Queueing) */

#endif
