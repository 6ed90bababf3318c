/* ALBM test tool: send flow-sync datagrams to albmd — valid, replayed, forged, garbage, truncated
 *
 * usage: sync_send --to HOST:PORT --key-file F --sender ID [--epoch N] [--seq N]
 *                  [--flow CLIENT:PORT,VIP:PORT,REAL]... [--tables] [--age-ms MS]
 *                  [--twice] [--truncate N] [--garbage N] [--count N]
 * Builds one datagram of the sync codec (src/proto/sync.c): the flows given (none: a
 * message without flows), or with --tables a heartbeat without tables, from sender ID,
 * epoch (default: now), seq (default 1), dated now minus --age-ms.  Then sends it
 * --count times (default 1; each with the next seq), or:
 *   --twice        the same datagram twice (the second is a replay);
 *   --truncate N   only its first N bytes;
 *   --garbage N    N bytes that are no sync message at all (every one 0xa5);
 * A forged datagram is one signed with another key (--key-file of a different key).
 * Prints "sent N datagram(s)".  Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/util.h"
#include "proto/sync.h"

#define MAX_FLOWS 16

struct opts {
	struct albm_addr to;
	const char *key_file;
	struct albm_sync_hdr h;
	struct albm_sync_flow flows[MAX_FLOWS];
	size_t nflows;
	unsigned long age_ms, count, truncate, garbage;
	int twice, tables;
};

/* "CLIENT:PORT,VIP:PORT,REAL" -> a flow (one family for all three). */
static int parse_flow(const char *s, struct albm_sync_flow *f)
{
	char buf[256], *vip, *real, err[128];
	struct albm_addr c, v, r;

	snprintf(buf, sizeof(buf), "%s", s);
	vip = strchr(buf, ',');
	real = vip ? strchr(vip + 1, ',') : NULL;
	if (!real)
		return -1;
	*vip++ = '\0';
	*real++ = '\0';
	if (albm_addr_parse(buf, &c, err, sizeof(err)) < 0 ||
	    albm_addr_parse(vip, &v, err, sizeof(err)) < 0 ||
	    albm_addr_parse_host(real, &r, err, sizeof(err)) < 0 ||
	    albm_addr_family(&c) != AF_INET || albm_addr_family(&v) != AF_INET ||
	    albm_addr_family(&r) != AF_INET)
		return -1;
	memset(f, 0, sizeof(*f));
	f->family = AF_INET;
	f->sport = (uint16_t)albm_addr_port(&c);
	f->dport = (uint16_t)albm_addr_port(&v);
	memcpy(f->saddr, &c.u.sin.sin_addr, 4);
	memcpy(f->daddr, &v.u.sin.sin_addr, 4);
	memcpy(f->raddr, &r.u.sin.sin_addr, 4);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "to", 1, NULL, 't' },      { "key-file", 1, NULL, 'k' },
		{ "sender", 1, NULL, 's' },  { "epoch", 1, NULL, 'e' },
		{ "seq", 1, NULL, 'q' },     { "flow", 1, NULL, 'f' },
		{ "tables", 0, NULL, 'T' },  { "age-ms", 1, NULL, 'a' },
		{ "twice", 0, NULL, '2' },   { "truncate", 1, NULL, 'x' },
		{ "garbage", 1, NULL, 'g' }, { "count", 1, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char err[128];
	int c;

	o->h.epoch = albm_wall_ms();
	o->h.seq = 1;
	o->count = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (albm_addr_parse(optarg, &o->to, err, sizeof(err)) < 0) {
				fprintf(stderr, "sync_send: %s\n", err);
				return -1;
			}
			break;
		case 'k':
			o->key_file = optarg;
			break;
		case 's':
			o->h.sender = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			o->h.epoch = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			o->h.seq = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			if (o->nflows == MAX_FLOWS ||
			    parse_flow(optarg, &o->flows[o->nflows]) < 0) {
				fprintf(stderr, "sync_send: bad --flow '%s' (IPv4 C:P,V:P,R)\n",
					optarg);
				return -1;
			}
			o->nflows++;
			break;
		case 'T':
			o->tables = 1;
			break;
		case 'a':
			o->age_ms = strtoul(optarg, NULL, 10);
			break;
		case '2':
			o->twice = 1;
			break;
		case 'x':
			o->truncate = strtoul(optarg, NULL, 10);
			break;
		case 'g':
			o->garbage = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->count = strtoul(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (!o->to.len || (!o->key_file && !o->garbage)) {
		fprintf(stderr,
			"usage: sync_send --to HOST:PORT --key-file F --sender ID [options]\n");
		return -1;
	}
	return 0;
}

/* The datagram of o with sequence seq; its length, or -1. */
static int build(struct opts *o, const uint8_t *key, uint64_t seq, uint8_t *buf, size_t len)
{
	size_t used;
	int n;

	if (o->garbage) {
		n = (int)ALBM_MIN(o->garbage, (unsigned long)len);
		memset(buf, 0xa5, (size_t)n);
		return n;
	}
	o->h.seq = seq;
	o->h.timestamp_ms = albm_wall_ms() - o->age_ms;
	n = o->tables ? albm_sync_encode_tables(&o->h, NULL, 0, key, buf, len, &used)
		      : albm_sync_encode(&o->h, o->flows, o->nflows, key, buf, len, &used);
	if (n < 0) {
		fprintf(stderr, "sync_send: encode: %s\n", strerror(-n));
		return -1;
	}
	if (o->truncate && o->truncate < (unsigned long)n)
		n = (int)o->truncate;
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	uint8_t key[ALBM_KEY_LEN] = { 0 }, buf[2048];
	unsigned long sent = 0;
	uint64_t seq;
	char err[256];
	int fd, n;

	if (parse(argc, argv, &o) < 0)
		return 1;
	if (o.key_file && albm_key_load(o.key_file, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "sync_send: %s\n", err);
		return 1;
	}
	fd = socket(albm_addr_family(&o.to), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("sync_send: socket");
		return 1;
	}
	seq = o.h.seq;
	for (unsigned long i = 0; i < o.count; i++, seq++) {
		if ((n = build(&o, key, seq, buf, sizeof(buf))) < 0)
			return 1;
		for (int k = 0; k < (o.twice ? 2 : 1); k++) {
			if (sendto(fd, buf, (size_t)n, 0, &o.to.u.sa, o.to.len) < 0) {
				perror("sync_send: sendto");
				return 1;
			}
			sent++;
		}
	}
	close(fd);
	printf("sent %lu datagram(s)\n", sent);
	return 0;
}
