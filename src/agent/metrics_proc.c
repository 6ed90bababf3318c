/* ALBM agent: host-wide measurements from procfs (meminfo, stat, loadavg, TCP) */
#include "agent/metrics_proc.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/metrics_file.h"
#include "common/util.h"

static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl + 1 : p + strlen(p);
}

static int bad_line(const char *what, const char *p, char *err, size_t errlen)
{
	char line[96];

	albm_seterr(err, errlen, "%s: cannot parse line '%s'", what,
		    albm_line_excerpt(p, line, sizeof(line)));
	return -EINVAL;
}

/* "Key:   123 kB" -> bytes; the unit is optional (HugePages_* have none). */
static int meminfo_value(const char *p, size_t klen, uint64_t *bytes)
{
	unsigned long long v;
	char *e;

	p += klen + 1;
	p += strspn(p, " \t");
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno)
		return -EINVAL;
	if (!strncmp(e, " kB", 3)) {
		if (v > UINT64_MAX / 1024)
			return -EINVAL;
		v *= 1024;
		e += 3;
	}
	if (*e && *e != '\n')
		return -EINVAL;
	*bytes = v;
	return 0;
}

int albm_proc_parse_meminfo(const char *what, const char *text, uint64_t *total, uint64_t *avail,
			    char *err, size_t errlen)
{
	static const char *const keys[] = { "MemTotal", "MemAvailable", "MemFree", "Buffers",
					    "Cached" };
	uint64_t val[ARRAY_SIZE(keys)];
	bool seen[ARRAY_SIZE(keys)] = { false };

	for (const char *p = text; *p; p = next_line(p)) {
		size_t klen = strcspn(p, ":\n");

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			if (klen != strlen(keys[i]) || strncmp(p, keys[i], klen) || p[klen] != ':')
				continue;
			if (meminfo_value(p, klen, &val[i]))
				return bad_line(what, p, err, errlen);
			seen[i] = true;
		}
	}
	if (!seen[0]) {
		albm_seterr(err, errlen, "%s: no MemTotal line", what);
		return -ENOENT;
	}
	if (!seen[1] && !(seen[2] && seen[3] && seen[4])) {
		albm_seterr(err, errlen, "%s: no MemAvailable line (nor MemFree/Buffers/Cached)",
			    what);
		return -ENOENT;
	}
	*total = val[0];
	*avail = seen[1] ? val[1] : val[2] + val[3] + val[4];
	if (*avail > *total)
		*avail = *total;
	return 0;
}

/* "cpu  user nice system idle iowait irq softirq steal guest guest_nice" */
static int stat_cpu_line(const char *p, struct albm_proc_cpu *cpu)
{
	uint64_t f[8] = { 0 };
	int n = 0;
	char *e;

	p += 3;
	while (n < 8 && (*p == ' ' || *p == '\t')) {
		p += strspn(p, " \t");
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		f[n++] = strtoull(p, &e, 10);
		if (errno || (*e && *e != ' ' && *e != '\n'))
			return -EINVAL;
		p = e;
	}
	if (n < 4) /* user nice system idle exist on every kernel */
		return -EINVAL;
	cpu->busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
	cpu->total = cpu->busy + f[3] + f[4];
	return 0;
}

int albm_proc_parse_stat(const char *what, const char *text, struct albm_proc_cpu *cpu, char *err,
			 size_t errlen)
{
	for (const char *p = text; *p; p = next_line(p)) {
		if (strncmp(p, "cpu ", 4))
			continue;
		if (stat_cpu_line(p, cpu))
			return bad_line(what, p, err, errlen);
		return 0;
	}
	albm_seterr(err, errlen, "%s: no 'cpu' line", what);
	return -ENOENT;
}

/* "0.52 0.23 0.12 1/87 5925" */
int albm_proc_parse_loadavg(const char *what, const char *text, double *load1, uint32_t *runnable,
			    char *err, size_t errlen)
{
	double l1, l5, l15;
	unsigned run, total;
	int n = 0;

	if (sscanf(text, "%lf %lf %lf %u/%u%n", &l1, &l5, &l15, &run, &total, &n) != 5 ||
	    text[n] != ' ' || !isfinite(l1) || l1 < 0)
		return bad_line(what, text, err, errlen);
	*load1 = l1;
	*runnable = run;
	return 0;
}

