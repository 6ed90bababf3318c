/* ALBM: albm-bench, an HTTP/1.1 stress tool: closed loop (Web Bench) or open loop (wrk2) */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/util.h"
#include "common/version.h"
#include "lab/bench/bench_output.h"
#include "lab/bench/bench_run.h"

#define LOG_COMPONENT NULL
#include "common/log.h"

#define DEFAULT_MIX  "1:50,5M:40,15M:10" /* the paper's homogeneous-cluster workload */
#define DEFAULT_POOL "1000"              /* open loop: connections when --clients is absent */

struct opts {
	struct bench_cfg cfg;
	const char *csv, *json, *series;
	bool quiet, have_clients;
	int progress; /* -1 auto (stderr is a terminal), 0 off, 1 on */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: albm-bench --url http://HOST:PORT [options]\n"
		"  --clients N|START:END[:STEP]  closed-loop clients, or a ramp (default 1);\n"
		"                        open loop: the pool of connections (default " DEFAULT_POOL
		")\n"
		"  --rate R[,R...]       open loop: Poisson arrivals at R requests/s, one step\n"
		"                        per rate; latency from the intended send time\n"
		"  --step DUR            counting time of each step (default 10s)\n"
		"  --warmup DUR          uncounted time at the start of each step (default 0s)\n"
		"  --mix SIZE:W,...      sizes fetched as /bytes/SIZE, weights in percent\n"
		"                        (default " DEFAULT_MIX ")\n"
		"  --keepalive           reuse connections (default: one per request)\n"
		"  --requests N          also end a step after N requests\n"
		"  --duration DUR        cap on the whole run\n"
		"  --timeout DUR         one request, start to last byte (default 30s)\n"
		"  --seed N              randomness seed (default: from the clock, printed)\n"
		"  --csv FILE|-          per-step CSV (see docs/lab.md)\n"
		"  --json FILE|-         per-step JSON with details\n"
		"  --series FILE|-       one CSV row per --interval (default 1s) over the run\n"
		"  --quiet               no table; --progress / --no-progress: live line on stderr\n"
		"  --log-level LEVEL     err|warn|info|debug (default info)\n");
}

static int parse_dur(const char *name, const char *v, uint64_t *ms, uint64_t min)
{
	char err[160];

	if (albm_duration_parse_ms(v, ms, err, sizeof(err))) {
		fprintf(stderr, "albm-bench: --%s: %s\n", name, err);
		return -EINVAL;
	}
	if (*ms < min) {
		fprintf(stderr, "albm-bench: --%s: at least %llums\n", name,
			(unsigned long long)min);
		return -EINVAL;
	}
	return 0;
}

/* One option; returns 0, or -EINVAL after printing why. */
static int parse_opt(int c, const char *v, struct opts *o, bool *have_url)
{
	struct bench_cfg *cfg = &o->cfg;
	char err[256];
	int rc = 0;

	switch (c) {
	case 'u':
		rc = bench_url_parse(v, &cfg->url, err, sizeof(err));
		*have_url = !rc;
		break;
	case 'c':
		rc = bench_ramp_parse(v, &cfg->ramp, err, sizeof(err));
		o->have_clients = true;
		break;
	case 'R':
		rc = bench_rates_parse(v, &cfg->rates, err, sizeof(err));
		break;
	case 'I':
		return parse_dur("interval", v, &cfg->interval_ms, 10);
	case 'T':
		o->series = v;
		return 0;
	case 'm':
		rc = bench_mix_parse(v, &cfg->mix, err, sizeof(err));
		break;
	case 's':
		return parse_dur("step", v, &cfg->step_ms, 1);
	case 'w':
		return parse_dur("warmup", v, &cfg->warmup_ms, 0);
	case 't':
		return parse_dur("timeout", v, &cfg->timeout_ms, 1);
	case 'd':
		return parse_dur("duration", v, &cfg->duration_ms, 1);
	case 'k':
		cfg->keepalive = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'p':
		o->progress = 1;
		return 0;
	case 'P':
		o->progress = 0;
		return 0;
	case 'C':
		o->csv = v;
		return 0;
	case 'J':
		o->json = v;
		return 0;
	case 'r':
		rc = albm_parse_u64(v, &cfg->requests);
		snprintf(err, sizeof(err), "--requests '%s': expected a count", v);
		break;
	case 'S':
		rc = albm_parse_u64(v, &cfg->seed);
		snprintf(err, sizeof(err), "--seed '%s': expected an unsigned integer", v);
		break;
	case 'l': {
		enum albm_log_level lvl;
		rc = albm_log_parse_level(v, &lvl);
		if (!rc)
			albm_log_level = lvl;
		snprintf(err, sizeof(err), "--log-level '%s': err|warn|info|debug", v);
		break;
	}
	default:
		usage(stderr);
		return -EINVAL;
	}
	if (rc)
		fprintf(stderr, "albm-bench: %s\n", err);
	return rc ? -EINVAL : 0;
}

