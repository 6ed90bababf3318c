/* ALBM benchmark tool: many simulated agents sending signed reports to one albmd (make
 * bench-control)
 *
 * usage: control_load --to HOST:PORT --key-file F [--agents N] [--rate R] [--secs S]
 *                     [--prefix P]
 *
 * N agents (names P0000, P0001, ...; default 1000 agents named a0000...) each send R
 * reports per second (default 10) for S seconds (default 20, at most 600), spread evenly:
 * every 10 ms the next N*R/100 agents in turn send one report each, in one sendmmsg().
 * Every report is a real one: encoded and signed with the shared key by src/proto/report.c
 * (HMAC-SHA256), with its own boot id, a growing sequence number, the current time and a
 * measurement that moves a little, as albm-agent would send.  Prints what it sent:
 * "sent N reports in S s (R/s), errors E".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/util.h"
#include "proto/report.h"

#define TICK_MS   10
#define BATCH_MAX 1024

struct opts {
	struct albm_addr to;
	const char *key_file, *prefix;
	unsigned long agents, rate, secs;
};

struct agent {
	struct albm_report r;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "to", 1, NULL, 't' },   { "key-file", 1, NULL, 'k' }, { "agents", 1, NULL, 'n' },
		{ "rate", 1, NULL, 'r' }, { "secs", 1, NULL, 's' },     { "prefix", 1, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	char err[128];
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (albm_addr_parse(optarg, &o->to, err, sizeof(err)) < 0) {
				fprintf(stderr, "control_load: %s\n", err);
				return -1;
			}
			break;
		case 'k':
			o->key_file = optarg;
			break;
		case 'n':
			o->agents = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->secs = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->prefix = optarg;
			break;
		default:
			return -1;
		}
	}
	if (!o->to.len || !o->key_file || !o->agents || o->agents > 100000 || !o->rate ||
	    o->rate > 1000 || !o->secs || o->secs > 600) {
		fprintf(stderr,
			"usage: control_load --to HOST:PORT --key-file F [--agents N<=100000] "
			"[--rate R<=1000] [--secs S<=600] [--prefix P]\n");
		return -1;
	}
	return 0;
}

static void agent_init(struct agent *a, const struct opts *o, unsigned long i)
{
	memset(a, 0, sizeof(*a));
	a->r.version = ALBM_REPORT_VERSION;
	a->r.boot_id = ((uint64_t)getpid() << 32) ^ (albm_now_ns() + i * 2654435761u);
	a->r.interval_ms = (uint32_t)(1000 / o->rate);
	snprintf(a->r.m.name, sizeof(a->r.m.name), "%s%04lu", o->prefix, i);
	a->r.m.mem_total_bytes = 8ull << 30;
	a->r.m.mem_available_bytes = (5ull << 30) + (i % 64) * (16ull << 20);
	a->r.m.cpu_util = 0.2;
	a->r.m.load1 = 0.5;
	a->r.m.tcp_established = 3;
	a->r.m.state = ALBM_AGENT_OK;
}

/* The next report of agent a, signed into buf; its length or -errno. */
static int agent_report(struct agent *a, const uint8_t *key, uint8_t *buf, size_t len)
{
	a->r.seq++;
	a->r.timestamp_ms = albm_wall_ms();
	a->r.m.cpu_util = 0.15 + (double)(a->r.seq % 10) / 100.0; /* it moves a little */
	return albm_report_encode(&a->r, key, buf, len);
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct opts o = { .agents = 1000, .rate = 10, .secs = 20, .prefix = "a" };
	static uint8_t bufs[BATCH_MAX][ALBM_REPORT_MAX];
	static struct mmsghdr m[BATCH_MAX];
	static struct iovec iov[BATCH_MAX];
	uint8_t key[ALBM_KEY_LEN];
	unsigned long next = 0, sent = 0, errors = 0, ticks, per_tick_x100;
	struct agent *agents;
	char err[256];
	uint64_t t0;
	int fd;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (albm_key_load(o.key_file, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "control_load: %s\n", err);
		return 1;
	}
	if ((fd = socket(albm_addr_family(&o.to), SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, &o.to.u.sa, o.to.len) < 0) {
		fprintf(stderr, "control_load: socket: %s\n", strerror(errno));
		return 1;
	}
	agents = xcalloc(o.agents, sizeof(*agents));
	for (unsigned long i = 0; i < o.agents; i++)
		agent_init(&agents[i], &o, i);
	ticks = o.secs * 1000 / TICK_MS;
	per_tick_x100 = o.agents * o.rate * TICK_MS / 10; /* reports per tick, x100 */
	t0 = albm_now_ns();
	for (unsigned long k = 0; k < ticks; k++) {
		/* reports due by the end of this tick, less those sent: an even spread */
		unsigned long due = (unsigned long)((k + 1) * per_tick_x100 / 100) - sent - errors;
		unsigned n = 0;
		for (; n < due && n < BATCH_MAX; n++) {
			int len = agent_report(&agents[next], key, bufs[n], sizeof(bufs[n]));
			next = (next + 1) % o.agents;
			if (len < 0) {
				fprintf(stderr, "control_load: encode: %s\n", strerror(-len));
				return 1;
			}
			iov[n] = (struct iovec){ .iov_base = bufs[n], .iov_len = (size_t)len };
			m[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n],
							      .msg_iovlen = 1 } };
		}
		for (unsigned off = 0; off < n;) {
			int r = sendmmsg(fd, m + off, n - off, 0);
			if (r <= 0) { /* ECONNREFUSED (albmd gone) or a full queue: counted */
				errors += n - off;
				break;
			}
			sent += (unsigned long)r;
			off += (unsigned)r;
		}
		sleep_until_ns(t0 + (k + 1) * TICK_MS * 1000000ull);
	}
	double secs = (double)(albm_now_ns() - t0) / 1e9;
	printf("sent %lu reports in %.2f s (%.0f/s), errors %lu\n", sent, secs, (double)sent / secs,
	       errors);
	free(agents);
	close(fd);
	return errors ? 1 : 0;
}
