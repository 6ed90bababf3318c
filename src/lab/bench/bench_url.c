/* ALBM: albm-bench's target URL — "http://HOST:PORT[/PREFIX]", numeric hosts only */
#include "lab/bench/bench_url.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

/* Validate and store the path part ("" or "/..."): printable, no '?', '#', spaces. */
static int url_prefix(const char *path, struct bench_url *url)
{
	size_t n = strlen(path);

	while (n && path[n - 1] == '/')
		n--;
	if (n >= sizeof(url->prefix))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
			return -EINVAL;
	}
	memcpy(url->prefix, path, n);
	url->prefix[n] = '\0';
	return 0;
}

int bench_url_parse(const char *text, struct bench_url *url, char *err, size_t errlen)
{
	char hostport[ALBM_ADDRSTRLEN + 8], aerr[128];
	const char *hp, *slash;
	struct bench_url u;
	size_t n;

	memset(&u, 0, sizeof(u));
	if (!text || strncmp(text, "http://", 7)) {
		albm_seterr(err, errlen, "url '%s': must start with http://", text ? text : "");
		return -EINVAL;
	}
	hp = text + 7;
	slash = strchr(hp, '/');
	n = slash ? (size_t)(slash - hp) : strlen(hp);
	if (!n || n >= sizeof(hostport) - 3 || memchr(hp, '@', n)) {
		albm_seterr(err, errlen, "url '%s': bad host:port", text);
		return -EINVAL;
	}
	memcpy(hostport, hp, n);
	hostport[n] = '\0';
	/* No port: HTTP's 80.  "[v6]" and "v4" have no ':' after the host part. */
	if (hostport[n - 1] == ']' || !strchr(hostport, ':'))
		strcat(hostport, ":80");
	if (albm_addr_parse(hostport, &u.addr, aerr, sizeof(aerr))) {
		albm_seterr(err, errlen, "url '%s': %s (numeric address and port, no DNS)", text,
			    aerr);
		return -EINVAL;
	}
	albm_addr_format(&u.addr, u.host, sizeof(u.host));
	if (slash && url_prefix(slash, &u)) {
		albm_seterr(err, errlen, "url '%s': bad path prefix (no query, fragment or spaces)",
			    text);
		return -EINVAL;
	}
	*url = u;
	return 0;
}