static bool stdout_twice(const struct opts *o)
{
	int n = 0;

	n += o->csv && !strcmp(o->csv, "-");
	n += o->json && !strcmp(o->json, "-");
	n += o->series && !strcmp(o->series, "-");
	return n > 1;
}

/* Open loop: --clients is the pool, one number (default DEFAULT_POOL). */
static int open_loop_args(struct opts *o)
{
	char err[128];

	if (!bench_cfg_open(&o->cfg))
		return 0;
	if (!o->have_clients)
		bench_ramp_parse(DEFAULT_POOL, &o->cfg.ramp, err, sizeof(err));
	if (o->cfg.ramp.start != o->cfg.ramp.end) {
		fprintf(stderr, "albm-bench: with --rate, --clients is the connection pool: one "
				"number, not a ramp\n");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "url", 1, NULL, 'u' },
		{ "clients", 1, NULL, 'c' },
		{ "mix", 1, NULL, 'm' },
		{ "step", 1, NULL, 's' },
		{ "warmup", 1, NULL, 'w' },
		{ "timeout", 1, NULL, 't' },
		{ "duration", 1, NULL, 'd' },
		{ "requests", 1, NULL, 'r' },
		{ "seed", 1, NULL, 'S' },
		{ "keepalive", 0, NULL, 'k' },
		{ "csv", 1, NULL, 'C' },
		{ "json", 1, NULL, 'J' },
		{ "quiet", 0, NULL, 'q' },
		{ "progress", 0, NULL, 'p' },
		{ "no-progress", 0, NULL, 'P' },
		{ "log-level", 1, NULL, 'l' },
		{ "help", 0, NULL, 'h' },
		{ "rate", 1, NULL, 'R' },
		{ "series", 1, NULL, 'T' },
		{ "interval", 1, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_url = false, have_seed = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		have_seed |= c == 'S';
		if (parse_opt(c, optarg, o, &have_url))
			return -EINVAL;
	}
	if (optind < argc || !have_url) {
		fprintf(stderr, "albm-bench: %s\n",
			optind < argc ? "unexpected argument" : "--url is required");
		usage(stderr);
		return -EINVAL;
	}
	if (stdout_twice(o)) {
		fprintf(stderr, "albm-bench: only one of --csv, --json and --series can be -\n");
		return -EINVAL;
	}
	if (open_loop_args(o))
		return -EINVAL;
	if (!have_seed) /* printed and exported, so that the run can be repeated */
		o->cfg.seed = albm_wall_ms() ^ ((uint64_t)getpid() << 32);
	return 0;
}

static void defaults(struct opts *o)
{
	char err[128];

	memset(o, 0, sizeof(*o));
	o->progress = -1;
	o->cfg.step_ms = 10000;
	o->cfg.timeout_ms = 30000;
	o->cfg.interval_ms = 1000;
	bench_ramp_parse("1", &o->cfg.ramp, err, sizeof(err));
	bench_mix_parse(DEFAULT_MIX, &o->cfg.mix, err, sizeof(err));
}

