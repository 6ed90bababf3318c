/* ALBM benchmark tool: new flows at a set rate — TCP SYNs from many sources to a VIP, bounded
 *
 * usage: flowgen --dst VIP:PORT --src-net A.B.C.0/24 --rate N --count M [--seconds S]
 *
 * Sends TCP SYN segments through a raw socket (IP_HDRINCL, valid checksums), each from
 * another source address of the /24 and another port, so that every one is a new
 * flow for a distributor's XDP program (which schedules it, pins it and, with flow sync,
 * publishes it).  Paced in 1 ms slots (rate/1000 a slot, sendmmsg), it stops after M
 * segments or S seconds (default 30), whichever comes first.  The sources are not real
 * hosts: route the /24 to a blackhole where the answers go.  Prints one line:
 *   "sent N SYNs in T s: R/s (target X/s)".
 * Root (or CAP_NET_RAW) only; for benchmarks in their own network namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT_NS   1000000L
#define BATCH_MAX 1024

struct pkt {
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint16_t *p = data;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Flow i: source net.(1 + i % 254), port 1024 + (i / 254) % 64000. */
static void make_syn(struct pkt *p, uint32_t net, struct in_addr dst, uint16_t dport, uint64_t i)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __attribute__((packed)) ph;

	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(*p));
	p->ip.id = htons((uint16_t)i);
	p->ip.saddr = htonl(net | (uint32_t)(1 + i % 254));
	p->ip.daddr = dst.s_addr;
	p->ip.check = csum(&p->ip, sizeof(p->ip), 0);
	p->tcp.source = htons((uint16_t)(1024 + (i / 254) % 64000));
	p->tcp.dest = htons(dport);
	p->tcp.seq = htonl((uint32_t)(i * 2654435761u));
	p->tcp.doff = 5;
	p->tcp.syn = 1;
	p->tcp.window = htons(64240);
	ph = (typeof(ph)){ p->ip.saddr, p->ip.daddr, 0, IPPROTO_TCP, htons(sizeof(p->tcp)) };
	{
		uint8_t buf[sizeof(ph) + sizeof(p->tcp)];
		memcpy(buf, &ph, sizeof(ph));
		memcpy(buf + sizeof(ph), &p->tcp, sizeof(p->tcp));
		p->tcp.check = csum(buf, sizeof(buf), 0);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dst", 1, NULL, 'd' },   { "src-net", 1, NULL, 's' }, { "rate", 1, NULL, 'r' },
		{ "count", 1, NULL, 'c' }, { "seconds", 1, NULL, 'S' }, { NULL, 0, NULL, 0 },
	};
	static struct pkt pkts[BATCH_MAX];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_in to = { .sin_family = AF_INET };
	char host[64] = "", net_s[64] = "";
	unsigned long rate = 1000, count = 1000, seconds = 30, dport = 0;
	uint64_t sent = 0, dropped = 0, due;
	struct timespec next;
	double t0, carry = 0;
	uint32_t net = 0;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			sscanf(optarg, "%63[^:]:%lu", host, &dport);
			break;
		case 's':
			sscanf(optarg, "%63[^/]", net_s);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			seconds = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!inet_pton(AF_INET, host, &to.sin_addr) || !dport || dport > 65535 ||
	    !inet_pton(AF_INET, net_s, &net) || !rate || rate > 1000000 || seconds > 600) {
		fprintf(stderr, "usage: flowgen --dst VIP:PORT --src-net A.B.C.0/24 --rate N "
				"(<= 1000000) --count M [--seconds S (<= 600)]\n");
		return 2;
	}
	net = ntohl(net) & 0xffffff00u;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		perror("flowgen: socket(SOCK_RAW)");
		return 1;
	}
	for (int i = 0; i < BATCH_MAX; i++) {
		iov[i] = (struct iovec){ &pkts[i], sizeof(pkts[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &to,
						   .msg_namelen = sizeof(to),
						   .msg_iov = &iov[i],
						   .msg_iovlen = 1 };
	}
	t0 = now_s();
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (sent < count && now_s() - t0 < (double)seconds) {
		carry += (double)rate / 1000.0;
		due = (uint64_t)carry;
		carry -= (double)due;
		due = due > count - sent ? count - sent : due;
		due = due > BATCH_MAX ? BATCH_MAX : due;
		for (uint64_t i = 0; i < due; i++)
			make_syn(&pkts[i], net, to.sin_addr, (uint16_t)dport, sent + i);
		for (uint64_t done = 0; done < due;) {
			int n = sendmmsg(fd, msgs + done, (unsigned)(due - done), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != ENOBUFS) {
				perror("flowgen: sendmmsg");
				return 1;
			}
			if (n < 0) { /* the device queue is full: this slot's rest is lost */
				dropped += due - done;
				break;
			}
			done += (uint64_t)n;
		}
		sent += due;
		next.tv_nsec += SLOT_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	t0 = now_s() - t0;
	sent -= dropped;
	printf("sent %llu SYNs in %.2f s: %.0f/s (target %lu/s; %llu dropped: queue full)\n",
	       (unsigned long long)sent, t0, (double)sent / t0, rate, (unsigned long long)dropped);
	close(fd);
	return 0;
}
