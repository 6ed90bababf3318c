/* ALBM test tool: send agent reports to albmd — good, forged, tampered, replayed, stale
 *
 * usage: send_report --to HOST:PORT [--to ...] --key-file F --name NAME [--state ok|overloaded]
 *                    [--count N] [--interval-ms MS] [--boot-id N] [--seq N]
 *                    [--mem-total BYTES] [--mem-avail BYTES[,BYTES...]] [--cpu F]
 *                    [--tamper] [--replay] [--age-ms MS] [--stagger-ms MS] [--skew-ms +-MS]
 * Up to 4 --to: every datagram goes to each, in order, --stagger-ms apart (the same
 * report reaching several distributors at different moments, as an agent's does);
 * --mem-avail with a list: report i takes value i modulo the list's length;
 * --tamper flips one byte of the measurement after signing (HMAC must fail);
 * --replay sends every datagram twice (the second must be rejected as a replay);
 * --age-ms dates the reports that far in the past (stale beyond the max age);
 * --skew-ms moves the agent's clock (negative: behind albmd's, positive: ahead).
 * A forged report is one signed with another key (--key-file of a different key).
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

#define MAX_TO 4

struct opts {
	struct albm_addr to[MAX_TO];
	int nto;
	unsigned long long avail[16];
	int navail;
	unsigned long stagger_ms;
	const char *key_file, *name;
	enum albm_agent_state state;
	unsigned long count, interval_ms, boot_id, seq, age_ms;
	unsigned long long mem_total;
	double cpu;
	int tamper, replay;
	long skew_ms;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "to", 1, NULL, 't' },         { "key-file", 1, NULL, 'k' },
		{ "name", 1, NULL, 'n' },       { "state", 1, NULL, 's' },
		{ "count", 1, NULL, 'c' },      { "interval-ms", 1, NULL, 'i' },
		{ "boot-id", 1, NULL, 'b' },    { "seq", 1, NULL, 'q' },
		{ "mem-total", 1, NULL, 'T' },  { "mem-avail", 1, NULL, 'A' },
		{ "cpu", 1, NULL, 'C' },        { "tamper", 0, NULL, 'x' },
		{ "replay", 0, NULL, 'r' },     { "age-ms", 1, NULL, 'a' },
		{ "stagger-ms", 1, NULL, 'S' }, { "skew-ms", 1, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	char err[128];
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (o->nto == MAX_TO ||
			    albm_addr_parse(optarg, &o->to[o->nto], err, sizeof(err)) < 0) {
				fprintf(stderr, "send_report: --to %s: %s\n", optarg,
					o->nto == MAX_TO ? "too many" : err);
				return -1;
			}
			o->nto++;
			break;
		case 'k':
			o->key_file = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 's':
			o->state = !strcmp(optarg, "overloaded") ? ALBM_AGENT_OVERLOADED
								 : ALBM_AGENT_OK;
			break;
		case 'c':
			o->count = strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o->interval_ms = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o->boot_id = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			o->seq = strtoul(optarg, NULL, 10);
			break;
		case 'T':
			o->mem_total = strtoull(optarg, NULL, 10);
			break;
		case 'A':
			for (char *p = optarg; *p && o->navail < 16; p += *p == ',') {
				o->avail[o->navail++] = strtoull(p, &p, 10);
				if (*p && *p != ',')
					return -1;
			}
			break;
		case 'S':
			o->stagger_ms = strtoul(optarg, NULL, 10);
			break;
		case 'C':
			o->cpu = strtod(optarg, NULL);
			break;
		case 'x':
			o->tamper = 1;
			break;
		case 'r':
			o->replay = 1;
			break;
		case 'a':
			o->age_ms = strtoul(optarg, NULL, 10);
			break;
		case 'K':
			o->skew_ms = strtol(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (!o->nto || !o->key_file || !o->name) {
		fprintf(stderr,
			"usage: send_report --to HOST:PORT --key-file F --name NAME [...]\n");
		return -1;
	}
	return 0;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 1, .interval_ms = 100, .mem_total = 8ull << 30, .cpu = 0.2 };
	uint8_t key[ALBM_KEY_LEN], buf[ALBM_REPORT_MAX];
	struct albm_report r;
	char err[256];
	int fd;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (albm_key_load(o.key_file, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "send_report: %s\n", err);
		return 1;
	}
	if (!o.navail)
		o.avail[o.navail++] = 6ull << 30;
	fd = socket(albm_addr_family(&o.to[0]), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	memset(&r, 0, sizeof(r));
	r.version = ALBM_REPORT_VERSION;
	r.boot_id = o.boot_id ? o.boot_id : (uint64_t)getpid() * 2654435761u + albm_now_ns();
	r.seq = o.seq;
	r.interval_ms = (uint32_t)o.interval_ms;
	snprintf(r.m.name, sizeof(r.m.name), "%s", o.name);
	r.m.mem_total_bytes = o.mem_total;
	r.m.cpu_util = o.cpu;
	r.m.load1 = 0.5;
	r.m.tcp_established = 3;
	r.m.state = o.state;
	for (unsigned long i = 0; i < o.count; i++) {
		int n;
		r.seq++;
		r.timestamp_ms = (uint64_t)((int64_t)albm_wall_ms() + o.skew_ms) - o.age_ms;
		r.m.mem_available_bytes = o.avail[i % (unsigned long)o.navail];
		n = albm_report_encode(&r, key, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "send_report: encode: %s\n", strerror(-n));
			return 1;
		}
		if (o.tamper)
			buf[50] ^= 0x01; /* inside mem_available_bytes */
		for (int t = 0; t < o.nto; t++) {
			if (t && o.stagger_ms)
				sleep_ms(o.stagger_ms);
			for (int k = 0; k <= o.replay; k++)
				if (sendto(fd, buf, (size_t)n, 0, &o.to[t].u.sa, o.to[t].len) < 0)
					fprintf(stderr, "send_report: sendto: %s\n",
						strerror(errno));
		}
		if (i + 1 < o.count)
			sleep_ms(o.interval_ms);
	}
	close(fd);
	return 0;
}