/* Open an output named on the command line ("-" = stdout) before the run starts. */
static FILE *open_out(const char *path)
{
	FILE *f;

	if (!path)
		return NULL;
	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "w");
	if (!f)
		LOG_FATAL("%s: %s", path, strerror(errno));
	return f;
}

static void on_step(const struct bench_result *r, const struct bench_servers *s, void *arg)
{
	FILE *table = arg;
	char warn[512];

	if (table)
		bench_print_step(table, r, s);
	if (bench_rate_warning(r, warn, sizeof(warn)))
		LOG_WARN("%s", warn);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_run_stop();
}

static void announce(const struct bench_cfg *cfg)
{
	char mix[256], ramp[48], rates[1024];

	if (bench_cfg_open(cfg))
		LOG_INFO("http://%s%s  mix %s  open loop: rate %s req/s, pool of %u connections "
			 "(%zu steps of %llums + %llums warm-up)  seed %llu  keep-alive %s",
			 cfg->url.host, cfg->url.prefix,
			 bench_mix_format(&cfg->mix, mix, sizeof(mix)),
			 bench_rates_format(&cfg->rates, rates, sizeof(rates)), cfg->ramp.end,
			 bench_cfg_steps(cfg), (unsigned long long)cfg->step_ms,
			 (unsigned long long)cfg->warmup_ms, (unsigned long long)cfg->seed,
			 cfg->keepalive ? "on" : "off");
	else
		LOG_INFO("http://%s%s  mix %s  clients %s (%zu steps of %llums + %llums "
			 "warm-up)  seed %llu  keep-alive %s",
			 cfg->url.host, cfg->url.prefix,
			 bench_mix_format(&cfg->mix, mix, sizeof(mix)),
			 bench_ramp_format(&cfg->ramp, ramp, sizeof(ramp)), bench_cfg_steps(cfg),
			 (unsigned long long)cfg->step_ms, (unsigned long long)cfg->warmup_ms,
			 (unsigned long long)cfg->seed, cfg->keepalive ? "on" : "off");
}

/* Write the CSV and JSON files; returns 0 or 1 (after a message). */
static int write_outputs(const struct opts *o, FILE *csv, FILE *json, const struct bench_out *out)
{
	int rc = 0;

	if (csv && bench_write_csv(csv, &o->cfg, out)) {
		LOG_ERR("%s: write failed", o->csv);
		rc = 1;
	}
	if (json && bench_write_json(json, &o->cfg, out)) {
		LOG_ERR("%s: write failed", o->json);
		rc = 1;
	}
	if (csv && csv != stdout && fclose(csv))
		rc = 1;
	if (json && json != stdout && fclose(json))
		rc = 1;
	if (out->series_failed ||
	    (o->cfg.series && o->cfg.series != stdout && fclose(o->cfg.series))) {
		LOG_ERR("%s: write failed", o->series);
		rc = 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bench_out out;
	FILE *csv, *json, *table;
	struct opts o;
	char err[256];
	int rc;

	albm_version_exit_if_asked(argc, argv, "albm-bench");
	albm_log_init("albm-bench", ALBM_LOG_INFO);
	defaults(&o);
	if (parse_args(argc, argv, &o))
		return 2;
	o.cfg.progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress;
	csv = open_out(o.csv);
	json = open_out(o.json);
	o.cfg.series = open_out(o.series);
	table = o.quiet                                                       ? NULL
		: (csv == stdout || json == stdout || o.cfg.series == stdout) ? stderr
									      : stdout;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	announce(&o.cfg);
	if (table)
		bench_print_header(table, bench_cfg_open(&o.cfg));
	if (bench_run(&o.cfg, on_step, table, &out, err, sizeof(err)))
		LOG_FATAL("%s", err);
	rc = write_outputs(&o, csv, json, &out);
	if (out.interrupted)
		LOG_WARN("interrupted: %zu step(s) reported", out.n);
	bench_out_free(&out);
	return rc ? 1 : out.interrupted ? 130 : 0;
}
