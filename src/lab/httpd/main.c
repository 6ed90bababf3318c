/* ALBM: albm-httpd, the lab's backend emulator with an explicit cost model */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/util.h"
#include "common/version.h"
#include "lab/httpd/httpd_env.h"
#include "lab/httpd/httpd_server.h"

#define LOG_COMPONENT NULL
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: albm-httpd --listen ADDR:PORT --name NAME [options]\n"
		"  GET /bytes/N (N with K/M/G suffixes) answers N bytes, GET /stats the counters;\n"
		"  every response carries X-Server: NAME.  Cost model (docs/lab.md):\n"
		"  --mem-factor F          buffer of ceil(N*F) bytes per in-flight request "
		"(default 1.0)\n"
		"  --cpu-per-mb DUR        real computation per MiB of body (default 2ms)\n"
		"  --paging-model LIMIT    model paging past LIMIT in-flight bytes (default off:\n"
		"                          \"physical\" mode, overload pages only in a limited "
		"cgroup)\n"
		"  --page-penalty DUR      delay per MiB over LIMIT per sweep (default 20ms)\n"
		"  --max-inflight-bytes SIZE  hard limit on in-flight buffers (default 1G)\n"
		"  --overflow queue|503    beyond the hard limit (default queue)\n"
		"  --max-queue N           waiting requests before 503 (default 1024)\n"
		"  --max-conns N           connections before 503 (default 4096)\n"
		"  --idle-timeout DUR      idle or stalled connection timeout (default 60s)\n"
		"  --log-level LEVEL       err|warn|info|debug (default info)\n");
}

static int bad(const char *opt, const char *v, const char *why)
{
	fprintf(stderr, "albm-httpd: --%s '%s': %s\n", opt, v, why);
	return -EINVAL;
}

static int parse_size_opt(const char *opt, const char *v, uint64_t *out)
{
	if (!strcmp(v, "off")) {
		*out = 0;
		return 0;
	}
	return albm_parse_size(v, out) ? bad(opt, v, "expected a size like 256M or 1G") : 0;
}

static int parse_cost_opt(int c, const char *v, struct httpd_cost_cfg *cost)
{
	char err[160], *end;
	uint64_t u;

	switch (c) {
	case 'f':
		cost->mem_factor = strtod(v, &end);
		if (*end || end == v || !isfinite(cost->mem_factor) || cost->mem_factor < 0 ||
		    cost->mem_factor > 64)
			return bad("mem-factor", v, "expected a number in 0..64");
		return 0;
	case 'c':
		return httpd_parse_ns(v, &cost->cpu_ns_per_mib, err, sizeof(err))
			       ? bad("cpu-per-mb", v, err)
			       : 0;
	case 'P':
		return httpd_parse_ns(v, &cost->page_penalty_ns, err, sizeof(err))
			       ? bad("page-penalty", v, err)
			       : 0;
	case 'g':
		return parse_size_opt("paging-model", v, &cost->paging_limit);
	case 'M':
		if (parse_size_opt("max-inflight-bytes", v, &cost->max_inflight_bytes))
			return -EINVAL;
		return cost->max_inflight_bytes ? 0 : bad("max-inflight-bytes", v, "must be > 0");
	case 'o':
		if (strcmp(v, "queue") && strcmp(v, "503"))
			return bad("overflow", v, "expected queue or 503");
		cost->overflow = strcmp(v, "503") ? HTTPD_OVERFLOW_QUEUE : HTTPD_OVERFLOW_503;
		return 0;
	case 'q':
		if (albm_parse_u64(v, &u) || u > 1000000)
			return bad("max-queue", v, "expected 0..1000000");
		cost->max_queue = (unsigned)u;
		return 0;
	}
	return 1; /* not a cost option */
}

