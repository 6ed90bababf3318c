/* ALBM: albmd config parser — nginx-style blocks, directives ending in ';', '#' comments
 *
 * Two passes: the tokenizer and tree builder (cfg_tree_*) turn the text into
 * directives with their arguments and line numbers, then the interpreter below maps
 * each directive onto struct albmd_config and validates it.  Errors accumulate as
 * "file:line: message" lines so that `albmd --check` shows all of them at once.
 */
#include "distributor/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/util.h"
#include "distributor/dataplane.h"
#include "sched/sched.h"

#define CFG_MAX_ARGS 32
#define CFG_MAX_TOKEN 1024
#define CFG_MAX_SIZE (4u << 20) /* a config larger than 4 MiB is a mistake */
#define CFG_MAX_ERRORS 20

/* ---- errors ---- */

struct cfg_ctx {
	const char *path;
	char *err;
	size_t errlen, used;
	int nerr;
};

static void __attribute__((format(printf, 3, 4)))
cfg_error(struct cfg_ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	ctx->nerr++;
	if (!ctx->err || ctx->nerr > CFG_MAX_ERRORS || ctx->used + 1 >= ctx->errlen)
		return;
	n = snprintf(ctx->err + ctx->used, ctx->errlen - ctx->used, "%s%s:%d: ",
		     ctx->used ? "\n" : "", ctx->path, line);
	if (n > 0)
		ctx->used = ALBM_MIN(ctx->used + (size_t)n, ctx->errlen - 1);
	va_start(ap, fmt);
	n = vsnprintf(ctx->err + ctx->used, ctx->errlen - ctx->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		ctx->used = ALBM_MIN(ctx->used + (size_t)n, ctx->errlen - 1);
}

/* ---- tokenizer and directive tree ---- */

struct cfg_node {
	char *args[CFG_MAX_ARGS];
	int nargs, line;
	bool block;
	struct cfg_node *kids;
	size_t nkids, capkids;
};

struct cfg_lexer {
	const char *p, *end;
	int line;
};

enum tok { TOK_EOF, TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_ERROR };

static void lex_skip_space(struct cfg_lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)*lx->p)) {
			lx->p++;
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
}

static enum tok lex_quoted(struct cfg_lexer *lx, char *buf, struct cfg_ctx *ctx)
{
	size_t n = 0;
	int line = lx->line;

	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		if (c == '\n')
			lx->line++;
		if (c == '\0' || n + 1 >= CFG_MAX_TOKEN) {
			cfg_error(ctx, line, c ? "quoted string too long" : "NUL byte in string");
			return TOK_ERROR;
		}
		buf[n++] = c;
	}
	if (lx->p >= lx->end) {
		cfg_error(ctx, line, "unterminated quoted string");
		return TOK_ERROR;
	}
	lx->p++;
	buf[n] = '\0';
	return TOK_WORD;
}

/* Next token; a word is copied into buf (CFG_MAX_TOKEN bytes). */
static enum tok lex_next(struct cfg_lexer *lx, char *buf, struct cfg_ctx *ctx)
{
	size_t n = 0;

	lex_skip_space(lx);
	if (lx->p >= lx->end)
		return TOK_EOF;
	switch (*lx->p) {
	case ';': lx->p++; return TOK_SEMI;
	case '{': lx->p++; return TOK_OPEN;
	case '}': lx->p++; return TOK_CLOSE;
	case '"': return lex_quoted(lx, buf, ctx);
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
	       !(*lx->p && strchr(";{}#\"", *lx->p))) {
		if ((unsigned char)*lx->p < 0x20) {
			cfg_error(ctx, lx->line, "control character 0x%02x in config",
				  (unsigned char)*lx->p);
			return TOK_ERROR;
		}
		if (n + 1 >= CFG_MAX_TOKEN) {
			cfg_error(ctx, lx->line, "word too long");
			return TOK_ERROR;
		}
		buf[n++] = *lx->p++;
	}
	buf[n] = '\0';
	return TOK_WORD;
}

static void cfg_node_free(struct cfg_node *n)
{
	for (int i = 0; i < n->nargs; i++)
		free(n->args[i]);
	for (size_t i = 0; i < n->nkids; i++)
		cfg_node_free(&n->kids[i]);
	free(n->kids);
}

