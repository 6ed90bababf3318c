/* ALBM: address parsing and formatting — IPv4 "host:port", IPv6 "[v6]:port" */
#ifndef ALBM_COMMON_ADDR_H
#define ALBM_COMMON_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* One socket address, IPv4 or IPv6; `len` is what bind()/connect() take. */
struct albm_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* Longest text form: "[" v6 "%" scope "]:" port. */
#define ALBM_ADDRSTRLEN (INET6_ADDRSTRLEN + 16 + 8)

/*
 * Parse "1.2.3.4:80", "[::1]:80" or "[fe80::1%eth0]:80" (numeric only, no DNS: a
 * balancer must not depend on a resolver at start-up).  A bare IPv6 address without
 * brackets is rejected because its port would be ambiguous.
 * Returns 0, or -EINVAL with a message naming the problem in err.
 */
int albm_addr_parse(const char *text, struct albm_addr *out, char *err, size_t errlen);
/* Parse an address without a port ("10.0.0.1", "::1", "[::1]"); port is set to 0. */
int albm_addr_parse_host(const char *text, struct albm_addr *out, char *err, size_t errlen);
/* Format as "1.2.3.4:80" / "[::1]:80" into buf (ALBM_ADDRSTRLEN bytes); returns buf. */
char *albm_addr_format(const struct albm_addr *a, char *buf, size_t len);
/* Format the host part only ("1.2.3.4" / "::1"). */
char *albm_addr_format_host(const struct albm_addr *a, char *buf, size_t len);
int albm_addr_family(const struct albm_addr *a);
unsigned albm_addr_port(const struct albm_addr *a);
void albm_addr_set_port(struct albm_addr *a, unsigned port);
/* Same family, host and port. */
bool albm_addr_equal(const struct albm_addr *a, const struct albm_addr *b);

#endif
