/* ALBM: albm-agent, the node agent — command line */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/metrics.h"
#include "agent/report_sender.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "proto/report.h"

enum {
	OPT_NAME = 256,
	OPT_DIST,
	OPT_KEY,
	OPT_INTERVAL,
	OPT_CGROUP,
	OPT_HAPROXY,
	OPT_ONCE,
	OPT_JSON,
	OPT_GENKEY,
	OPT_DECODE,
	OPT_MAXAGE,
	OPT_COUNT,
	OPT_MEMLOW,
	OPT_MEMHIGH,
	OPT_CPUHIGH,
	OPT_CPULOW,
	OPT_MEMHARD,
	OPT_SAMPLES,
	OPT_LOGLEVEL,
	OPT_PROCDIR,
	OPT_TCPEVERY,
	OPT_PSIHIGH,
	OPT_PSILOW,
	OPT_MAJHIGH,
	OPT_MAJLOW,
	OPT_OOMHOLD,
	OPT_REPORTVER,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "distributor", required_argument, NULL, OPT_DIST },
	{ "key-file", required_argument, NULL, OPT_KEY },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "haproxy-listen", required_argument, NULL, OPT_HAPROXY },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "gen-key", required_argument, NULL, OPT_GENKEY },
	{ "decode-from", required_argument, NULL, OPT_DECODE },
	{ "max-age", required_argument, NULL, OPT_MAXAGE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "mem-low", required_argument, NULL, OPT_MEMLOW },
	{ "mem-high", required_argument, NULL, OPT_MEMHIGH },
	{ "cpu-high", required_argument, NULL, OPT_CPUHIGH },
	{ "cpu-low", required_argument, NULL, OPT_CPULOW },
	{ "mem-hard", required_argument, NULL, OPT_MEMHARD },
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "proc-dir", required_argument, NULL, OPT_PROCDIR },
	{ "tcp-every", required_argument, NULL, OPT_TCPEVERY },
	{ "psi-mem-high", required_argument, NULL, OPT_PSIHIGH },
	{ "psi-mem-low", required_argument, NULL, OPT_PSILOW },
	{ "majfault-high", required_argument, NULL, OPT_MAJHIGH },
	{ "majfault-low", required_argument, NULL, OPT_MAJLOW },
	{ "oom-hold", required_argument, NULL, OPT_OOMHOLD },
	{ "report-version", required_argument, NULL, OPT_REPORTVER },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* the usage text is laid out as printed */
/* clang-format off */
static void usage(FILE *f)
{
	fputs(
"usage: albm-agent --name NAME --distributor HOST:PORT[,HOST:PORT...] --key-file FILE\n"
"                  [--interval 200ms] [--cgroup PATH] [--haproxy-listen ADDR:PORT]\n"
"                  [--mem-low 10] [--mem-high 20] [--mem-hard 3]\n"
"                  [--psi-mem-high 10] [--psi-mem-low 2] [--majfault-high 1000]\n"
"                  [--majfault-low 100] [--oom-hold 5s] [--cpu-high 0] [--cpu-low 85]\n"
"                  [--samples 3] [--tcp-every 5s] [--report-version 2] [--json]\n"
"                  [--log-level info]\n"
"       albm-agent --once [--json] [--cgroup PATH] [--interval 200ms] [--name NAME]\n"
"       albm-agent --gen-key FILE\n"
"       albm-agent --decode-from ADDR:PORT --key-file FILE [--max-age 5s] [--count N]\n"
"Overloaded after --samples bad samples in a row: memory available < --mem-low %,\n"
"memory 'full' stall > --psi-mem-high % of the interval, major faults > --majfault-high\n"
"per second (and CPU > --cpu-high % when that is not 0: off by default); at once below\n"
"--mem-hard % or on an OOM kill.  Recovered after --samples samples with every signal\n"
"back past its low threshold and no OOM kill within --oom-hold.  Stall signals count\n"
"where the kernel has them (PSI: Linux 4.20+).\n"
"--cgroup takes a v1 memory path (/sys/fs/cgroup/memory/X), a cgroup2 path, or a\n"
"relative name X looked up in the v1 memory hierarchy, then in cgroup2.\n"
"See docs/agent.md and docs/protocol.md.\n", f);
}
/* clang-format on */

