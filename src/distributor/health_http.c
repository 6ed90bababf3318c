/* ALBM: albmd's L7 health check — keepalived's HTTP_GET: GET PATH, expect a status
 *
 * A server behind `proxy-protocol v1|v2` rejects a connection that does not start with
 * a PROXY header, so the check sends one first, as HAProxy's check-send-proxy does: it
 * carries the check connection's own addresses (albmd -> server).  The header format
 * is the one proxy.c writes for proxied connections (PROXY protocol spec, v1 text and
 * v2 binary).
 */
#include "distributor/health_http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t pp2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

static int pp_v1(const struct albm_addr *src, const struct albm_addr *dst, char *out, size_t len)
{
	char s[ALBM_ADDRSTRLEN], d[ALBM_ADDRSTRLEN];

	return snprintf(out, len, "PROXY %s %s %s %u %u\r\n",
			albm_addr_family(src) == AF_INET6 ? "TCP6" : "TCP4",
			albm_addr_format_host(src, s, sizeof(s)),
			albm_addr_format_host(dst, d, sizeof(d)), albm_addr_port(src),
			albm_addr_port(dst));
}

static int pp_v2(const struct albm_addr *src, const struct albm_addr *dst, char *out, size_t len)
{
	bool v6 = albm_addr_family(src) == AF_INET6;
	size_t alen = v6 ? 36 : 12, ip = v6 ? 16 : 4;
	uint16_t sp = htons((uint16_t)albm_addr_port(src)),
		 dp = htons((uint16_t)albm_addr_port(dst));
	const void *sa =
		v6 ? (const void *)&src->u.sin6.sin6_addr : (const void *)&src->u.sin.sin_addr;
	const void *da =
		v6 ? (const void *)&dst->u.sin6.sin6_addr : (const void *)&dst->u.sin.sin_addr;

	if (len < 16 + alen)
		return -1;
	memcpy(out, pp2_sig, 12);
	out[12] = 0x21;             /* version 2, PROXY */
	out[13] = v6 ? 0x21 : 0x11; /* TCP over IPv6 / IPv4 */
	out[14] = (char)(alen >> 8);
	out[15] = (char)(alen & 0xff);
	memcpy(out + 16, sa, ip);
	memcpy(out + 16 + ip, da, ip);
	memcpy(out + 16 + 2 * ip, &sp, 2);
	memcpy(out + 18 + 2 * ip, &dp, 2);
	return (int)(16 + alen);
}

static int pp_header(enum albmd_proxy_proto pp, int fd, const struct albm_addr *server, char *out,
		     size_t len)
{
	struct albm_addr local = { .len = sizeof(local.u) };

	if (getsockname(fd, &local.u.sa, &local.len) < 0 ||
	    albm_addr_family(&local) != albm_addr_family(server))
		return -1;
	return pp == ALBMD_PP_V1 ? pp_v1(&local, server, out, len)
				 : pp_v2(&local, server, out, len);
}

int albmd_hc_http_request(const struct albmd_cfg_health *cfg, enum albmd_proxy_proto pp, int fd,
			  const struct albm_addr *server, char *out, size_t len)
{
	char host[ALBM_ADDRSTRLEN];
	int n = 0, m;

	if (pp != ALBMD_PP_OFF && (n = pp_header(pp, fd, server, out, len)) < 0)
		return -1;
	m = snprintf(out + n, len - (size_t)n,
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: albmd-health-check\r\n"
		     "Connection: close\r\n\r\n",
		     cfg->path,
		     cfg->host[0] ? cfg->host : albm_addr_format(server, host, sizeof(host)));
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -1;
	return n + m;
}

int albmd_hc_http_status(const char *buf, size_t len)
{
	const char *lf = memchr(buf, '\n', len);
	int code = 0;

	if (memcmp(buf, "HTTP/", len < 5 ? len : 5))
		return -1;
	if (!lf)
		return len > 512 ? -1 : 0;
	/* "HTTP/1.x NNN ..." */
	if (lf - buf < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		code = code * 10 + (buf[i] - '0');
	}
	if (code < 100 || code > 599 || (lf - buf > 12 && buf[12] != ' ' && buf[12] != '\r'))
		return -1;
	return code;
}