static struct cfg_node *cfg_node_push(struct cfg_node *parent)
{
	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 8;
		parent->kids = xrealloc(parent->kids, parent->capkids * sizeof(*parent->kids));
	}
	memset(&parent->kids[parent->nkids], 0, sizeof(parent->kids[0]));
	return &parent->kids[parent->nkids++];
}

/* Parse statements into parent until '}' (depth > 0) or EOF (depth 0). */
static int cfg_tree_parse(struct cfg_lexer *lx, struct cfg_node *parent, int depth,
			  struct cfg_ctx *ctx)
{
	char *buf = xmalloc(CFG_MAX_TOKEN);
	struct cfg_node *cur = NULL;
	int rc = -EINVAL;

	for (;;) {
		enum tok t = lex_next(lx, buf, ctx);
		if (t == TOK_ERROR)
			goto out;
		if (t == TOK_WORD) {
			if (!cur) {
				cur = cfg_node_push(parent);
				cur->line = lx->line;
			}
			if (cur->nargs == CFG_MAX_ARGS) {
				cfg_error(ctx, lx->line, "too many arguments to '%s'", cur->args[0]);
				goto out;
			}
			cur->args[cur->nargs++] = xstrdup(buf);
			continue;
		}
		if (t == TOK_SEMI) {
			if (!cur) {
				cfg_error(ctx, lx->line, "unexpected ';'");
				goto out;
			}
			cur = NULL;
			continue;
		}
		if (t == TOK_OPEN) {
			if (!cur) {
				cfg_error(ctx, lx->line, "unexpected '{'");
				goto out;
			}
			if (depth >= 1) {
				cfg_error(ctx, cur->line, "block '%s' cannot be nested here", cur->args[0]);
				goto out;
			}
			cur->block = true;
			if (cfg_tree_parse(lx, cur, depth + 1, ctx) < 0)
				goto out;
			cur = NULL;
			continue;
		}
		if (cur) { /* '}' or EOF right after words */
			cfg_error(ctx, cur->line, "directive '%s' is not terminated by ';'",
				  cur->args[0]);
			goto out;
		}
		if (t == TOK_CLOSE && depth == 0) {
			cfg_error(ctx, lx->line, "unexpected '}'");
			goto out;
		}
		if (t == TOK_EOF && depth > 0) {
			cfg_error(ctx, parent->line, "block '%s' is not closed by '}'", parent->args[0]);
			goto out;
		}
		rc = 0;
		goto out;
	}
out:
	free(buf);
	return rc;
}

/* ---- value helpers ---- */

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

static bool want_args(struct cfg_ctx *ctx, const struct cfg_node *n, int min, int max)
{
	if (n->block) {
		cfg_error(ctx, n->line, "'%s' does not take a block", n->args[0]);
		return false;
	}
	if (n->nargs - 1 < min || n->nargs - 1 > max) {
		if (min == max)
			cfg_error(ctx, n->line, "'%s' takes %d argument%s", n->args[0], min,
				  min == 1 ? "" : "s");
		else
			cfg_error(ctx, n->line, "'%s' takes %d to %d arguments", n->args[0], min, max);
		return false;
	}
	return true;
}

