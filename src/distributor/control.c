/* ALBM: albmd's control commands — parse, validate, run; the reply format
 *
 * Protocol (docs/albmd.md): one command per line, at most ALBMD_CTL_LINE_MAX bytes,
 * words separated by spaces.  Reply: "OK" or "ERR <message>", body lines, and an
 * empty line that ends the reply.  Bodies never contain an empty line (JSON is
 * sent compact, on one line).
 */
#define LOG_COMPONENT "control"
#include "distributor/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/reload.h"
#include "distributor/service.h"
#include "distributor/state.h"

/* What a command produces: text lines, or a JSON view that is serialised after the
 * lock is released (a 1,000-server `list --json` takes milliseconds to dump, and
 * proxied connections wait for d->lock meanwhile). */
struct ctl_reply {
	struct albmd_buf body;
	json_t *json;
	bool cache; /* keep the dumped view in view_cache when it is big */
};

/*
 * A big `list --json` (a 1,000-server service: 600 KB, milliseconds to build and dump,
 * all of it on the main thread that also relays worker 0's connections) is reused for
 * VIEW_CACHE_MS, so that clients polling or pipelining it cost a copy each.  Only views
 * of VIEW_CACHE_MIN bytes or more are kept: small installations always get a fresh
 * one.  Any command that changes state drops it, so a script's `drain` is seen by its
 * next `list --json`; what agents and health checks change may be that much late.
 */
#define VIEW_CACHE_MS  100
#define VIEW_CACHE_MIN (64u << 10)
static struct {
	char *s;
	size_t len;
	uint64_t at_ms;
} view_cache;

static void view_cache_drop(void)
{
	free(view_cache.s);
	view_cache.s = NULL;
	view_cache.len = 0;
}

struct ctl_cmd {
	const char *name;
	int min_args, max_args; /* after the command word */
	const char *usage;
	/* Runs with d->lock held (unless nolock); error message into err. */
	int (*run)(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		   size_t errlen);
	bool nolock;
	bool readonly; /* changes nothing: the view cache stays */
};

static int find_server(struct albmd *d, char **argv, struct albmd_service **svc,
		       struct albmd_server **srv, char *err, size_t errlen)
{
	*svc = albmd_service_find(d, argv[1]);
	if (!*svc) {
		albm_seterr(err, errlen, "no service '%s'", argv[1]);
		return -ENOENT;
	}
	if (!srv)
		return 0;
	*srv = albmd_server_find(*svc, argv[2]);
	if (!*srv) {
		albm_seterr(err, errlen, "no server '%s' in service '%s'", argv[2], argv[1]);
		return -ENOENT;
	}
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out, const char *what, char *err,
		      size_t errlen)
{
	if (albm_parse_u64(s, out) < 0 || *out > max) {
		albm_seterr(err, errlen, "bad %s '%s' (0-%llu)", what, s, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

/* Under the lock: keep the snapshot; albmd_control_exec() dumps it unlocked. */
static void put_json(struct ctl_reply *r, json_t *j)
{
	json_decref(r->json);
	r->json = j;
}

static void dump_json(struct ctl_reply *r)
{
	size_t len;
	char *s;

	if (!r->json)
		return;
	s = json_dumps(r->json, JSON_COMPACT);
	json_decref(r->json);
	r->json = NULL;
	if (!s)
		return;
	len = strlen(s);
	albmd_buf_append(&r->body, s, len);
	albmd_buf_append(&r->body, "\n", 1);
	if (r->cache && len >= VIEW_CACHE_MIN) {
		view_cache_drop();
		view_cache.s = s;
		view_cache.len = len;
		view_cache.at_ms = albm_now_ms();
		return;
	}
	free(s);
}

static bool has_json_flag(char **argv, int argc)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "json"))
			return true;
	return false;
}