/* One socket line: "  sl: laddr:lport raddr:rport st ..."; returns st or -EINVAL. */
static int tcp_line_state(const char *p)
{
	unsigned sl, st;
	char la[80], ra[80];
	int n = 0;

	if (sscanf(p, " %u: %79[0-9A-Fa-f:] %79[0-9A-Fa-f:] %2x%n", &sl, la, ra, &st, &n) != 4)
		return -EINVAL;
	if (!strchr(la, ':') || !strchr(ra, ':') || (p[n] != ' ' && p[n] != '\n' && p[n]))
		return -EINVAL;
	return (int)st;
}

int albm_proc_count_tcp(const char *what, const char *text, uint32_t *count, char *err,
			size_t errlen)
{
	const char *p = text;

	if (strncmp(p + strspn(p, " "), "sl ", 3)) {
		albm_seterr(err, errlen, "%s: missing the 'sl local_address ...' header", what);
		return -EINVAL;
	}
	for (p = next_line(p); *p; p = next_line(p)) {
		int st = tcp_line_state(p);

		if (st < 0)
			return bad_line(what, p, err, errlen);
		if (st == TCP_ESTABLISHED)
			(*count)++;
	}
	return 0;
}

/* Ask for one family's established TCP sockets; the kernel filters by state. */
static int diag_request(int fd, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (uint8_t)family,
			 .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = 1u << TCP_ESTABLISHED },
	};

	return send(fd, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -errno;
}

/*
 * The older TCPDIAG_GETSOCK request dumps IPv4 and IPv6 sockets in one walk of the
 * established hash table: the walk over every bucket is what a count costs, so this
 * halves it.  Kernels without it answer with an error; then one dump per family.
 */
static int diag_request_both(int fd)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg),
			 .nlmsg_type = TCPDIAG_GETSOCK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .idiag_states = 1u << TCP_ESTABLISHED },
	};

	return send(fd, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -errno;
}

/* Count the dump's messages of the given type until NLMSG_DONE. */
static int diag_count(int fd, uint16_t type, uint32_t *count)
{
	static long buf[8192 / sizeof(long)];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type == type)
				(*count)++;
		}
	}
}

static int diag_open(int *nlfd, char *err, size_t errlen)
{
	int rc;

	if (*nlfd >= 0)
		return 0;
	*nlfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (*nlfd >= 0)
		return 0;
	rc = -errno;
	albm_seterr(err, errlen, "socket(NETLINK_SOCK_DIAG): %s", strerror(errno));
	return rc;
}

int albm_proc_tcp_netlink(int *nlfd, uint32_t *count, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static bool no_compat;
	uint32_t n = 0;
	int rc;

	rc = diag_open(nlfd, err, errlen);
	if (rc)
		return rc;
	if (!no_compat) {
		rc = diag_request_both(*nlfd);
		if (!rc)
			rc = diag_count(*nlfd, TCPDIAG_GETSOCK, &n);
		if (!rc) {
			*count = n;
			return 0;
		}
		no_compat = true;
		n = 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		rc = diag_request(*nlfd, families[i]);
		if (!rc)
			rc = diag_count(*nlfd, SOCK_DIAG_BY_FAMILY, &n);
		if (rc) {
			albm_seterr(err, errlen, "sock_diag dump (%s): %s",
				    families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-rc));
			close(*nlfd);
			*nlfd = -1;
			return rc;
		}
	}
	*count = n;
	return 0;
}

double albm_proc_cpu_util(const struct albm_proc_cpu *prev, const struct albm_proc_cpu *cur)
{
	double dt, db;

	if (cur->total <= prev->total || cur->busy < prev->busy)
		return 0.0;
	dt = (double)(cur->total - prev->total);
	db = (double)(cur->busy - prev->busy);
	return db >= dt ? 1.0 : db / dt;
}