static int get_uint(struct cfg_ctx *ctx, int line, const char *what, const char *s,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (albm_parse_u64(s, &v) < 0 || v < min || v > max) {
		cfg_error(ctx, line, "bad %s '%s' (expected an integer %llu-%llu)", what, s,
			  (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int get_duration(struct cfg_ctx *ctx, int line, const char *what, const char *s,
			uint64_t *out)
{
	char e[128];

	if (albm_duration_parse_ms(s, out, e, sizeof(e)) < 0) {
		cfg_error(ctx, line, "bad %s: %s", what, e);
		return -EINVAL;
	}
	return 0;
}

static int get_double(struct cfg_ctx *ctx, int line, const char *what, const char *s,
		      double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		cfg_error(ctx, line, "bad %s '%s' (expected a number %g-%g)", what, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* "10%" or "2.5%" -> 0.10 / 0.025; the sign is required so that "10" cannot mean 10 %
 * to one reader and 1000 % (a fraction of 10) to another. */
static int get_percent(struct cfg_ctx *ctx, int line, const char *what, const char *s,
		       double max_pct, double *out)
{
	size_t n = strlen(s);
	char *end = NULL;
	double v;

	errno = 0;
	v = n >= 2 && strspn(s, "0123456789.") == n - 1 && s[n - 1] == '%' ? strtod(s, &end) : -1;
	if (v < 0 || errno || end != s + n - 1 || !(v <= max_pct)) {
		cfg_error(ctx, line, "bad %s '%s' (expected a percentage 0%%-%g%%, e.g. 10%%)", what,
			  s, max_pct);
		return -EINVAL;
	}
	*out = v / 100.0;
	return 0;
}

/* The directive's one argument, one of words[0..nwords-1]: its index, or -1 after
 * an error "NAME takes a, b or c" (or the argument count's). */
static int get_keyword(struct cfg_ctx *ctx, const struct cfg_node *n, const char *const *words,
		       size_t nwords)
{
	char list[128] = "";
	size_t len = 0;

	if (!want_args(ctx, n, 1, 1))
		return -1;
	for (size_t i = 0; i < nwords; i++)
		if (!strcmp(n->args[1], words[i]))
			return (int)i;
	for (size_t i = 0; i < nwords && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					!i ? "" : i + 1 < nwords ? ", " : " or ", words[i]);
	cfg_error(ctx, n->line, "%s takes %s", n->args[0], list);
	return -1;
}

static int get_onoff(struct cfg_ctx *ctx, const struct cfg_node *n, bool *out)
{
	if (!strcmp(n->args[1], "on"))
		*out = true;
	else if (!strcmp(n->args[1], "off"))
		*out = false;
	else {
		cfg_error(ctx, n->line, "'%s' takes 'on' or 'off', not '%s'", n->args[0], n->args[1]);
		return -EINVAL;
	}
	return 0;
}

static int get_addr(struct cfg_ctx *ctx, int line, const char *what, const char *s,
		    struct albm_addr *out)
{
	char e[160];

	if (albm_addr_parse(s, out, e, sizeof(e)) < 0) {
		cfg_error(ctx, line, "bad %s: %s", what, e);
		return -EINVAL;
	}
	return 0;
}

static int get_path(struct cfg_ctx *ctx, const struct cfg_node *n, char *out, size_t len)
{
	if (!n->args[1][0] || strlen(n->args[1]) >= len) {
		cfg_error(ctx, n->line, "'%s': path empty or longer than %zu characters", n->args[0],
			  len - 1);
		return -EINVAL;
	}
	snprintf(out, len, "%s", n->args[1]);
	return 0;
}

/* ---- agents { } and control { } ---- */

static void cfg_agents(struct cfg_ctx *ctx, const struct cfg_node *blk, struct albmd_config *cfg)
{
	bool has_key = false, has_listen = false;

	cfg->has_agents = true;
	for (size_t i = 0; i < blk->nkids; i++) {
		const struct cfg_node *n = &blk->kids[i];
		const char *d = n->args[0];
		if (!strcmp(d, "listen")) {
			if (want_args(ctx, n, 1, 1))
				has_listen = !get_addr(ctx, n->line, "agents listen address", n->args[1],
						       &cfg->agents_listen);
		} else if (!strcmp(d, "key-file")) {
			if (want_args(ctx, n, 1, 1))
				has_key = !get_path(ctx, n, cfg->key_file, sizeof(cfg->key_file));
			cfg->key_file_line = n->line;
		} else if (!strcmp(d, "timeout")) {
			if (want_args(ctx, n, 1, 1) &&
			    !get_duration(ctx, n->line, "agent timeout", n->args[1],
					  &cfg->agent_timeout_ms) && cfg->agent_timeout_ms < 10)
				cfg_error(ctx, n->line, "agent timeout must be at least 10ms");
		} else if (!strcmp(d, "max-age")) {
			if (want_args(ctx, n, 1, 1))
				get_duration(ctx, n->line, "report max-age", n->args[1],
					     &cfg->report_max_age_ms);
		} else {
			cfg_error(ctx, n->line, "unknown directive '%s' in agents block", d);
		}
	}
	if (!has_listen)
		cfg_error(ctx, blk->line, "agents block needs 'listen ADDR:PORT;'");
	if (!has_key)
		cfg_error(ctx, blk->line, "agents block needs 'key-file PATH;' (reports are signed)");
}

static void cfg_control(struct cfg_ctx *ctx, const struct cfg_node *blk, struct albmd_config *cfg)
{
	for (size_t i = 0; i < blk->nkids; i++) {
		const struct cfg_node *n = &blk->kids[i];
		const char *d = n->args[0];
		if (!strcmp(d, "socket")) {
			if (want_args(ctx, n, 1, 1))
				get_path(ctx, n, cfg->control_socket, 108); /* sun_path */
		} else if (!strcmp(d, "http")) {
			uint64_t port;
			if (!want_args(ctx, n, 1, 1))
				continue;
			/* a bare port means loopback: the admin API is not for the world */
			if (albm_parse_u64(n->args[1], &port) == 0) {
				char text[32];
				snprintf(text, sizeof(text), "127.0.0.1:%llu", (unsigned long long)port);
				cfg->has_http = !get_addr(ctx, n->line, "http address", text, &cfg->http);
			} else {
				cfg->has_http = !get_addr(ctx, n->line, "http address", n->args[1],
							  &cfg->http);
			}
		} else {
			cfg_error(ctx, n->line, "unknown directive '%s' in control block", d);
		}
	}
}

/* ---- service NAME { } ---- */

static void cfg_server(struct cfg_ctx *ctx, const struct cfg_node *n, struct albmd_cfg_service *svc)
{
	struct albmd_cfg_server *s;
	char e[160];
	uint64_t v;

	if (n->block || n->nargs < 3) {
		cfg_error(ctx, n->line, "usage: server NAME ADDRESS [weight N] [maxconn N] [down];");
		return;
	}
	if (!albmd_name_valid(n->args[1])) {
		cfg_error(ctx, n->line, "bad server name '%s' (1-%d of A-Z a-z 0-9 . _ -)", n->args[1],
			  ALBM_NAME_MAX - 1);
		return;
	}
	for (size_t i = 0; i < svc->nservers; i++) {
		if (!strcmp(svc->servers[i].name, n->args[1])) {
			cfg_error(ctx, n->line, "server '%s' already defined at line %d", n->args[1],
				  svc->servers[i].line);
			return;
		}
	}
	if (svc->nservers >= ALBMD_MAX_SERVERS) {
		cfg_error(ctx, n->line, "too many servers (at most %d)", ALBMD_MAX_SERVERS);
		return;
	}
	svc->servers = xrealloc(svc->servers, (svc->nservers + 1) * sizeof(*svc->servers));
	s = &svc->servers[svc->nservers];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", n->args[1]);
	s->weight = 1;
	s->line = n->line;
	if (albm_addr_parse(n->args[2], &s->addr, e, sizeof(e)) == 0) {
		s->has_port = true;
	} else if (albm_addr_parse_host(n->args[2], &s->addr, e, sizeof(e)) < 0) {
		cfg_error(ctx, n->line, "server '%s': bad address '%s'", s->name, n->args[2]);
		return;
	}
	for (int i = 3; i < n->nargs; i++) {
		const char *k = n->args[i];
		if (!strcmp(k, "down")) {
			s->disabled = true;
			continue;
		}
		if (i + 1 >= n->nargs) {
			cfg_error(ctx, n->line, "server '%s': '%s' needs a value", s->name, k);
			return;
		}
		if (!strcmp(k, "weight")) {
			if (get_uint(ctx, n->line, "weight", n->args[++i], 0, 65535, &v) < 0)
				return;
			s->weight = (int)v;
		} else if (!strcmp(k, "maxconn")) {
			if (get_uint(ctx, n->line, "maxconn", n->args[++i], 0, 10000000, &v) < 0)
				return;
			s->maxconn = (uint32_t)v;
		} else {
			cfg_error(ctx, n->line, "server '%s': unknown option '%s'", s->name, k);
			return;
		}
	}
	svc->nservers++;
}

static void cfg_health(struct cfg_ctx *ctx, const struct cfg_node *n, struct albmd_cfg_health *h)
{
	uint64_t v;

	if (n->block || n->nargs < 2 || strcmp(n->args[1], "tcp")) {
		cfg_error(ctx, n->line, "usage: health-check tcp [interval T] [timeout T] [rise N] "
			  "[fall N];");
		return;
	}
	h->enabled = true;
	for (int i = 2; i < n->nargs; i += 2) {
		const char *k = n->args[i], *val = i + 1 < n->nargs ? n->args[i + 1] : NULL;
		if (!val) {
			cfg_error(ctx, n->line, "health-check: '%s' needs a value", k);
			return;
		}
		if (!strcmp(k, "interval")) {
			if (!get_duration(ctx, n->line, "health-check interval", val, &h->interval_ms) &&
			    h->interval_ms < 10)
				cfg_error(ctx, n->line, "health-check interval must be at least 10ms");
		} else if (!strcmp(k, "timeout")) {
			if (!get_duration(ctx, n->line, "health-check timeout", val, &h->timeout_ms) &&
			    h->timeout_ms < 1)
				cfg_error(ctx, n->line, "health-check timeout must be at least 1ms");
		} else if (!strcmp(k, "rise")) {
			if (!get_uint(ctx, n->line, "rise", val, 1, 100, &v))
				h->rise = (unsigned)v;
		} else if (!strcmp(k, "fall")) {
			if (!get_uint(ctx, n->line, "fall", val, 1, 100, &v))
				h->fall = (unsigned)v;
		} else {
			cfg_error(ctx, n->line, "health-check: unknown option '%s'", k);
		}
	}
}

static void cfg_slow_start(struct cfg_ctx *ctx, const struct cfg_node *n,
			   struct albm_adaptive_params *ap)
{
	if (n->block || n->nargs < 2 || (n->nargs - 2) % 2) {
		cfg_error(ctx, n->line, "usage: slow-start DURATION|off [aggression X] [min F];");
		return;
	}
	if (!strcmp(n->args[1], "off"))
		ap->slow_start_ms = 0;
	else
		get_duration(ctx, n->line, "slow-start", n->args[1], &ap->slow_start_ms);
	for (int i = 2; i + 1 < n->nargs; i += 2) {
		if (!strcmp(n->args[i], "aggression"))
			get_double(ctx, n->line, "aggression", n->args[i + 1], 0.05, 20,
				   &ap->slow_start_aggression);
		else if (!strcmp(n->args[i], "min"))
			get_double(ctx, n->line, "slow-start min", n->args[i + 1], 0, 1,
				   &ap->slow_start_min);
		else
			cfg_error(ctx, n->line, "slow-start: unknown option '%s'", n->args[i]);
	}
}

static void cfg_sched_flags(struct cfg_ctx *ctx, const struct cfg_node *n, uint32_t *flags)
{
	for (int i = 1; i < n->nargs; i++) {
		const char *f = n->args[i];
		if (!strcmp(f, "sh-fallback") || !strcmp(f, "mh-fallback") || !strcmp(f, "fallback"))
			*flags |= ALBM_SVC_F_SCHED_FALLBACK;
		else if (!strcmp(f, "sh-port") || !strcmp(f, "mh-port") || !strcmp(f, "port"))
			*flags |= ALBM_SVC_F_SCHED_PORT;
		else
			cfg_error(ctx, n->line, "unknown sched-flag '%s' (sh-fallback, sh-port, "
				  "mh-fallback, mh-port)", f);
	}
}

/* Directives with one simple value; returns false if d is not one of them. */
static bool cfg_service_simple(struct cfg_ctx *ctx, const struct cfg_node *n,
			       struct albmd_cfg_service *svc)
{
	const char *d = n->args[0];
	uint64_t v;

	if (!strcmp(d, "connect-timeout")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_duration(ctx, n->line, "connect-timeout", n->args[1], &svc->connect_timeout_ms) &&
		    !svc->connect_timeout_ms)
			cfg_error(ctx, n->line, "connect-timeout must be positive");
	} else if (!strcmp(d, "idle-timeout")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_duration(ctx, n->line, "idle-timeout", n->args[1], &svc->idle_timeout_ms) &&
		    !svc->idle_timeout_ms)
			cfg_error(ctx, n->line, "idle-timeout must be positive");
	} else if (!strcmp(d, "retries")) {
		if (want_args(ctx, n, 1, 1) && !get_uint(ctx, n->line, "retries", n->args[1], 0, 16, &v))
			svc->retries = (unsigned)v;
	} else if (!strcmp(d, "max-fails")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_uint(ctx, n->line, "max-fails", n->args[1], 0, 1000, &v))
			svc->max_fails = (unsigned)v;
	} else if (!strcmp(d, "fail-timeout")) {
		if (want_args(ctx, n, 1, 1))
			get_duration(ctx, n->line, "fail-timeout", n->args[1], &svc->fail_timeout_ms);
	} else if (!strcmp(d, "maxconn")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_uint(ctx, n->line, "maxconn", n->args[1], 0, 10000000, &v))
			svc->maxconn = (uint32_t)v;
	} else if (!strcmp(d, "rise-alpha")) {
		if (want_args(ctx, n, 1, 1))
			get_double(ctx, n->line, "rise-alpha", n->args[1], 0.001, 1,
				   &svc->adaptive.rise_alpha);
	} else if (!strcmp(d, "all-overloaded")) {
		static const char *const words[] = { "least-loaded", "refuse", "queue" };
		static const int policy[] = { ALBM_ALL_OVL_LEAST_LOADED, ALBM_ALL_OVL_REFUSE,
					      ALBM_ALL_OVL_QUEUE };
		int k = get_keyword(ctx, n, words, ARRAY_SIZE(words));
		if (k >= 0)
			svc->adaptive.all_overloaded_policy = policy[k];
	} else if (!strcmp(d, "mem-reserve")) {
		if (want_args(ctx, n, 1, 1))
			get_percent(ctx, n->line, "mem-reserve", n->args[1], 50,
				    &svc->adaptive.mem_reserve);
	} else if (!strcmp(d, "queue-timeout")) {
		if (!want_args(ctx, n, 1, 1))
			return true;
		if (!strcmp(n->args[1], "off") || !strcmp(n->args[1], "0"))
			svc->queue_timeout_ms = 0;
		else
			get_duration(ctx, n->line, "queue-timeout", n->args[1], &svc->queue_timeout_ms);
	} else if (!strcmp(d, "queue-max")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_uint(ctx, n->line, "queue-max", n->args[1], 0, 10000000, &v))
			svc->queue_max = (uint32_t)v;
	} else if (!strcmp(d, "interface")) {
		if (want_args(ctx, n, 1, 1)) {
			if (!n->args[1][0] || strlen(n->args[1]) >= IF_NAMESIZE || strchr(n->args[1], '/'))
				cfg_error(ctx, n->line, "bad interface name '%s'", n->args[1]);
			else
				snprintf(svc->interface, sizeof(svc->interface), "%s", n->args[1]);
		}
	} else if (!strcmp(d, "xdp-mode")) {
		static const char *const words[] = { "generic", "native" };
		static const enum albmd_xdp_mode mode[] = { ALBMD_XDP_GENERIC, ALBMD_XDP_NATIVE };
		int k = get_keyword(ctx, n, words, ARRAY_SIZE(words));
		if (k >= 0)
			svc->xdp_mode = mode[k];
	} else if (!strcmp(d, "proxy-protocol")) {
		static const char *const words[] = { "off", "v1", "v2" };
		static const enum albmd_proxy_proto pp[] = { ALBMD_PP_OFF, ALBMD_PP_V1, ALBMD_PP_V2 };
		int k = get_keyword(ctx, n, words, ARRAY_SIZE(words));
		if (k >= 0)
			svc->proxy_protocol = pp[k];
	} else {
		return false;
	}
	return true;
}

static void cfg_service_directive(struct cfg_ctx *ctx, const struct cfg_node *n,
				  struct albmd_cfg_service *svc)
{
	const char *d = n->args[0];

	if (!strcmp(d, "server")) {
		cfg_server(ctx, n, svc);
	} else if (!strcmp(d, "listen")) {
		if (want_args(ctx, n, 1, 1))
			svc->has_listen = !get_addr(ctx, n->line, "listen address", n->args[1],
						    &svc->listen);
	} else if (!strcmp(d, "mode")) {
		if (!want_args(ctx, n, 1, 1))
			return;
		int mode = albmd_dataplane_find(n->args[1]); /* the data-plane registry */
		char names[128];

		if (mode >= 0) {
			svc->mode = (enum albmd_mode)mode;
		} else {
			albmd_dataplane_names(names, sizeof(names));
			cfg_error(ctx, n->line, "unknown mode '%s' (%s)", n->args[1], names);
		}
	} else if (!strcmp(d, "scheduler")) {
		if (!want_args(ctx, n, 1, 1))
			return;
		if (!albm_sched_find(n->args[1]))
			cfg_error(ctx, n->line, "unknown scheduler '%s' (see albmd --list-schedulers)",
				  n->args[1]);
		else
			snprintf(svc->scheduler, sizeof(svc->scheduler), "%s", n->args[1]);
	} else if (!strcmp(d, "health-check")) {
		cfg_health(ctx, n, &svc->health);
	} else if (!strcmp(d, "slow-start")) {
		cfg_slow_start(ctx, n, &svc->adaptive);
	} else if (!strcmp(d, "sched-flags")) {
		cfg_sched_flags(ctx, n, &svc->sched_flags);
	} else if (!cfg_service_simple(ctx, n, svc)) {
		cfg_error(ctx, n->line, "unknown directive '%s' in service block", d);
	}
}

static void cfg_service_defaults(struct albmd_cfg_service *svc)
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

/* Checks that need the whole block (mode decides what a server address must be). */
static void cfg_service_validate(struct cfg_ctx *ctx, struct albmd_cfg_service *svc)
{
	if (!svc->has_listen)
		cfg_error(ctx, svc->line, "service '%s' needs 'listen ADDR:PORT;'", svc->name);
	if (svc->mode == ALBMD_MODE_DR && !svc->interface[0])
		cfg_error(ctx, svc->line, "service '%s': mode dr needs 'interface IFNAME;'", svc->name);
	if (svc->mode == ALBMD_MODE_PROXY && svc->interface[0])
		cfg_error(ctx, svc->line, "service '%s': 'interface' is only for mode dr", svc->name);
	if (svc->mode == ALBMD_MODE_PROXY && svc->xdp_mode != ALBMD_XDP_GENERIC)
		cfg_error(ctx, svc->line, "service '%s': 'xdp-mode' is only for mode dr", svc->name);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct albmd_cfg_server *s = &svc->servers[i];
		if (svc->mode == ALBMD_MODE_PROXY && !s->has_port)
			cfg_error(ctx, s->line, "server '%s': mode proxy needs ADDRESS:PORT", s->name);
		if (svc->mode == ALBMD_MODE_DR && s->has_port && svc->has_listen &&
		    albm_addr_port(&s->addr) != albm_addr_port(&svc->listen))
			cfg_error(ctx, s->line, "server '%s': mode dr cannot change the port (%u, "
				  "service listens on %u)", s->name, albm_addr_port(&s->addr),
				  albm_addr_port(&svc->listen));
		if (svc->mode == ALBMD_MODE_DR && svc->has_listen &&
		    albm_addr_family(&s->addr) != albm_addr_family(&svc->listen))
			cfg_error(ctx, s->line, "server '%s': mode dr needs the service's address family",
				  s->name);
		if (svc->mode == ALBMD_MODE_DR && !s->has_port && svc->has_listen)
			albm_addr_set_port(&s->addr, albm_addr_port(&svc->listen));
	}
}

