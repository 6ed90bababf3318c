/* ALBM: albmd config directives — the table (nginx's ngx_command_t), its handlers,
 * and the loop that applies a block
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

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "distributor/dataplane.h"
#include "sched/sched.h"

/* ---- names (config.h) ---- */

bool albmd_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ALBM_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* ---- handlers of directives with a grammar or a check of their own ---- */

/* A name the scheduler registry knows, into a char array slot. */
static int set_scheduler(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			 void *conf, const struct cfg_cmd *cmd)
{
	if (!albm_sched_find(val)) {
		cfg_error(ctx, n->line, "unknown scheduler '%s' (see albmd --list-schedulers)", val);
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
static int set_interface(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			 void *conf, const struct cfg_cmd *cmd)
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
		if (!strcmp(f, "sh-fallback") || !strcmp(f, "mh-fallback") || !strcmp(f, "fallback")) {
			svc->sched_flags |= ALBM_SVC_F_SCHED_FALLBACK;
		} else if (!strcmp(f, "sh-port") || !strcmp(f, "mh-port") || !strcmp(f, "port")) {
			svc->sched_flags |= ALBM_SVC_F_SCHED_PORT;
		} else {
			cfg_error(ctx, n->line, "unknown sched-flag '%s' (sh-fallback, sh-port, "
				  "mh-fallback, mh-port)", f);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* `health-check tcp [interval T] [timeout T] [rise N] [fall N];` */
static int set_health(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
		      void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;

	(void)val, (void)cmd;
	if (n->nargs < 2 || strcmp(n->args[1], "tcp")) {
		cfg_error(ctx, n->line, "usage: health-check tcp [interval T] [timeout T] [rise N] "
			  "[fall N];");
		return -EINVAL;
	}
	svc->health.enabled = true;
	return cfg_apply_options(ctx, n, 2, CFG_HEALTH, &svc->health, "health-check");
}

/* `slow-start DURATION|off [aggression X] [min F];` */
static int set_slow_start(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			  void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	static const struct cfg_cmd window = {
		"slow-start", CFG_SERVICE, cfg_set_duration, .flags = CFG_OFF,
		.off = offsetof(struct albm_adaptive_params, slow_start_ms), .size = sizeof(uint64_t),
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
static int set_server(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
		      void *conf, const struct cfg_cmd *cmd)
{
	struct albmd_cfg_service *svc = conf;
	struct albmd_cfg_server s = { .weight = 1, .line = n->line };
	char e[160], who[ALBM_NAME_MAX + 16];

	(void)val, (void)cmd;
	if (n->nargs < 3) {
		cfg_error(ctx, n->line, "usage: server NAME ADDRESS [weight N] [maxconn N] [down];");
		return -EINVAL;
	}
	if (!albmd_name_valid(n->args[1])) {
		cfg_error(ctx, n->line, "bad server name '%s' (1-%d of A-Z a-z 0-9 . _ -)", n->args[1],
			  ALBM_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < svc->nservers; i++) {
		if (!strcmp(svc->servers[i].name, n->args[1])) {
			cfg_error(ctx, n->line, "server '%s' already defined at line %d", n->args[1],
				  svc->servers[i].line);
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

static int set_key_file(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			void *conf, const struct cfg_cmd *cmd)
{
	((struct albmd_config *)conf)->key_file_line = n->line; /* --check names it */
	return cfg_set_path(ctx, n, val, conf, cmd);
}

/* ---- blocks ---- */

static int block_agents(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			void *conf, const struct cfg_cmd *cmd)
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

static int block_control(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			 void *conf, const struct cfg_cmd *cmd)
{
	(void)val, (void)cmd;
	if (n->nargs != 1) {
		cfg_error(ctx, n->line, "'%s' block takes no arguments", n->args[0]);
		return -EINVAL;
	}
	cfg_apply_block(ctx, n, CFG_CONTROL, conf, "control");
	return 0;
}

static void service_defaults(struct albmd_cfg_service *svc)
{
	struct albm_service tmp;

	/* the scheduler library owns the adaptive defaults; take them from it */
	albm_svc_init(&tmp, "defaults");
	svc->adaptive = tmp.adaptive;
	albm_svc_destroy(&tmp);
	svc->mode = ALBMD_MODE_PROXY;
	snprintf(svc->scheduler, sizeof(svc->scheduler), "%s", albm_sched_find("wlc") ? "wlc" : "rr");
	svc->connect_timeout_ms = 5000;
	svc->idle_timeout_ms = 600000;
	svc->retries = 2;
	svc->max_fails = 1;
	svc->fail_timeout_ms = 10000;
	svc->health.interval_ms = 2000;
	svc->health.timeout_ms = 1000;
	svc->health.rise = 2;
	svc->health.fall = 3;
	svc->queue_timeout_ms = 5000; /* HAProxy's `timeout queue` defaults to the connect one */
	svc->queue_max = 1024;
}

static int block_service(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			 void *conf, const struct cfg_cmd *cmd)
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

static const struct cfg_keyword kw_xdp_mode[] = {
	{ "generic", ALBMD_XDP_GENERIC }, { "native", ALBMD_XDP_NATIVE }, { NULL, 0 }
};
static const struct cfg_keyword kw_proxy_protocol[] = {
	{ "off", ALBMD_PP_OFF }, { "v1", ALBMD_PP_V1 }, { "v2", ALBMD_PP_V2 }, { NULL, 0 }
};
static const struct cfg_keyword kw_data_path[] = {
	{ "auto", ALBMD_DATA_PATH_AUTO }, { "epoll", ALBMD_DATA_PATH_EPOLL },
	{ "sockmap", ALBMD_DATA_PATH_SOCKMAP }, { "uring", ALBMD_DATA_PATH_URING }, { NULL, 0 }
};
static const struct cfg_keyword kw_all_overloaded[] = {
	{ "least-loaded", ALBM_ALL_OVL_LEAST_LOADED }, { "refuse", ALBM_ALL_OVL_REFUSE },
	{ "queue", ALBM_ALL_OVL_QUEUE }, { NULL, 0 }
};

/* The slot of member m in the block struct T: offset and size. */
#define AT(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define MAIN(m)  AT(struct albmd_config, m)
#define SVC(m)   AT(struct albmd_cfg_service, m)
#define SRV(m)   AT(struct albmd_cfg_server, m)
#define HC(m)    AT(struct albmd_cfg_health, m)
#define SLOW(m)  AT(struct albm_adaptive_params, m)
#define MAXCONN  10000000

const struct cfg_cmd cfg_cmds[] = {
	/* top level */
	{ "workers", CFG_MAIN, cfg_set_uint, MAIN(workers), .lo = 1, .hi = ALBMD_MAX_WORKERS },
	{ "maxconn", CFG_MAIN, cfg_set_uint, MAIN(maxconn), .hi = MAXCONN },
	{ "drain-timeout", CFG_MAIN, cfg_set_duration, MAIN(drain_timeout_ms) },
	{ "splice", CFG_MAIN, cfg_set_onoff, MAIN(splice) },
	{ "pid-file", CFG_MAIN, cfg_set_path, MAIN(pid_file) },
	{ "agents", CFG_MAIN, block_agents, .flags = CFG_BLOCK | CFG_ANYARGS },
	{ "control", CFG_MAIN, block_control, .flags = CFG_BLOCK | CFG_ANYARGS },
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
	/* service NAME { } */
	{ "listen", CFG_SERVICE, cfg_set_addr, SVC(listen), .what = "listen address" },
	{ "mode", CFG_SERVICE, set_mode, SVC(mode) },
	{ "scheduler", CFG_SERVICE, set_scheduler, SVC(scheduler) },
	{ "sched-flags", CFG_SERVICE, set_sched_flags, .flags = CFG_MULTI | CFG_ANYARGS },
	{ "server", CFG_SERVICE, set_server, .flags = CFG_MULTI | CFG_ANYARGS },
	{ "interface", CFG_SERVICE, set_interface, SVC(interface) },
	{ "xdp-mode", CFG_SERVICE, cfg_set_keyword, SVC(xdp_mode), .keywords = kw_xdp_mode },
	{ "connect-timeout", CFG_SERVICE, cfg_set_duration, SVC(connect_timeout_ms), .lo = 1 },
	{ "idle-timeout", CFG_SERVICE, cfg_set_duration, SVC(idle_timeout_ms), .lo = 1 },
	{ "retries", CFG_SERVICE, cfg_set_uint, SVC(retries), .hi = 16 },
	{ "max-fails", CFG_SERVICE, cfg_set_uint, SVC(max_fails), .hi = 1000 },
	{ "fail-timeout", CFG_SERVICE, cfg_set_duration, SVC(fail_timeout_ms) },
	{ "maxconn", CFG_SERVICE, cfg_set_uint, SVC(maxconn), .hi = MAXCONN },
	{ "queue-timeout", CFG_SERVICE, cfg_set_duration, SVC(queue_timeout_ms), .flags = CFG_OFF },
	{ "queue-max", CFG_SERVICE, cfg_set_uint, SVC(queue_max), .hi = MAXCONN },
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
	/* slow-start DURATION [options] */
	{ "aggression", CFG_SLOW_START, cfg_set_double, SLOW(slow_start_aggression), .lo = 0.05,
	  .hi = 20 },
	{ "min", CFG_SLOW_START, cfg_set_double, SLOW(slow_start_min), .hi = 1,
	  .what = "slow-start min" },
};
const size_t cfg_ncmds = ARRAY_SIZE(cfg_cmds);

/* ---- applying a block ---- */

static const struct cfg_cmd *cmd_find(const char *name, unsigned where)
{
	for (size_t i = 0; i < cfg_ncmds; i++)
		if ((cfg_cmds[i].where & where) && !strcmp(cfg_cmds[i].name, name))
			return &cfg_cmds[i];
	return NULL;
}

static void unknown(struct cfg_ctx *ctx, const struct cfg_node *n, const char *inside)
{
	const char *d = n->args[0];

	if (cmd_find(d, CFG_MAIN | CFG_AGENTS | CFG_CONTROL | CFG_SERVICE))
		cfg_error(ctx, n->line, "'%s' is not allowed %s%s%s", d, inside ? "in the " : "",
			  inside ? inside : "at the top level", inside ? " block" : "");
	else if (!inside && n->block)
		cfg_error(ctx, n->line, "unknown block '%s'", d);
	else if (!inside)
		cfg_error(ctx, n->line, "unknown directive '%s'", d);
	else
		cfg_error(ctx, n->line, "unknown directive '%s' in %s block", d, inside);
}

/* The node's shape against the table's: block or not, one word after the name. */
static bool shape_ok(struct cfg_ctx *ctx, const struct cfg_node *n, const struct cfg_cmd *c)
{
	if ((c->flags & CFG_BLOCK) && !n->block) {
		cfg_error(ctx, n->line, "'%s' needs a block { ... }", c->name);
		return false;
	}
	if (!(c->flags & CFG_BLOCK) && n->block) {
		cfg_error(ctx, n->line, "'%s' does not take a block", c->name);
		return false;
	}
	if (!(c->flags & CFG_ANYARGS) && n->nargs != 2) {
		cfg_error(ctx, n->line, "'%s' takes 1 argument", c->name);
		return false;
	}
	return true;
}

/* A single-value directive given again in the same block: both lines named. */
static bool repeated(struct cfg_ctx *ctx, const struct cfg_node *n, const struct cfg_cmd *c,
		     int *seen)
{
	int *first = &seen[c - cfg_cmds];

	if (c->flags & CFG_MULTI)
		return false;
	if (!*first) {
		*first = n->line;
		return false;
	}
	if (c->flags & CFG_BLOCK)
		cfg_error(ctx, n->line, "'%s' block defined twice (first at line %d)", c->name,
			  *first);
	else
		cfg_error(ctx, n->line, "duplicate '%s' (first at line %d)", c->name, *first);
	return true;
}

void cfg_apply_block(struct cfg_ctx *ctx, const struct cfg_node *blk, unsigned where,
		     void *conf, const char *inside)
{
	int *seen = xcalloc(cfg_ncmds, sizeof(*seen));

	for (size_t i = 0; i < blk->nkids; i++) {
		const struct cfg_node *n = &blk->kids[i];
		const struct cfg_cmd *c = cmd_find(n->args[0], where);
		if (!c)
			unknown(ctx, n, inside);
		else if (shape_ok(ctx, n, c) && !repeated(ctx, n, c, seen))
			c->set(ctx, n, n->nargs > 1 ? n->args[1] : NULL, conf, c);
	}
	free(seen);
}

int cfg_apply_options(struct cfg_ctx *ctx, const struct cfg_node *n, int first, unsigned where,
		      void *conf, const char *who)
{
	int *seen = xcalloc(cfg_ncmds, sizeof(*seen)), rc = 0;

	for (int i = first; i < n->nargs && !rc; i++) {
		const char *k = n->args[i];
		const struct cfg_cmd *c = cmd_find(k, where);
		if (!c) {
			cfg_error(ctx, n->line, "%s: unknown option '%s'", who, k);
			rc = -EINVAL;
		} else if (seen[c - cfg_cmds]++) {
			cfg_error(ctx, n->line, "%s: '%s' given twice", who, k);
			rc = -EINVAL;
		} else if (!(c->flags & CFG_NOARGS) && i + 1 >= n->nargs) {
			cfg_error(ctx, n->line, "%s: '%s' needs a value", who, k);
			rc = -EINVAL;
		} else {
			rc = c->set(ctx, n, c->flags & CFG_NOARGS ? NULL : n->args[++i], conf, c);
		}
	}
	free(seen);
	return rc;
}