static int cmd_list(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		    size_t errlen)
{
	if (argc == 2 && !has_json_flag(argv, argc)) {
		albm_seterr(err, errlen, "usage: list [--json]");
		return -EINVAL;
	}
	if (!has_json_flag(argv, argc)) {
		albmd_state_table(d, &r->body);
	} else if (view_cache.s && albm_now_ms() - view_cache.at_ms < VIEW_CACHE_MS) {
		albmd_buf_append(&r->body, view_cache.s, view_cache.len);
		albmd_buf_append(&r->body, "\n", 1);
	} else {
		put_json(r, albmd_state_json(d));
		r->cache = true;
	}
	return 0;
}

static int cmd_stats(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		     size_t errlen)
{
	json_t *j = albmd_stats_json(d);
	const char *k;
	json_t *v;

	(void)err;
	(void)errlen;
	if (has_json_flag(argv, argc)) {
		put_json(r, j);
		return 0;
	}
	json_object_foreach(j, k, v)
	{
		if (json_is_integer(v)) {
			albmd_buf_printf(&r->body, "%-20s %lld\n", k,
					 (long long)json_integer_value(v));
		} else if (json_is_object(v)) {
			const char *k2;
			json_t *v2;
			json_object_foreach(v, k2, v2) albmd_buf_printf(
				&r->body, "%s.%-*s %lld\n", k, (int)(19 - strlen(k)), k2,
				(long long)json_integer_value(v2));
		}
	}
	json_decref(j);
	return 0;
}

static int cmd_weight(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		      size_t errlen)
{
	struct albmd_service *svc;
	struct albmd_server *srv;
	uint64_t w;

	(void)argc;
	if (find_server(d, argv, &svc, &srv, err, errlen) < 0 ||
	    parse_uint(argv[3], 65535, &w, "weight", err, errlen) < 0)
		return -EINVAL;
	albmd_server_set_weight(d, srv, (int)w);
	albmd_buf_printf(&r->body, "%s/%s weight %d\n", svc->name, srv->name, (int)w);
	LOG_INFO("service '%s': server '%s' weight %d", svc->name, srv->name, (int)w);
	return 0;
}

static int cmd_admin(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		     size_t errlen)
{
	struct albmd_service *svc;
	struct albmd_server *srv;
	enum albmd_admin a = !strcmp(argv[0], "drain")     ? ALBMD_ADMIN_DRAIN
			     : !strcmp(argv[0], "disable") ? ALBMD_ADMIN_DISABLED
							   : ALBMD_ADMIN_ENABLED;

	(void)argc;
	if (find_server(d, argv, &svc, &srv, err, errlen) < 0)
		return -ENOENT;
	albmd_server_set_admin(d, srv, a);
	albmd_buf_printf(&r->body, "%s/%s %s\n", svc->name, srv->name, albmd_admin_name(a));
	LOG_INFO("service '%s': server '%s' %s", svc->name, srv->name, albmd_admin_name(a));
	return 0;
}