static void cfg_service(struct cfg_ctx *ctx, const struct cfg_node *blk, struct albmd_config *cfg)
{
	struct albmd_cfg_service *svc;

	if (blk->nargs != 2) {
		cfg_error(ctx, blk->line, "usage: service NAME { ... }");
		return;
	}
	if (!albmd_name_valid(blk->args[1])) {
		cfg_error(ctx, blk->line, "bad service name '%s'", blk->args[1]);
		return;
	}
	if (albmd_config_find_service(cfg, blk->args[1])) {
		cfg_error(ctx, blk->line, "service '%s' defined twice", blk->args[1]);
		return;
	}
	if (cfg->nservices >= ALBMD_MAX_SERVICES) {
		cfg_error(ctx, blk->line, "too many services (at most %d)", ALBMD_MAX_SERVICES);
		return;
	}
	cfg->services = xrealloc(cfg->services, (cfg->nservices + 1) * sizeof(*cfg->services));
	svc = &cfg->services[cfg->nservices++];
	memset(svc, 0, sizeof(*svc));
	snprintf(svc->name, sizeof(svc->name), "%s", blk->args[1]);
	svc->line = blk->line;
	cfg_service_defaults(svc);
	for (size_t i = 0; i < blk->nkids; i++) {
		if (blk->kids[i].block)
			cfg_error(ctx, blk->kids[i].line, "unexpected block '%s' in service",
				  blk->kids[i].args[0]);
		else
			cfg_service_directive(ctx, &blk->kids[i], svc);
	}
	cfg_service_validate(ctx, svc);
}

