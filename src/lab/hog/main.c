/* ALBM: albm-hog, the lab's noisy neighbour — memory and CPU taken inside a server's cgroups */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/util.h"
#include "lab/hog/hog.h"

#define LOG_COMPONENT NULL
#include "common/log.h"

#define HOG_MEM_MAX (64ull << 30)

struct hog_opts {
	uint64_t mem;         /* bytes, 0 = none */
	unsigned cpu;         /* percent of one CPU, 0 = none */
	uint64_t duration_ms; /* required: the hog never outlives its event */
	uint64_t touch_ms;    /* 0 = touch once */
};

static volatile sig_atomic_t hog_stop;

static void on_signal(int sig)
{
	(void)sig;
	hog_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: albm-hog --duration DUR [--mem SIZE] [--cpu PCT] [options]\n"
		   "  --mem SIZE             anonymous memory to hold, every page touched (K/M/G)\n"
		   "  --cpu PCT              CPU demand in percent of one CPU (1..800)\n"
		   "  --duration DUR         exit after this long (SIGTERM ends it earlier)\n"
		   "  --touch-interval DUR   touch every page again this often (default 500ms, "
		   "0 = once)\n");
}

static int bad(const char *opt, const char *v, const char *why)
{
	fprintf(stderr, "albm-hog: --%s '%s': %s\n", opt, v, why);
	return -EINVAL;
}

static int parse_opt(int c, const char *v, struct hog_opts *o)
{
	char err[160];
	uint64_t u;

	switch (c) {
	case 'm':
		if (albm_parse_size(v, &o->mem) || o->mem > HOG_MEM_MAX)
			return bad("mem", v, "expected a size up to 64G, like 40M");
		return 0;
	case 'c':
		if (albm_parse_u64(v, &u) || u < 1 || u > 100 * HOG_CPU_THREADS_MAX)
			return bad("cpu", v, "expected 1..800 (percent of one CPU)");
		o->cpu = (unsigned)u;
		return 0;
	case 'd':
		if (albm_duration_parse_ms(v, &o->duration_ms, err, sizeof(err)) || !o->duration_ms)
			return bad("duration", v, "expected a duration like 15s");
		return 0;
	case 't':
		if (strcmp(v, "0") && albm_duration_parse_ms(v, &o->touch_ms, err, sizeof(err)))
			return bad("touch-interval", v, "expected a duration like 500ms, or 0");
		if (!strcmp(v, "0"))
			o->touch_ms = 0;
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct hog_opts *o)
{
	static const struct option longopts[] = {
		{ "mem", 1, NULL, 'm' },      { "cpu", 1, NULL, 'c' },
		{ "duration", 1, NULL, 'd' }, { "touch-interval", 1, NULL, 't' },
		{ "help", 0, NULL, 'h' },     { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_opt(c, optarg, o))
			return -EINVAL;
	}
	if (optind < argc || !o->duration_ms || (!o->mem && !o->cpu)) {
		fprintf(stderr, "albm-hog: %s\n",
			optind < argc     ? "unexpected argument"
			: !o->duration_ms ? "--duration is required"
					  : "nothing to do: give --mem and/or --cpu");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Sleep up to ms, returning early on a signal. */
static void hog_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Hold the load until the duration is over or a signal came, touching the memory. */
static void hog_hold(struct hog_mem *m, const struct hog_opts *o)
{
	uint64_t end = albm_now_ms() + o->duration_ms;

	while (!hog_stop) {
		uint64_t now = albm_now_ms(),
			 next = o->touch_ms && m->bytes ? now + o->touch_ms : end;

		if (now >= end)
			break;
		hog_sleep_ms(ALBM_MIN(next, end) - now);
		if (!hog_stop && m->bytes && o->touch_ms && albm_now_ms() < end)
			hog_mem_touch(m);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct hog_opts o = { .touch_ms = 500 };
	struct hog_mem mem;
	struct hog_cpu cpu;
	char err[256];

	albm_log_init("albm-hog", ALBM_LOG_INFO);
	if (parse_args(argc, argv, &o))
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hog_mem_take(&mem, o.mem, err, sizeof(err)))
		LOG_FATAL("%s", err);
	if (hog_cpu_start(&cpu, o.cpu, &hog_stop, err, sizeof(err))) {
		hog_stop = 1;
		hog_cpu_join(&cpu);
		LOG_FATAL("%s", err);
	}
	if (o.mem)
		LOG_INFO("holding %llu MiB, every page touched %s, for at most %llums",
			 (unsigned long long)(o.mem >> 20), o.touch_ms ? "every interval" : "once",
			 (unsigned long long)o.duration_ms);
	if (o.cpu)
		LOG_INFO("demanding %u%% of one CPU (%u thread%s) for at most %llums", o.cpu,
			 cpu.threads, cpu.threads == 1 ? "" : "s",
			 (unsigned long long)o.duration_ms);
	hog_hold(&mem, &o);
	hog_stop = 1;
	hog_cpu_join(&cpu);
	LOG_INFO("released after %llu sweeps over the memory", (unsigned long long)mem.sweeps);
	hog_mem_free(&mem);
	return 0;
}