static int cmd_add(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		   size_t errlen)
{
	struct albmd_cfg_server cs = { .weight = 1 };
	struct albmd_service *svc;
	struct albmd_server *srv;
	uint64_t v;
	char e[160];

	if (find_server(d, argv, &svc, NULL, err, errlen) < 0)
		return -ENOENT;
	if (!albmd_name_valid(argv[2])) {
		albm_seterr(err, errlen, "bad server name '%s'", argv[2]);
		return -EINVAL;
	}
	snprintf(cs.name, sizeof(cs.name), "%s", argv[2]);
	if (albm_addr_parse(argv[3], &cs.addr, e, sizeof(e)) < 0) {
		albm_seterr(err, errlen, "%s", e);
		return -EINVAL;
	}
	for (int i = 4; i < argc; i += 2) {
		if (i + 1 >= argc || (strcmp(argv[i], "weight") && strcmp(argv[i], "maxconn"))) {
			albm_seterr(err, errlen,
				    "usage: add SERVICE SERVER ADDR:PORT [weight N] "
				    "[maxconn N]");
			return -EINVAL;
		}
		if (parse_uint(argv[i + 1], argv[i][0] == 'w' ? 65535 : 10000000, &v, argv[i], err,
			       errlen) < 0)
			return -EINVAL;
		if (argv[i][0] == 'w')
			cs.weight = (int)v;
		else
			cs.maxconn = (uint32_t)v;
	}
	if (svc->sched.ndests >= ALBMD_MAX_SERVERS) {
		albm_seterr(err, errlen, "service '%s' has %d servers already", svc->name,
			    ALBMD_MAX_SERVERS);
		return -ENOSPC;
	}
	if (!(srv = albmd_server_add(d, svc, &cs, err, errlen)))
		return -EINVAL;
	albmd_server_attach(d, srv); /* its agent and health check, as a reload would */
	albmd_buf_printf(&r->body, "%s/%s added\n", svc->name, cs.name);
	LOG_INFO("service '%s': server '%s' added", svc->name, cs.name);
	return 0;
}

static int cmd_remove(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		      size_t errlen)
{
	struct albmd_service *svc;
	struct albmd_server *srv;

	(void)argc;
	if (find_server(d, argv, &svc, &srv, err, errlen) < 0)
		return -ENOENT;
	albmd_buf_printf(&r->body, "%s/%s removed\n", svc->name, srv->name);
	LOG_INFO("service '%s': server '%s' removed", svc->name, srv->name);
	albmd_server_detach(d, srv);
	albmd_server_remove(d, srv);
	return 0;
}

static int cmd_scheduler(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
			 size_t errlen)
{
	struct albmd_service *svc;

	(void)argc;
	if (find_server(d, argv, &svc, NULL, err, errlen) < 0)
		return -ENOENT;
	if (albmd_service_set_scheduler(d, svc, argv[2], err, errlen) < 0)
		return -EINVAL;
	albmd_buf_printf(&r->body, "%s scheduler %s\n", svc->name, argv[2]);
	return 0;
}

static int cmd_reload(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		      size_t errlen)
{
	(void)argv;
	(void)argc;
	if (albmd_reload(d, err, errlen) < 0)
		return -EINVAL;
	albmd_buf_printf(&r->body, "reloaded %s\n", d->cfg.path);
	return 0;
}

static int cmd_ping(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		    size_t errlen)
{
	(void)d, (void)argv, (void)argc, (void)err, (void)errlen;
	albmd_buf_printf(&r->body, "pong\n");
	return 0;
}

static int cmd_help(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		    size_t errlen);

static const struct ctl_cmd ctl_cmds[] = {
	{ "list", 0, 1, "list [--json]", cmd_list, false, true },
	{ "stats", 0, 1, "stats [--json]", cmd_stats, false, true },
	{ "weight", 3, 3, "weight SERVICE SERVER N", cmd_weight, false, false },
	{ "set-weight", 3, 3, "set-weight SERVICE SERVER N", cmd_weight, false, false },
	{ "drain", 2, 2, "drain SERVICE SERVER", cmd_admin, false, false },
	{ "disable", 2, 2, "disable SERVICE SERVER", cmd_admin, false, false },
	{ "enable", 2, 2, "enable SERVICE SERVER", cmd_admin, false, false },
	{ "add", 3, 7, "add SERVICE SERVER ADDR:PORT [weight N] [maxconn N]", cmd_add, false,
	  false },
	{ "remove", 2, 2, "remove SERVICE SERVER", cmd_remove, false, false },
	{ "scheduler", 2, 2, "scheduler SERVICE NAME", cmd_scheduler, false, false },
	{ "set-scheduler", 2, 2, "set-scheduler SERVICE NAME", cmd_scheduler, false, false },
	{ "reload", 0, 0, "reload", cmd_reload, true, false },
	{ "ping", 0, 0, "ping", cmd_ping, true, true },
	{ "help", 0, 0, "help", cmd_help, true, true },
};