/* ---- top level ---- */

static void cfg_global(struct cfg_ctx *ctx, const struct cfg_node *n, struct albmd_config *cfg)
{
	const char *d = n->args[0];
	uint64_t v;

	if (!strcmp(d, "workers")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_uint(ctx, n->line, "workers", n->args[1], 1, ALBMD_MAX_WORKERS, &v))
			cfg->workers = (unsigned)v;
	} else if (!strcmp(d, "maxconn")) {
		if (want_args(ctx, n, 1, 1) &&
		    !get_uint(ctx, n->line, "maxconn", n->args[1], 0, 10000000, &v))
			cfg->maxconn = (uint32_t)v;
	} else if (!strcmp(d, "drain-timeout")) {
		if (want_args(ctx, n, 1, 1))
			get_duration(ctx, n->line, "drain-timeout", n->args[1], &cfg->drain_timeout_ms);
	} else if (!strcmp(d, "splice")) {
		if (want_args(ctx, n, 1, 1))
			get_onoff(ctx, n, &cfg->splice);
	} else if (!strcmp(d, "pid-file")) {
		if (want_args(ctx, n, 1, 1))
			get_path(ctx, n, cfg->pid_file, sizeof(cfg->pid_file));
	} else {
		cfg_error(ctx, n->line, "unknown directive '%s'", d);
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
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", ALBMD_DEFAULT_SOCKET);
}

