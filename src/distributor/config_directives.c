/* ALBM: albmd config directives — the table (nginx's ngx_command_t) and its handlers
 * (the loop that applies a block by the table: config_apply.c)
 *
 * Adding a directive: one line in cfg_cmds[] below.  A value of a known kind
 * (integer, duration, number, percentage, path, address, keyword, on/off) needs only
 * that line: a slot setter (config_values.c) writes it at offsetof() in the block's
 * struct, with the range and name the line gives.  A directive with a grammar of its
 * own (server, health-check, slow-start) or a check against something else (a
 * scheduler name, an interface name) gets a handler here.  Checks that need the whole
 * block or config (mode dr needs an interface, two services on one address) are in
 * config.c.  docs/architecture.md has the walk-through.
 */
#include "distributor/config_directives.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/util.h"
#include "distributor/dataplane.h"
#include "distributor/names.h"
#include "sched/sched.h"

/* ---- handlers of directives with a grammar or a check of their own ---- */

/* A name the scheduler registry knows, into a char array slot. */
static int set_scheduler(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			 const struct cfg_cmd *cmd)
{
	if (!albm_sched_find(val)) {
		cfg_error(ctx, n->line, "unknown scheduler '%s' (see albmd --list-schedulers)",
			  val);
		return -EINVAL;
	}
	snprintf((char *)conf + cmd->off, cmd->size, "%s", val);
	return 0;
}

/* A data plane's name (the registry in dataplane.c): its index is the mode. */
static int set_mode(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	int mode = albmd_dataplane_find(val);
	char names[128];

	(void)cmd;
	if (mode < 0) {
		albmd_dataplane_names(names, sizeof(names));
		cfg_error(ctx, n->line, "unknown mode '%s' (%s)", val, names);
		return -EINVAL;
	}
	((struct albmd_cfg_service *)conf)->mode = (enum albmd_mode)mode;
	return 0;
}

/* A network interface name (IF_NAMESIZE, no '/'), into a char array slot. */
static int set_interface(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			 const struct cfg_cmd *cmd)
{
	if (!val[0] || strlen(val) >= cmd->size || strchr(val, '/')) {
		cfg_error(ctx, n->line, "bad interface name '%s'", val);
		return -EINVAL;
	}
	snprintf((char *)conf + cmd->off, cmd->size, "%s", val);
	return 0;
}