static int cmd_help(struct albmd *d, char **argv, int argc, struct ctl_reply *r, char *err,
		    size_t errlen)
{
	(void)d, (void)argv, (void)argc, (void)err, (void)errlen;
	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		albmd_buf_printf(&r->body, "%s\n", ctl_cmds[i].usage);
	return 0;
}

/* Split line into words (modifies buf); -E2BIG for too many, -EINVAL for bytes
 * that have no place in a command. */
static int ctl_split(char *buf, char **argv, int *argc)
{
	char *p = buf;

	*argc = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (!*p)
			return 0;
		if (*argc == ALBMD_CTL_MAX_ARGS)
			return -E2BIG;
		argv[(*argc)++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				return -EINVAL;
			p++;
		}
	}
}

static void reply(struct albmd_buf *out, bool ok, const char *err, struct albmd_buf *body)
{
	const char *nl = ok ? NULL : strchr(err, '\n');

	if (ok)
		albmd_buf_printf(out, "OK\n");
	else if (!nl)
		albmd_buf_printf(out, "ERR %s\n", err[0] ? err : "failed");
	else /* a multi-line message (config errors): the first line, the rest as body */
		albmd_buf_printf(out, "ERR %.*s\n%s\n", (int)(nl - err), err, nl + 1);
	if (body->len) {
		/* no empty line may appear inside a body: it ends the reply; copy the runs
		 * between the surplus newlines (a JSON view is one long line) */
		size_t i = 0;
		while (i < body->len) {
			const char *lf = memchr(body->p + i, '\n', body->len - i);
			size_t end = lf ? (size_t)(lf - body->p) + 1 : body->len;
			if (!(end == i + 1 && (i == 0 || body->p[i - 1] == '\n')))
				albmd_buf_append(out, body->p + i, end - i);
			i = end;
		}
		if (body->p[body->len - 1] != '\n')
			albmd_buf_append(out, "\n", 1);
	}
	albmd_buf_append(out, "\n", 1);
}

bool albmd_control_exec(struct albmd *d, const char *line, size_t len, struct albmd_buf *out)
{
	char buf[ALBMD_CTL_LINE_MAX + 1], err[512] = "", *argv[ALBMD_CTL_MAX_ARGS];
	struct ctl_reply r = { 0 };
	const struct ctl_cmd *cmd = NULL;
	int argc = 0, rc;

	d->st.control_commands++;
	if (len > ALBMD_CTL_LINE_MAX || memchr(line, '\0', len)) {
		snprintf(err, sizeof(err), "command line too long or contains NUL");
		goto done;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	rc = ctl_split(buf, argv, &argc);
	if (rc < 0 || argc == 0) {
		snprintf(err, sizeof(err),
			 rc == -E2BIG ? "too many words"
			 : rc < 0     ? "bad character in command"
				      : "empty command (try help)");
		goto done;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds) && !cmd; i++)
		if (!strcmp(ctl_cmds[i].name, argv[0]))
			cmd = &ctl_cmds[i];
	if (!cmd) {
		snprintf(err, sizeof(err), "unknown command '%.64s' (try help)", argv[0]);
		goto done;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		snprintf(err, sizeof(err), "usage: %s", cmd->usage);
		goto done;
	}
	if (!cmd->nolock)
		albmd_lock(d);
	rc = cmd->run(d, argv, argc, &r, err, sizeof(err));
	if (!cmd->nolock)
		albmd_unlock(d);
	dump_json(&r);
	if (!cmd->readonly)
		view_cache_drop();
	if (rc < 0 && !err[0])
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	if (rc == 0)
		err[0] = '\0';
done:
	if (err[0])
		d->st.control_errors++;
	reply(out, !err[0], err, &r.body);
	albmd_buf_free(&r.body);
	return !err[0];
}