/* Cross-service checks: two services cannot listen on one address. */
static void cfg_validate(struct cfg_ctx *ctx, struct albmd_config *cfg)
{
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct albmd_cfg_service *a = &cfg->services[i];
		for (size_t j = 0; j < i && a->has_listen; j++) {
			if (cfg->services[j].has_listen &&
			    albm_addr_equal(&a->listen, &cfg->services[j].listen))
				cfg_error(ctx, a->line, "service '%s' listens on the address of "
					  "service '%s'", a->name, cfg->services[j].name);
		}
		a->adaptive.report_timeout_ms = cfg->agent_timeout_ms;
	}
}

static void cfg_interpret(struct cfg_ctx *ctx, const struct cfg_node *root, struct albmd_config *cfg)
{
	bool seen_agents = false, seen_control = false;

	for (size_t i = 0; i < root->nkids; i++) {
		const struct cfg_node *n = &root->kids[i];
		const char *d = n->args[0];
		if (!strcmp(d, "service") && n->block) {
			cfg_service(ctx, n, cfg);
		} else if ((!strcmp(d, "agents") || !strcmp(d, "control")) && n->block) {
			bool *seen = d[0] == 'a' ? &seen_agents : &seen_control;
			if (n->nargs != 1)
				cfg_error(ctx, n->line, "'%s' block takes no arguments", d);
			else if (*seen)
				cfg_error(ctx, n->line, "'%s' block defined twice", d);
			else if (d[0] == 'a')
				cfg_agents(ctx, n, cfg);
			else
				cfg_control(ctx, n, cfg);
			*seen = true;
		} else if (!strcmp(d, "service") || !strcmp(d, "agents") || !strcmp(d, "control")) {
			cfg_error(ctx, n->line, "'%s' needs a block { ... }", d);
		} else if (n->block) {
			cfg_error(ctx, n->line, "unknown block '%s'", d);
		} else {
			cfg_global(ctx, n, cfg);
		}
	}
	cfg_validate(ctx, cfg);
}

int albmd_config_parse(const char *path, const char *text, size_t len,
		       struct albmd_config *out, char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .path = path, .err = err, .errlen = errlen };
	struct cfg_lexer lx = { .p = text, .end = text + len, .line = 1 };
	struct cfg_node root;

	if (err && errlen)
		err[0] = '\0';
	memset(&root, 0, sizeof(root));
	cfg_defaults(out, path);
	if (cfg_tree_parse(&lx, &root, 0, &ctx) == 0)
		cfg_interpret(&ctx, &root, out);
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