static int parse_pct(const char *opt, const char *s, double *out)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (e == s || *e || errno || !isfinite(v) || v < 0 || v > 100) {
		fprintf(stderr, "albm-agent: --%s '%s': expected a percentage 0-100\n", opt, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_rate(const char *opt, const char *s, double *out)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (e == s || *e || errno || !isfinite(v) || v < 0 || v > 1e9) {
		fprintf(stderr, "albm-agent: --%s '%s': expected a rate per second, 0-1e9\n", opt,
			s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	if (albm_parse_u64(s, out) || *out > max) {
		fprintf(stderr, "albm-agent: --%s '%s': expected a whole number up to %llu\n", opt,
			s, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static int parse_dur(const char *opt, const char *s, uint64_t min, uint64_t *out)
{
	char err[128];

	if (albm_duration_parse_ms(s, out, err, sizeof(err))) {
		fprintf(stderr, "albm-agent: --%s: %s\n", opt, err);
		return -EINVAL;
	}
	if (*out < min || *out > 3600000) {
		fprintf(stderr, "albm-agent: --%s %s: must be between %llums and 1h\n", opt, s,
			(unsigned long long)min);
		return -EINVAL;
	}
	return 0;
}

/* The host name, made into a valid report name. */
static void default_name(char *name, size_t len)
{
	if (gethostname(name, len) || !name[0])
		snprintf(name, len, "albm-agent");
	name[len - 1] = '\0';
	for (char *p = name; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '-';
}

struct cli {
	struct albm_agent_opts o;
	const char *gen_key;
	bool once;
	enum albm_log_level level;
};

/* One option into c; 0, or -EINVAL after printing why. */
static int parse_opt(struct cli *c, int opt, const char *arg)
{
	struct albm_agent_opts *o = &c->o;
	const char *name = NULL;

	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == opt)
			name = lo->name;
	switch (opt) {
	case OPT_NAME:
		if (!albm_report_name_valid(arg)) {
			fprintf(stderr,
				"albm-agent: --name '%s': 1-%d printable characters, no "
				"spaces\n",
				arg, ALBM_NAME_MAX - 1);
			return -EINVAL;
		}
		snprintf(o->name, sizeof(o->name), "%s", arg);
		return 0;
	case OPT_DIST:
		o->distributors = arg;
		return 0;
	case OPT_KEY:
		o->key_file = arg;
		return 0;
	case OPT_CGROUP:
		o->cgroup = arg;
		return 0;
	case OPT_HAPROXY:
		o->haproxy_listen = arg;
		return 0;
	case OPT_PROCDIR:
		o->proc_dir = arg;
		return 0;
	case OPT_ONCE:
		c->once = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_GENKEY:
		c->gen_key = arg;
		return 0;
	case OPT_DECODE:
		o->decode_from = arg;
		return 0;
	case OPT_INTERVAL:
		return parse_dur(name, arg, 10, &o->interval_ms);
	case OPT_MAXAGE:
		return parse_dur(name, arg, 1, &o->max_age_ms);
	case OPT_TCPEVERY:
		return parse_dur(name, arg, 10, &o->tcp_every_ms);
	case OPT_COUNT:
		return parse_count(name, arg, UINT32_MAX, &o->count);
	case OPT_MEMLOW:
		return parse_pct(name, arg, &o->ov.mem_low);
	case OPT_MEMHIGH:
		return parse_pct(name, arg, &o->ov.mem_high);
	case OPT_CPUHIGH:
		return parse_pct(name, arg, &o->ov.cpu_high);
	case OPT_CPULOW:
		return parse_pct(name, arg, &o->ov.cpu_low);
	case OPT_MEMHARD:
		return parse_pct(name, arg, &o->ov.mem_hard);
	case OPT_PSIHIGH:
		return parse_pct(name, arg, &o->ov.psi_mem_high);
	case OPT_PSILOW:
		return parse_pct(name, arg, &o->ov.psi_mem_low);
	case OPT_MAJHIGH:
		return parse_rate(name, arg, &o->ov.majfault_high);
	case OPT_MAJLOW:
		return parse_rate(name, arg, &o->ov.majfault_low);
	case OPT_OOMHOLD:
		if (!strcmp(arg, "0") || !strcmp(arg, "off")) {
			o->oom_hold_ms = 0;
			return 0;
		}
		return parse_dur(name, arg, 1, &o->oom_hold_ms);
	case OPT_REPORTVER: {
		uint64_t v;

		if (albm_parse_u64(arg, &v) || v < ALBM_REPORT_VERSION_MIN ||
		    v > ALBM_REPORT_VERSION) {
			fprintf(stderr, "albm-agent: --report-version '%s': %d-%d\n", arg,
				ALBM_REPORT_VERSION_MIN, ALBM_REPORT_VERSION);
			return -EINVAL;
		}
		o->report_version = (unsigned)v;
		return 0;
	}
	case OPT_SAMPLES: {
		uint64_t k;

		if (parse_count(name, arg, 1000, &k))
			return -EINVAL;
		o->ov.samples = (unsigned)k;
		return 0;
	}
	case OPT_LOGLEVEL:
		if (albm_log_parse_level(arg, &c->level)) {
			fprintf(stderr, "albm-agent: --log-level '%s': err, warn, info or debug\n",
				arg);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* Options that only make sense together; 0 or -EINVAL after printing why. */
static int check_cli(const struct cli *c)
{
	const struct albm_agent_opts *o = &c->o;
	struct albm_addr addrs[ALBM_SENDER_MAX_DEST];
	char err[256];
	int modes = !!c->gen_key + c->once + !!o->decode_from;

	if (modes > 1) {
		fprintf(stderr,
			"albm-agent: --gen-key, --once and --decode-from exclude each other\n");
		return -EINVAL;
	}
	if ((o->decode_from || o->distributors) && !o->key_file) {
		fprintf(stderr, "albm-agent: %s needs --key-file\n",
			o->decode_from ? "--decode-from" : "--distributor");
		return -EINVAL;
	}
	if (!modes && !o->distributors && !o->haproxy_listen) {
		fprintf(stderr, "albm-agent: nothing to do: give --distributor and/or "
				"--haproxy-listen (or --once, --gen-key, --decode-from)\n");
		return -EINVAL;
	}
	if (o->distributors && albm_sender_parse_list(o->distributors, addrs, ALBM_SENDER_MAX_DEST,
						      err, sizeof(err)) < 0) {
		fprintf(stderr, "albm-agent: %s\n", err);
		return -EINVAL;
	}
	if (albm_overload_cfg_check(&o->ov, err, sizeof(err))) {
		fprintf(stderr, "albm-agent: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = {
		.o = { .proc_dir = "/proc",
		       .interval_ms = 200,
		       .max_age_ms = 5000,
		       .tcp_every_ms = ALBM_TCP_EVERY_MS,
		       .oom_hold_ms = 5000,
		       .report_version = ALBM_REPORT_VERSION,
		       .ov = ALBM_OVERLOAD_CFG_DEFAULT },
		.level = ALBM_LOG_INFO,
	};
	char err[256];
	int opt;

	albm_version_exit_if_asked(argc, argv, "albm-agent");
	default_name(c.o.name, sizeof(c.o.name));
	while ((opt = getopt_long(argc, argv, "hv", long_opts, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			usage(stdout);
			return 0;
		}
		if (opt == 'v')
			c.level = ALBM_LOG_DEBUG;
		else if (opt == '?' || parse_opt(&c, opt, optarg))
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "albm-agent: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* --oom-hold in samples of --interval (at least one when on) */
	c.o.ov.oom_hold = (unsigned)((c.o.oom_hold_ms + c.o.interval_ms - 1) / c.o.interval_ms);
	if (check_cli(&c))
		return 2;
	albm_log_init("albm-agent", c.level);
	if (c.gen_key) {
		if (albm_key_generate(c.gen_key, err, sizeof(err))) {
			fprintf(stderr, "albm-agent: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (c.once)
		return albm_agent_once(&c.o);
	if (c.o.decode_from)
		return albm_agent_decode(&c.o);
	return albm_agent_run(&c.o);
}
