/* ALBM: albmd config parser — text to struct albmd_config, and the checks that need
 * a whole block or the whole file
 *
 * Three steps: config_lex.c turns the text into a tree of directives with their
 * line numbers; config_directives.c applies each directive through its table line;
 * the checks below see the result (what a service's mode requires of its servers,
 * two services on overlapping addresses).  Errors accumulate as "file:line:
 * message" lines so that `albmd --check` shows all of them at once.
 */
#include "distributor/config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/config_directives.h"

#define CFG_MAX_SIZE (4u << 20) /* a config larger than 4 MiB is a mistake */

/* ---- checks ---- */

/* Checks that need the whole block (mode decides what a server address must be). */
static void cfg_service_validate(struct cfg_ctx *ctx, struct albmd_cfg_service *svc)
{
	svc->has_listen = svc->listen.len != 0; /* set, and valid */
	if (!svc->has_listen)
		cfg_error(ctx, svc->line, "service '%s' needs 'listen ADDR:PORT;'", svc->name);
	if (svc->mode == ALBMD_MODE_DR && !svc->interface[0])
		cfg_error(ctx, svc->line, "service '%s': mode dr needs 'interface IFNAME;'",
			  svc->name);
	if (svc->mode == ALBMD_MODE_PROXY && svc->interface[0])
		cfg_error(ctx, svc->line, "service '%s': 'interface' is only for mode dr",
			  svc->name);
	if (svc->mode == ALBMD_MODE_PROXY && svc->xdp_mode != ALBMD_XDP_GENERIC)
		cfg_error(ctx, svc->line, "service '%s': 'xdp-mode' is only for mode dr",
			  svc->name);
	if (svc->mode != ALBMD_MODE_DR && svc->announce)
		cfg_error(ctx, svc->line,
			  "service '%s': 'announce' is only for mode dr (a proxy's "
			  "address moves with keepalived, docs/ha.md)",
			  svc->name);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct albmd_cfg_server *s = &svc->servers[i];
		if (svc->mode == ALBMD_MODE_PROXY && !s->has_port)
			cfg_error(ctx, s->line, "server '%s': mode proxy needs ADDRESS:PORT",
				  s->name);
		if (svc->mode == ALBMD_MODE_DR && s->has_port && svc->has_listen &&
		    albm_addr_port(&s->addr) != albm_addr_port(&svc->listen))
			cfg_error(ctx, s->line,
				  "server '%s': mode dr cannot change the port (%u, "
				  "service listens on %u)",
				  s->name, albm_addr_port(&s->addr), albm_addr_port(&svc->listen));
		if (svc->mode == ALBMD_MODE_DR && svc->has_listen &&
		    albm_addr_family(&s->addr) != albm_addr_family(&svc->listen))
			cfg_error(ctx, s->line,
				  "server '%s': mode dr needs the service's address family",
				  s->name);
		if (svc->mode == ALBMD_MODE_DR && !s->has_port && svc->has_listen)
			albm_addr_set_port(&s->addr, albm_addr_port(&svc->listen));
	}
}

static void cfg_defaults(struct albmd_config *cfg, const char *path)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->workers = 1;
	cfg->drain_timeout_ms = 10000;
	cfg->splice = true;
	cfg->agent_timeout_ms = 1000;
	cfg->report_max_age_ms = 30000;
	snprintf(cfg->announce_device, sizeof(cfg->announce_device), "%s", ALBMD_ANNOUNCE_DEVICE);
	cfg->announce_linger_ms = 2000;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", ALBMD_DEFAULT_SOCKET);
	snprintf(cfg->chart_js, sizeof(cfg->chart_js), "%s", ALBMD_DEFAULT_CHART_JS);
}

/* 127.0.0.0/8 or ::1: where the admin HTTP may listen without a token. */
static bool addr_is_loopback(const struct albm_addr *a)
{
	if (albm_addr_family(a) == AF_INET)
		return (ntohl(a->u.sin.sin_addr.s_addr) >> 24) == 127;
	return albm_addr_family(a) == AF_INET6 &&
	       !memcmp(&a->u.sin6.sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));
}

/* The admin HTTP shows every server and its load: beyond loopback, only with a token. */
static void cfg_check_http(struct cfg_ctx *ctx, const struct albmd_config *cfg)
{
	char abuf[ALBM_ADDRSTRLEN];

	if (cfg->has_http && !addr_is_loopback(&cfg->http) && !cfg->http_token_file[0])
		cfg_error(ctx, cfg->http_line,
			  "control http %s is not a loopback address: it needs "
			  "'http-token-file PATH;' (clients then send Authorization: Bearer TOKEN)",
			  albm_addr_format(&cfg->http, abuf, sizeof(abuf)));
}

/* The wildcard address of its family (0.0.0.0, [::]). */
static bool addr_is_any(const struct albm_addr *a)
{
	if (albm_addr_family(a) == AF_INET)
		return a->u.sin.sin_addr.s_addr == htonl(INADDR_ANY);
	return albm_addr_family(a) == AF_INET6 &&
	       !memcmp(&a->u.sin6.sin6_addr, &in6addr_any, sizeof(in6addr_any));
}