/* `sched-flags FLAG...;` (repeatable: the flags add up) */
static int set_sched_flags(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			   void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	int rc = 0;

	(void)val, (void)cmd;
	for (int i = 1; i < n->nargs; i++) {
		const char *f = n->args[i];
		if (!strcmp(f, "sh-fallback") || !strcmp(f, "mh-fallback") ||
		    !strcmp(f, "fallback")) {
			svc->sched_flags |= ALBM_SVC_F_SCHED_FALLBACK;
		} else if (!strcmp(f, "sh-port") || !strcmp(f, "mh-port") || !strcmp(f, "port")) {
			svc->sched_flags |= ALBM_SVC_F_SCHED_PORT;
		} else {
			cfg_error(ctx, n->line,
				  "unknown sched-flag '%s' (sh-fallback, sh-port, "
				  "mh-fallback, mh-port)",
				  f);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* A request target for an HTTP check: '/', then printable ASCII without spaces. */
static bool hc_path_ok(const char *p)
{
	if (p[0] != '/' || strlen(p) >= sizeof(((struct albmd_cfg_health *)0)->path))
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

/* `health-check tcp [interval T] [timeout T] [rise N] [fall N];`
 * `health-check http PATH [expect STATUS] [host NAME] [interval T] ...;` */
static int set_health(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		      const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	struct albmd_cfg_health *hc = &svc->health;
	bool http = n->nargs >= 2 && !strcmp(n->args[1], "http");

	(void)val, (void)cmd;
	if (n->nargs < 2 || (strcmp(n->args[1], "tcp") && !http) || (http && n->nargs < 3)) {
		cfg_error(ctx, n->line,
			  "usage: health-check tcp [interval T] [timeout T] [rise N] "
			  "[fall N]; or health-check http PATH [expect STATUS] [host NAME] "
			  "[interval T] [timeout T] [rise N] [fall N];");
		return -EINVAL;
	}
	if (http && !hc_path_ok(n->args[2])) {
		cfg_error(ctx, n->line,
			  "health-check http: bad path '%s' (it starts with '/'; "
			  "printable, no spaces, at most %zu characters)",
			  n->args[2], sizeof(hc->path) - 1);
		return -EINVAL;
	}
	hc->enabled = true;
	hc->kind = http ? ALBMD_HC_HTTP : ALBMD_HC_TCP;
	if (http)
		snprintf(hc->path, sizeof(hc->path), "%s", n->args[2]);
	for (int i = 2; i < n->nargs && !http; i += 2) {
		if (!strcmp(n->args[i], "expect") || !strcmp(n->args[i], "host")) {
			cfg_error(ctx, n->line,
				  "health-check tcp: 'expect' and 'host' are for "
				  "health-check http");
			return -EINVAL;
		}
	}
	return cfg_apply_options(ctx, n, http ? 3 : 2, CFG_HEALTH, hc, "health-check");
}

/* `host NAME` of an HTTP check: the Host header (a host name or address, no spaces). */
static int set_hc_host(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		       const struct cfg_cmd *cmd)
{
	for (const char *p = val; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '/') {
			cfg_error(ctx, n->line, "health-check: bad host '%s'", val);
			return -EINVAL;
		}
	}
	if (!val[0] || strlen(val) >= cmd->size) {
		cfg_error(ctx, n->line, "health-check: bad host '%s'", val);
		return -EINVAL;
	}
	snprintf((char *)conf + cmd->off, cmd->size, "%s", val);
	return 0;
}

/* `slow-start DURATION|off [aggression X] [min F];` */
static int set_slow_start(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			  void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	static const struct cfg_cmd window = {
		"slow-start",
		CFG_SERVICE,
		cfg_set_duration,
		.flags = CFG_OFF,
		.off = offsetof(struct albm_adaptive_params, slow_start_ms),
		.size = sizeof(uint64_t),
	};
	int rc;

	(void)val, (void)cmd;
	if (n->nargs < 2 || (n->nargs - 2) % 2) {
		cfg_error(ctx, n->line, "usage: slow-start DURATION|off [aggression X] [min F];");
		return -EINVAL;
	}
	rc = cfg_set_duration(ctx, n, n->args[1], &svc->adaptive, &window);
	if (cfg_apply_options(ctx, n, 2, CFG_SLOW_START, &svc->adaptive, "slow-start") < 0)
		rc = -EINVAL;
	return rc;
}

/* `server NAME ADDRESS [weight N] [maxconn N] [down];` */
static int set_server(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		      const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	struct albmd_cfg_server s = { .weight = 1, .line = n->line };
	char e[160], who[ALBM_NAME_MAX + 16];

	(void)val, (void)cmd;
	if (n->nargs < 3) {
		cfg_error(ctx, n->line,
			  "usage: server NAME ADDRESS [weight N] [maxconn N] [down];");
		return -EINVAL;
	}
	if (!albmd_name_valid(n->args[1])) {
		cfg_error(ctx, n->line, "bad server name '%s' (1-%d of A-Z a-z 0-9 . _ -)",
			  n->args[1], ALBM_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < svc->nservers; i++) {
		if (!strcmp(svc->servers[i].name, n->args[1])) {
			cfg_error(ctx, n->line, "server '%s' already defined at line %d",
				  n->args[1], svc->servers[i].line);
			return -EINVAL;
		}
	}
	if (svc->nservers >= ALBMD_MAX_SERVERS) {
		cfg_error(ctx, n->line, "too many servers (at most %d)", ALBMD_MAX_SERVERS);
		return -EINVAL;
	}
	snprintf(s.name, sizeof(s.name), "%s", n->args[1]);
	if (albm_addr_parse(n->args[2], &s.addr, e, sizeof(e)) == 0) {
		s.has_port = true;
	} else if (albm_addr_parse_host(n->args[2], &s.addr, e, sizeof(e)) < 0) {
		cfg_error(ctx, n->line, "server '%s': bad address '%s'", s.name, n->args[2]);
		return -EINVAL;
	}
	snprintf(who, sizeof(who), "server '%s'", s.name);
	if (cfg_apply_options(ctx, n, 3, CFG_SERVER, &s, who) < 0)
		return -EINVAL;
	svc->servers = xrealloc(svc->servers, (svc->nservers + 1) * sizeof(*svc->servers));
	svc->servers[svc->nservers++] = s;
	return 0;
}

/* `http ADDR:PORT;` or `http PORT;` */
static int set_http(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	struct albmd_config *cfg = conf;
	char text[32];
	uint64_t port;

	/* a bare port means loopback: the admin API is not for the world */
	if (albm_parse_u64(val, &port) == 0) {
		snprintf(text, sizeof(text), "127.0.0.1:%llu", (unsigned long long)port);
		val = text;
	}
	cfg->http_line = n->line;
	cfg->has_http = cfg_set_addr(ctx, n, val, conf, cmd) == 0;
	return cfg->has_http ? 0 : -EINVAL;
}

static int set_token_file(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			  void *conf, const struct cfg_cmd *cmd)
{
	((struct albmd_config *)conf)->http_token_line = n->line;
	return cfg_set_path(ctx, n, val, conf, cmd);
}

/* `access-log PATH | syslog [SOCKET] | off;` (the per-connection log, docs/albmd.md) */
static int set_access_log(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			  void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_config *cfg = conf;
	const char *path = val;

	(void)cmd;
	if (n->nargs < 2 || n->nargs > 3 || (n->nargs == 3 && strcmp(val, "syslog"))) {
		cfg_error(ctx, n->line, "usage: access-log PATH | syslog [SOCKET] | off");
		return -EINVAL;
	}
	if (!strcmp(val, "off")) {
		cfg->access_log = ALBMD_ALOG_OFF;
		return 0;
	}
	cfg->access_log = strcmp(val, "syslog") ? ALBMD_ALOG_FILE : ALBMD_ALOG_SYSLOG;
	if (cfg->access_log == ALBMD_ALOG_SYSLOG)
		path = n->nargs == 3 ? n->args[2] : "/dev/log";
	if (path[0] != '/' || strlen(path) >= sizeof(cfg->access_log_path)) {
		cfg_error(ctx, n->line,
			  "access-log: '%s' is not an absolute path of at most %zu "
			  "characters",
			  path, sizeof(cfg->access_log_path) - 1);
		return -EINVAL;
	}
	if (cfg->access_log == ALBMD_ALOG_SYSLOG &&
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		cfg_error(ctx, n->line, "access-log syslog: socket path longer than %zu characters",
			  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	snprintf(cfg->access_log_path, sizeof(cfg->access_log_path), "%s", path);
	return 0;
}

static int set_key_file(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			const struct cfg_cmd *cmd)
{
	((struct albmd_config *)conf)->key_file_line = n->line; /* --check names it */
	return cfg_set_path(ctx, n, val, conf, cmd);
}

/* `peer NAME ADDR:PORT node-id N;` (ha block) */
static int set_peer(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	struct albmd_cfg_ha *ha = conf;
	struct albmd_cfg_peer p = { .line = n->line };
	char e[160], who[ALBM_NAME_MAX + 16];

	(void)val, (void)cmd;
	if (n->nargs < 3) {
		cfg_error(ctx, n->line, "usage: peer NAME ADDR:PORT node-id N;");
		return -EINVAL;
	}
	if (!albmd_name_valid(n->args[1])) {
		cfg_error(ctx, n->line, "bad peer name '%s' (1-%d of A-Z a-z 0-9 . _ -)",
			  n->args[1], ALBM_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < ha->npeers; i++) {
		if (!strcmp(ha->peers[i].name, n->args[1])) {
			cfg_error(ctx, n->line, "peer '%s' already defined at line %d", n->args[1],
				  ha->peers[i].line);
			return -EINVAL;
		}
	}
	if (ha->npeers >= ALBMD_MAX_PEERS) {
		cfg_error(ctx, n->line, "too many peers (at most %d)", ALBMD_MAX_PEERS);
		return -EINVAL;
	}
	snprintf(p.name, sizeof(p.name), "%s", n->args[1]);
	if (albm_addr_parse(n->args[2], &p.addr, e, sizeof(e)) < 0) {
		cfg_error(ctx, n->line, "peer '%s': bad address: %s", p.name, e);
		return -EINVAL;
	}
	snprintf(who, sizeof(who), "peer '%s'", p.name);
	if (cfg_apply_options(ctx, n, 3, CFG_PEER, &p, who) < 0)
		return -EINVAL;
	if (!p.node_id) {
		cfg_error(ctx, n->line, "peer '%s' needs 'node-id N' (its own ha node-id)", p.name);
		return -EINVAL;
	}
	ha->peers[ha->npeers++] = p;
	return 0;
}

static int set_ha_key_file(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			   void *conf, const struct cfg_cmd *cmd)
{
	((struct albmd_cfg_ha *)conf)->key_file_line = n->line; /* --check names it */
	return cfg_set_path(ctx, n, val, conf, cmd);
}

/* ---- blocks ---- */

static int block_agents(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			const struct cfg_cmd *cmd)
{
	struct albmd_config *cfg = conf;

	(void)val, (void)cmd;
	if (n->nargs != 1) {
		cfg_error(ctx, n->line, "'%s' block takes no arguments", n->args[0]);
		return -EINVAL;
	}
	cfg->has_agents = true;
	cfg_apply_block(ctx, n, CFG_AGENTS, cfg, "agents");
	if (!cfg->agents_listen.len)
		cfg_error(ctx, n->line, "agents block needs 'listen ADDR:PORT;'");
	if (!cfg->key_file[0])
		cfg_error(ctx, n->line, "agents block needs 'key-file PATH;' (reports are signed)");
	return 0;
}

static int block_control(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			 const struct cfg_cmd *cmd)
{
	(void)val, (void)cmd;
	if (n->nargs != 1) {
		cfg_error(ctx, n->line, "'%s' block takes no arguments", n->args[0]);
		return -EINVAL;
	}
	cfg_apply_block(ctx, n, CFG_CONTROL, conf, "control");
	return 0;
}

/* Checks of a whole ha block (those between blocks are in config.c). */
static void ha_validate(struct cfg_ctx *ctx, const struct albmd_cfg_ha *ha, int line)
{
	if (!ha->node_id)
		cfg_error(ctx, line, "ha block needs 'node-id N;' (unique in the group)");
	if (!ha->listen.len)
		cfg_error(ctx, line,
			  "ha block needs 'listen ADDR:PORT;' (UDP, for sync and "
			  "heartbeats)");
	if (!ha->key_file[0])
		cfg_error(ctx, line, "ha block needs 'key-file PATH;' (messages are signed)");
	if (ha->table_guard_ms * 2 > ha->table_interval_ms)
		cfg_error(ctx, line,
			  "ha: table-guard (%llums) must be at most half of table-interval "
			  "(%llums)",
			  (unsigned long long)ha->table_guard_ms,
			  (unsigned long long)ha->table_interval_ms);
	if (ha->flush_ms > 1000)
		cfg_error(ctx, line,
			  "ha: flush must be at most 1s (flows wait that long for their "
			  "peers)");
	for (size_t i = 0; i < ha->npeers; i++) {
		const struct albmd_cfg_peer *p = &ha->peers[i];
		if (ha->node_id && p->node_id == ha->node_id)
			cfg_error(ctx, p->line, "peer '%s' has this distributor's own node-id %u",
				  p->name, p->node_id);
		if (ha->listen.len && albm_addr_family(&p->addr) != albm_addr_family(&ha->listen))
			cfg_error(ctx, p->line, "peer '%s': not the address family of 'listen'",
				  p->name);
		for (size_t j = 0; j < i; j++)
			if (ha->peers[j].node_id == p->node_id)
				cfg_error(ctx, p->line,
					  "peer '%s' has the node-id of peer '%s' "
					  "(line %d)",
					  p->name, ha->peers[j].name, ha->peers[j].line);
	}
}

static int block_ha(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	struct albmd_config *cfg = conf;
	struct albmd_cfg_ha *ha = &cfg->ha;

	(void)val, (void)cmd;
	if (n->nargs != 1) {
		cfg_error(ctx, n->line, "'%s' block takes no arguments", n->args[0]);
		return -EINVAL;
	}
	cfg->has_ha = true;
	cfg->ha_line = n->line;
	ha->flow_sync = true;
	ha->table_interval_ms = 5000;
	ha->table_guard_ms = 200;
	ha->flush_ms = 20;
	ha->heartbeat_ms = 1000;
	ha->max_age_ms = 5000;
	cfg_apply_block(ctx, n, CFG_HA, ha, "ha");
	ha_validate(ctx, ha, n->line);
	return 0;
}

static void service_defaults(struct albmd_cfg_service *svc)
{
	struct albm_service tmp;

	/* the scheduler library owns the schedulers' defaults; take them from it */
	albm_svc_init(&tmp, "defaults");
	svc->adaptive = tmp.adaptive;
	svc->orca = tmp.orca;
	svc->prequal = tmp.prequal;
	svc->lr = tmp.lr;
	albm_svc_destroy(&tmp);
	svc->mode = ALBMD_MODE_PROXY;
	snprintf(svc->scheduler, sizeof(svc->scheduler), "%s",
		 albm_sched_find("wlc") ? "wlc" : "rr");
	svc->connect_timeout_ms = 5000;
	svc->idle_timeout_ms = 600000;
	svc->client_fin_timeout_ms = 30000; /* HAProxy's `timeout client-fin` / `server-fin` */
	svc->server_fin_timeout_ms = 30000;
	svc->retries = 2;
	svc->max_fails = 1;
	svc->fail_timeout_ms = 10000;
	svc->health.interval_ms = 2000;
	svc->health.timeout_ms = 1000;
	svc->health.rise = 2;
	svc->health.fall = 3;
	svc->health.expect = 200;
	/* the queue's bound before a client goes to the least-loaded server anyway
	 * (docs/albmd.md, "Queueing": why 1 s and 1024) */
	svc->queue_timeout_ms = ALBMD_QUEUE_TIMEOUT_DEFAULT_MS;
	svc->queue_max = 1024;
	svc->queue_overflow = ALBMD_QOVF_LEAST_LOADED;
}

static int block_service(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
			 const struct cfg_cmd *cmd)
{
	struct albmd_config *cfg = conf;
	struct albmd_cfg_service *svc;

	(void)val, (void)cmd;
	if (n->nargs != 2) {
		cfg_error(ctx, n->line, "usage: service NAME { ... }");
		return -EINVAL;
	}
	if (!albmd_name_valid(n->args[1])) {
		cfg_error(ctx, n->line, "bad service name '%s'", n->args[1]);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->nservices; i++) {
		if (!strcmp(cfg->services[i].name, n->args[1])) {
			cfg_error(ctx, n->line, "service '%s' defined twice", n->args[1]);
			return -EINVAL;
		}
	}
	if (cfg->nservices >= ALBMD_MAX_SERVICES) {
		cfg_error(ctx, n->line, "too many services (at most %d)", ALBMD_MAX_SERVICES);
		return -EINVAL;
	}
	cfg->services = xrealloc(cfg->services, (cfg->nservices + 1) * sizeof(*cfg->services));
	svc = &cfg->services[cfg->nservices++];
	memset(svc, 0, sizeof(*svc));
	snprintf(svc->name, sizeof(svc->name), "%s", n->args[1]);
	svc->line = n->line;
	service_defaults(svc);
	cfg_apply_block(ctx, n, CFG_SERVICE, svc, "service");
	return 0;
}

/* ---- the table ---- */

static const struct cfg_keyword kw_xdp_mode[] = { { "generic", ALBMD_XDP_GENERIC },
						  { "native", ALBMD_XDP_NATIVE },
						  { NULL, 0 } };
static const struct cfg_keyword kw_proxy_protocol[] = {
	{ "off", ALBMD_PP_OFF }, { "v1", ALBMD_PP_V1 }, { "v2", ALBMD_PP_V2 }, { NULL, 0 }
};
static const struct cfg_keyword kw_queue_overflow[] = { { "least-loaded", ALBMD_QOVF_LEAST_LOADED },
							{ "close", ALBMD_QOVF_CLOSE },
							{ NULL, 0 } };
static const struct cfg_keyword kw_data_path[] = { { "auto", ALBMD_DATA_PATH_AUTO },
						   { "epoll", ALBMD_DATA_PATH_EPOLL },
						   { "sockmap", ALBMD_DATA_PATH_SOCKMAP },
						   { "uring", ALBMD_DATA_PATH_URING },
						   { NULL, 0 } };
static const struct cfg_keyword kw_all_overloaded[] = { { "least-loaded",
							  ALBM_ALL_OVL_LEAST_LOADED },
							{ "refuse", ALBM_ALL_OVL_REFUSE },
							{ "queue", ALBM_ALL_OVL_QUEUE },
							{ NULL, 0 } };

/* The slot of member m in the block struct T: offset and size. */
#define AT(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define MAIN(m)  AT(struct albmd_config, m)
#define SVC(m)   AT(struct albmd_cfg_service, m)
#define SRV(m)   AT(struct albmd_cfg_server, m)
#define HC(m)    AT(struct albmd_cfg_health, m)
#define SLOW(m)  AT(struct albm_adaptive_params, m)
#define HA(m)    AT(struct albmd_cfg_ha, m)
#define PEER(m)  AT(struct albmd_cfg_peer, m)
#define MAXCONN  10000000

const struct cfg_cmd cfg_cmds[] = {
	/* top level */
	{ "workers", CFG_MAIN, cfg_set_uint, MAIN(workers), .lo = 1, .hi = ALBMD_MAX_WORKERS },
	{ "maxconn", CFG_MAIN, cfg_set_uint, MAIN(maxconn), .hi = MAXCONN },
	{ "drain-timeout", CFG_MAIN, cfg_set_duration, MAIN(drain_timeout_ms) },
	{ "splice", CFG_MAIN, cfg_set_onoff, MAIN(splice) },
	{ "pid-file", CFG_MAIN, cfg_set_path, MAIN(pid_file) },
	{ "announce-device", CFG_MAIN, set_interface, MAIN(announce_device) },
	{ "announce-linger", CFG_MAIN, cfg_set_duration, MAIN(announce_linger_ms),
	  .flags = CFG_OFF },
	{ "state-dir", CFG_MAIN, cfg_set_path, MAIN(state_dir) },
	{ "access-log", CFG_MAIN, set_access_log, MAIN(access_log_path), .flags = CFG_ANYARGS },
	{ "agents", CFG_MAIN, block_agents, .flags = CFG_BLOCK | CFG_ANYARGS },
	{ "control", CFG_MAIN, block_control, .flags = CFG_BLOCK | CFG_ANYARGS },
	{ "ha", CFG_MAIN, block_ha, .flags = CFG_BLOCK | CFG_ANYARGS },
	{ "service", CFG_MAIN, block_service, .flags = CFG_BLOCK | CFG_MULTI | CFG_ANYARGS },
	/* agents { } */
	{ "listen", CFG_AGENTS, cfg_set_addr, MAIN(agents_listen),
	  .what = "agents listen address" },
	{ "key-file", CFG_AGENTS, set_key_file, MAIN(key_file) },
	{ "timeout", CFG_AGENTS, cfg_set_duration, MAIN(agent_timeout_ms), .lo = 10,
	  .what = "agent timeout" },
	{ "max-age", CFG_AGENTS, cfg_set_duration, MAIN(report_max_age_ms),
	  .what = "report max-age" },
	/* control { } */
	{ "socket", CFG_CONTROL, cfg_set_path, MAIN(control_socket), .hi = 108 /* sun_path */ },
	{ "http", CFG_CONTROL, set_http, MAIN(http), .what = "http address" },
	/* ha { } */
	{ "node-id", CFG_HA, cfg_set_uint, HA(node_id), .lo = 1, .hi = UINT32_MAX },
	{ "listen", CFG_HA, cfg_set_addr, HA(listen), .what = "ha listen address" },
	{ "key-file", CFG_HA, set_ha_key_file, HA(key_file) },
	{ "peer", CFG_HA, set_peer, .flags = CFG_MULTI | CFG_ANYARGS },
	{ "flow-sync", CFG_HA, cfg_set_onoff, HA(flow_sync) },
	{ "table-interval", CFG_HA, cfg_set_duration, HA(table_interval_ms), .lo = 100 },
	{ "table-guard", CFG_HA, cfg_set_duration, HA(table_guard_ms), .flags = CFG_OFF },
	{ "flush", CFG_HA, cfg_set_duration, HA(flush_ms), .lo = 1, .what = "ha flush" },
	{ "heartbeat", CFG_HA, cfg_set_duration, HA(heartbeat_ms), .lo = 100 },
	{ "max-age", CFG_HA, cfg_set_duration, HA(max_age_ms), .lo = 100, .what = "ha max-age" },
	{ "http-token-file", CFG_CONTROL, set_token_file, MAIN(http_token_file) },
	{ "chart-js", CFG_CONTROL, cfg_set_path, MAIN(chart_js) },
	/* service NAME { } */
	{ "listen", CFG_SERVICE, cfg_set_addr, SVC(listen), .what = "listen address" },
	{ "mode", CFG_SERVICE, set_mode, SVC(mode) },
	{ "scheduler", CFG_SERVICE, set_scheduler, SVC(scheduler) },
	{ "sched-flags", CFG_SERVICE, set_sched_flags, .flags = CFG_MULTI | CFG_ANYARGS },
	{ "server", CFG_SERVICE, set_server, .flags = CFG_MULTI | CFG_ANYARGS },
	{ "interface", CFG_SERVICE, set_interface, SVC(interface) },
	{ "xdp-mode", CFG_SERVICE, cfg_set_keyword, SVC(xdp_mode), .keywords = kw_xdp_mode },
	{ "announce", CFG_SERVICE, cfg_set_onoff, SVC(announce) },
	{ "connect-timeout", CFG_SERVICE, cfg_set_duration, SVC(connect_timeout_ms), .lo = 1 },
	{ "idle-timeout", CFG_SERVICE, cfg_set_duration, SVC(idle_timeout_ms), .lo = 1 },
	{ "client-fin-timeout", CFG_SERVICE, cfg_set_duration, SVC(client_fin_timeout_ms),
	  .lo = 1 },
	{ "server-fin-timeout", CFG_SERVICE, cfg_set_duration, SVC(server_fin_timeout_ms),
	  .lo = 1 },
	{ "retries", CFG_SERVICE, cfg_set_uint, SVC(retries), .hi = 16 },
	{ "max-fails", CFG_SERVICE, cfg_set_uint, SVC(max_fails), .hi = 1000 },
	{ "fail-timeout", CFG_SERVICE, cfg_set_duration, SVC(fail_timeout_ms) },
	{ "maxconn", CFG_SERVICE, cfg_set_uint, SVC(maxconn), .hi = MAXCONN },
	{ "queue-timeout", CFG_SERVICE, cfg_set_duration, SVC(queue_timeout_ms), .flags = CFG_OFF },
	{ "queue-max", CFG_SERVICE, cfg_set_uint, SVC(queue_max), .hi = MAXCONN },
	{ "queue-overflow", CFG_SERVICE, cfg_set_keyword, SVC(queue_overflow),
	  .keywords = kw_queue_overflow },
	{ "proxy-protocol", CFG_SERVICE, cfg_set_keyword, SVC(proxy_protocol),
	  .keywords = kw_proxy_protocol },
	{ "data-path", CFG_SERVICE, cfg_set_keyword, SVC(data_path), .keywords = kw_data_path },
	{ "health-check", CFG_SERVICE, set_health, .flags = CFG_ANYARGS },
	{ "slow-start", CFG_SERVICE, set_slow_start, .flags = CFG_ANYARGS },
	{ "rise-alpha", CFG_SERVICE, cfg_set_double, SVC(adaptive.rise_alpha), .lo = 0.001,
	  .hi = 1 },
	{ "all-overloaded", CFG_SERVICE, cfg_set_keyword, SVC(adaptive.all_overloaded_policy),
	  .keywords = kw_all_overloaded },
	{ "mem-reserve", CFG_SERVICE, cfg_set_percent, SVC(adaptive.mem_reserve), .hi = 50 },
	/* the peers' parameters (docs/schedulers.md: orca, prequal, lr) */
	{ "orca-blackout", CFG_SERVICE, cfg_set_duration, SVC(orca.blackout_ms), .flags = CFG_OFF },
	{ "orca-expiration", CFG_SERVICE, cfg_set_duration, SVC(orca.expiration_ms), .lo = 100 },
	{ "orca-update", CFG_SERVICE, cfg_set_duration, SVC(orca.update_ms), .lo = 100 },
	{ "orca-error-penalty", CFG_SERVICE, cfg_set_double, SVC(orca.error_penalty), .hi = 100 },
	{ "prequal-q-rif", CFG_SERVICE, cfg_set_double, SVC(prequal.q_rif), .hi = 1 },
	{ "prequal-pool", CFG_SERVICE, cfg_set_uint, SVC(prequal.pool), .lo = 1, .hi = 1024 },
	{ "prequal-latency-max-age", CFG_SERVICE, cfg_set_duration, SVC(prequal.latency_max_age_ms),
	  .lo = 1 },
	{ "lr-choices", CFG_SERVICE, cfg_set_uint, SVC(lr.choice_count), .lo = 1, .hi = 64 },
	{ "lr-active-request-bias", CFG_SERVICE, cfg_set_double, SVC(lr.active_request_bias),
	  .hi = 100 },
	/* server NAME ADDRESS [options] */
	{ "weight", CFG_SERVER, cfg_set_uint, SRV(weight), .hi = 65535 },
	{ "maxconn", CFG_SERVER, cfg_set_uint, SRV(maxconn), .hi = MAXCONN },
	{ "down", CFG_SERVER, cfg_set_flag, SRV(disabled), .flags = CFG_NOARGS },
	/* health-check tcp [options] */
	{ "interval", CFG_HEALTH, cfg_set_duration, HC(interval_ms), .lo = 10,
	  .what = "health-check interval" },
	{ "timeout", CFG_HEALTH, cfg_set_duration, HC(timeout_ms), .lo = 1,
	  .what = "health-check timeout" },
	{ "rise", CFG_HEALTH, cfg_set_uint, HC(rise), .lo = 1, .hi = 100 },
	{ "fall", CFG_HEALTH, cfg_set_uint, HC(fall), .lo = 1, .hi = 100 },
	/* peer NAME ADDR:PORT [options] (ha block) */
	{ "node-id", CFG_PEER, cfg_set_uint, PEER(node_id), .lo = 1, .hi = UINT32_MAX },
	{ "expect", CFG_HEALTH, cfg_set_uint, HC(expect), .lo = 100, .hi = 599,
	  .what = "health-check expect status" },
	{ "host", CFG_HEALTH, set_hc_host, HC(host) },
	/* slow-start DURATION [options] */
	{ "aggression", CFG_SLOW_START, cfg_set_double, SLOW(slow_start_aggression), .lo = 0.05,
	  .hi = 20 },
	{ "min", CFG_SLOW_START, cfg_set_double, SLOW(slow_start_min), .hi = 1,
	  .what = "slow-start min" },
};
const size_t cfg_ncmds = ARRAY_SIZE(cfg_cmds);
