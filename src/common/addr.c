/* ALBM: address parsing and formatting — IPv4 "host:port", IPv6 "[v6]:port" */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static int parse_port(const char *s, unsigned *port, char *err, size_t errlen, const char *text)
{
	uint64_t v;

	if (albm_parse_u64(s, &v) < 0 || v == 0 || v > 65535) {
		albm_seterr(err, errlen, "bad port '%s' in address '%s' (1-65535)", s, text);
		return -EINVAL;
	}
	*port = (unsigned)v;
	return 0;
}

/* Parse a host (no brackets) into out, keeping port 0. */
static int parse_host_plain(const char *host, struct albm_addr *out, char *err, size_t errlen,
			    const char *text)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *scope;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &out->u.sin.sin_addr) == 1) {
		out->u.sin.sin_family = AF_INET;
		out->len = sizeof(out->u.sin);
		return 0;
	}
	if (strlen(host) >= sizeof(buf))
		goto bad;
	strcpy(buf, host);
	scope = strchr(buf, '%');
	if (scope)
		*scope++ = '\0';
	if (inet_pton(AF_INET6, buf, &out->u.sin6.sin6_addr) != 1)
		goto bad;
	out->u.sin6.sin6_family = AF_INET6;
	out->len = sizeof(out->u.sin6);
	if (scope) {
		unsigned idx = if_nametoindex(scope);
		uint64_t n;
		if (!idx && albm_parse_u64(scope, &n) == 0 && n <= UINT32_MAX)
			idx = (unsigned)n;
		if (!idx) {
			albm_seterr(err, errlen, "unknown interface '%s' in address '%s'", scope,
				    text);
			return -EINVAL;
		}
		out->u.sin6.sin6_scope_id = idx;
	}
	return 0;
bad:
	albm_seterr(err, errlen, "bad IP address '%s' in '%s' (numeric IPv4 or IPv6 expected)",
		    host, text);
	return -EINVAL;
}

int albm_addr_parse(const char *text, struct albm_addr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 4];
	const char *colon, *port_s, *orig = text;
	unsigned port;
	size_t hlen;

	if (!text || !*text) {
		albm_seterr(err, errlen, "empty address");
		return -EINVAL;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':') {
			albm_seterr(err, errlen, "bad address '%s' (expected [ipv6]:port)", text);
			return -EINVAL;
		}
		hlen = (size_t)(close - text - 1);
		port_s = close + 2;
		text++;
	} else {
		colon = strrchr(text, ':');
		if (!colon) {
			albm_seterr(err, errlen, "address '%s' has no port (expected host:port)",
				    text);
			return -EINVAL;
		}
		if (memchr(text, ':', (size_t)(colon - text))) {
			albm_seterr(err, errlen,
				    "bad address '%s' (IPv6 addresses need brackets: [v6]:port)",
				    text);
			return -EINVAL;
		}
		hlen = (size_t)(colon - text);
		port_s = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		albm_seterr(err, errlen, "bad host in address '%s'", orig);
		return -EINVAL;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (parse_port(port_s, &port, err, errlen, orig) < 0)
		return -EINVAL;
	if (parse_host_plain(host, out, err, errlen, orig) < 0)
		return -EINVAL;
	albm_addr_set_port(out, port);
	return 0;
}

int albm_addr_parse_host(const char *text, struct albm_addr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 4];
	size_t n;

	if (!text || !*text) {
		albm_seterr(err, errlen, "empty address");
		return -EINVAL;
	}
	n = strlen(text);
	if (text[0] == '[') {
		if (n < 3 || text[n - 1] != ']' || n - 2 >= sizeof(host)) {
			albm_seterr(err, errlen, "bad address '%s'", text);
			return -EINVAL;
		}
		memcpy(host, text + 1, n - 2);
		host[n - 2] = '\0';
		return parse_host_plain(host, out, err, errlen, text);
	}
	return parse_host_plain(text, out, err, errlen, text);
}

char *albm_addr_format_host(const struct albm_addr *a, char *buf, size_t len)
{
	const void *src = a->u.sa.sa_family == AF_INET6 ? (const void *)&a->u.sin6.sin6_addr
							: (const void *)&a->u.sin.sin_addr;
	if (a->u.sa.sa_family != AF_INET && a->u.sa.sa_family != AF_INET6) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (!inet_ntop(a->u.sa.sa_family, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

char *albm_addr_format(const struct albm_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	albm_addr_format_host(a, host, sizeof(host));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, albm_addr_port(a));
	else
		snprintf(buf, len, "%s:%u", host, albm_addr_port(a));
	return buf;
}

int albm_addr_family(const struct albm_addr *a)
{
	return a->u.sa.sa_family;
}

unsigned albm_addr_port(const struct albm_addr *a)
{
	if (a->u.sa.sa_family == AF_INET6)
		return ntohs(a->u.sin6.sin6_port);
	return ntohs(a->u.sin.sin_port);
}

void albm_addr_set_port(struct albm_addr *a, unsigned port)
{
	if (a->u.sa.sa_family == AF_INET6)
		a->u.sin6.sin6_port = htons((uint16_t)port);
	else
		a->u.sin.sin_port = htons((uint16_t)port);
}

bool albm_addr_equal(const struct albm_addr *a, const struct albm_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.sin.sin_port == b->u.sin.sin_port &&
		       a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.sin6.sin6_port == b->u.sin6.sin6_port &&
		       !memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr, 16) &&
		       a->u.sin6.sin6_scope_id == b->u.sin6.sin6_scope_id;
	return false;
}