/* Two TCP listeners that cannot both bind: the same address, or the same family and
 * port where one is the wildcard (IPv6 sockets are V6ONLY, so [::] and 0.0.0.0 do
 * not overlap). */
static bool listen_overlap(const struct albm_addr *a, const struct albm_addr *b)
{
	return albm_addr_family(a) == albm_addr_family(b) &&
	       albm_addr_port(a) == albm_addr_port(b) && (addr_is_any(a) || addr_is_any(b));
}

/* Does service i's address clash with an earlier service's?  Mode dr binds no
 * socket (XDP takes the VIP's packets), so overlaps count between proxy services. */
static void cfg_check_listen(struct cfg_ctx *ctx, const struct albmd_config *cfg, size_t i)
{
	const struct albmd_cfg_service *a = &cfg->services[i];
	char abuf[ALBM_ADDRSTRLEN], bbuf[ALBM_ADDRSTRLEN];

	for (size_t j = 0; j < i && a->has_listen; j++) {
		const struct albmd_cfg_service *b = &cfg->services[j];
		if (!b->has_listen)
			continue;
		if (albm_addr_equal(&a->listen, &b->listen))
			cfg_error(ctx, a->line,
				  "service '%s' listens on the address of service '%s'", a->name,
				  b->name);
		else if (a->mode == ALBMD_MODE_PROXY && b->mode == ALBMD_MODE_PROXY &&
			 listen_overlap(&a->listen, &b->listen))
			cfg_error(ctx, a->line,
				  "service '%s' listens on %s, which overlaps %s of "
				  "service '%s' (line %d)",
				  a->name, albm_addr_format(&a->listen, abuf, sizeof(abuf)),
				  albm_addr_format(&b->listen, bbuf, sizeof(bbuf)), b->name,
				  b->line);
	}
	if (cfg->has_http && a->has_listen && a->mode == ALBMD_MODE_PROXY &&
	    (albm_addr_equal(&cfg->http, &a->listen) || listen_overlap(&cfg->http, &a->listen)))
		cfg_error(ctx, cfg->http_line,
			  "control http %s overlaps %s of service '%s' (line %d)",
			  albm_addr_format(&cfg->http, abuf, sizeof(abuf)),
			  albm_addr_format(&a->listen, bbuf, sizeof(bbuf)), a->name, a->line);
}

/* Checks of the whole file, after every directive was applied. */
static void cfg_validate(struct cfg_ctx *ctx, struct albmd_config *cfg)
{
	char abuf[ALBM_ADDRSTRLEN];

	if (cfg->has_ha && cfg->has_agents && albm_addr_equal(&cfg->ha.listen, &cfg->agents_listen))
		cfg_error(ctx, cfg->ha_line,
			  "ha listen %s is the agents' listen address (both UDP)",
			  albm_addr_format(&cfg->ha.listen, abuf, sizeof(abuf)));
	cfg_check_http(ctx, cfg);
	for (size_t i = 0; i < cfg->nservices; i++) {
		cfg_service_validate(ctx, &cfg->services[i]);
		cfg_check_listen(ctx, cfg, i);
		cfg->services[i].adaptive.report_timeout_ms = cfg->agent_timeout_ms;
		cfg->services[i].in_group = cfg->has_ha;
		cfg->services[i].flow_sync = cfg->has_ha && cfg->ha.flow_sync;
		cfg->services[i].table_interval_ms = cfg->ha.table_interval_ms;
		cfg->services[i].table_guard_ms = cfg->ha.table_guard_ms;
	}
}

int albmd_config_parse(const char *path, const char *text, size_t len, struct albmd_config *out,
		       char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .path = path, .err = err, .errlen = errlen };
	struct cfg_node root;

	if (err && errlen)
		err[0] = '\0';
	cfg_defaults(out, path);
	if (cfg_tree_parse(text, len, &root, &ctx) == 0) {
		cfg_apply_block(&ctx, &root, CFG_MAIN, out, NULL);
		cfg_validate(&ctx, out);
	}
	cfg_node_free(&root);
	if (ctx.nerr) {
		if (ctx.nerr > CFG_MAX_ERRORS && err && ctx.used + 1 < errlen)
			snprintf(err + ctx.used, errlen - ctx.used, "\n%s: %d more errors", path,
				 ctx.nerr - CFG_MAX_ERRORS);
		albmd_config_free(out);
		return -EINVAL;
	}
	return 0;
}

int albmd_config_load(const char *path, struct albmd_config *out, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_MAX_SIZE) {
		albm_seterr(err, errlen, "%s: not a regular file of at most %u bytes", path,
			    CFG_MAX_SIZE);
		close(fd);
		return -EINVAL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = read(fd, text, (size_t)st.st_size);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		albm_seterr(err, errlen, "%s: %s", path, strerror(-rc));
		free(text);
		return rc;
	}
	rc = albmd_config_parse(path, text, (size_t)n, out, err, errlen);
	free(text);
	return rc;
}

void albmd_config_free(struct albmd_config *cfg)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		free(cfg->services[i].servers);
	free(cfg->services);
	cfg->services = NULL;
	cfg->nservices = 0;
}

const struct albmd_cfg_service *albmd_config_find_service(const struct albmd_config *cfg,
							  const char *name)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		if (!strcmp(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}