static int parse_opt(int c, const char *v, struct httpd_cfg *cfg, bool *have_listen)
{
	char err[160];
	uint64_t u;
	int rc = parse_cost_opt(c, v, &cfg->cost);

	if (rc <= 0)
		return rc;
	switch (c) {
	case 'l':
		if (albm_addr_parse(v, &cfg->listen, err, sizeof(err)))
			return bad("listen", v, err);
		*have_listen = true;
		return 0;
	case 'n':
		if (!httpd_name_valid(v))
			return bad("name", v, "1..63 characters of A-Z a-z 0-9 _ . -");
		snprintf(cfg->name, sizeof(cfg->name), "%s", v);
		return 0;
	case 'C':
		if (albm_parse_u64(v, &u) || u < 1 || u > 1000000)
			return bad("max-conns", v, "expected 1..1000000");
		cfg->max_conns = (unsigned)u;
		return 0;
	case 'i':
		if (albm_duration_parse_ms(v, &cfg->idle_timeout_ms, err, sizeof(err)) ||
		    !cfg->idle_timeout_ms)
			return bad("idle-timeout", v, "expected a duration like 60s");
		return 0;
	case 'L': {
		enum albm_log_level lvl;
		if (albm_log_parse_level(v, &lvl))
			return bad("log-level", v, "err|warn|info|debug");
		albm_log_level = lvl;
		return 0;
	}
	}
	usage(stderr);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct httpd_cfg *cfg)
{
	static const struct option longopts[] = {
		{ "listen", 1, NULL, 'l' },
		{ "name", 1, NULL, 'n' },
		{ "mem-factor", 1, NULL, 'f' },
		{ "cpu-per-mb", 1, NULL, 'c' },
		{ "paging-model", 1, NULL, 'g' },
		{ "page-penalty", 1, NULL, 'P' },
		{ "max-inflight-bytes", 1, NULL, 'M' },
		{ "overflow", 1, NULL, 'o' },
		{ "max-queue", 1, NULL, 'q' },
		{ "max-conns", 1, NULL, 'C' },
		{ "idle-timeout", 1, NULL, 'i' },
		{ "log-level", 1, NULL, 'L' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_listen = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_opt(c, optarg, cfg, &have_listen))
			return -EINVAL;
	}
	if (optind < argc || !have_listen || !cfg->name[0]) {
		fprintf(stderr, "albm-httpd: %s\n",
			optind < argc ? "unexpected argument" : "--listen and --name are required");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static char *fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v && v % (1ull << 30) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(v >> 30));
	else if (v && v % (1ull << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* The startup log says which overload mode is in force, and whether it can bite. */
static void announce(const struct httpd_cfg *cfg)
{
	const struct httpd_cost_cfg *c = &cfg->cost;
	char addr[ALBM_ADDRSTRLEN], a[32], b[32], d[32];
	struct httpd_env env;

	httpd_env_read(&env);
	LOG_INFO("%s listening on %s: mode %s%s%s%s, mem-factor %.2f, cpu-per-mb %.3fms, "
		 "max-inflight-bytes %s (overflow %s, max-queue %u); cgroup memory limit %s, "
		 "swap %s",
		 cfg->name, albm_addr_format(&cfg->listen, addr, sizeof(addr)), httpd_cost_mode(c),
		 c->paging_limit ? " (limit " : "",
		 c->paging_limit ? fmt_size(c->paging_limit, a, sizeof(a)) : "",
		 c->paging_limit ? ")" : "", c->mem_factor, (double)c->cpu_ns_per_mib / 1e6,
		 fmt_size(c->max_inflight_bytes, b, sizeof(b)),
		 c->overflow == HTTPD_OVERFLOW_503 ? "503" : "queue", c->max_queue,
		 env.mem_limit ? fmt_size(env.mem_limit, d, sizeof(d)) : "none",
		 env.swap_total ? "on" : "off");
	if (c->paging_limit)
		LOG_INFO("paging model: %.3fms per MiB over %s per sweep",
			 (double)c->page_penalty_ns / 1e6, a);
	else if (!env.mem_limit || !env.swap_total)
		LOG_WARN("physical mode with %s: overload will not page (use --paging-model LIMIT "
			 "where a limited cgroup with swap cannot be set up)",
			 !env.mem_limit && !env.swap_total ? "no cgroup memory limit and no swap"
			 : !env.mem_limit                  ? "no cgroup memory limit"
							   : "no swap");
}

static void on_signal(int sig)
{
	(void)sig;
	httpd_server_stop();
}

int main(int argc, char **argv)
{
	struct httpd_cfg cfg = { .cost = HTTPD_COST_DEFAULTS,
				 .max_conns = 4096,
				 .idle_timeout_ms = 60000 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct httpd_server srv;
	char err[256];
	int rc;

	albm_version_exit_if_asked(argc, argv, "albm-httpd");
	albm_log_init("albm-httpd", ALBM_LOG_INFO);
	if (parse_args(argc, argv, &cfg))
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (httpd_server_open(&srv, &cfg, err, sizeof(err))) {
		httpd_server_close(&srv);
		LOG_FATAL("%s", err);
	}
	announce(&cfg);
	rc = httpd_server_run(&srv);
	LOG_INFO("%s stopping: served %llu, rejected %llu", cfg.name,
		 (unsigned long long)srv.n.served, (unsigned long long)srv.n.rejected);
	httpd_server_close(&srv);
	return rc ? 1 : 0;
}
