/* ALBM: the PROXY protocol header (v1 text, v2 binary) albmd sends to the servers
 *
 * `proxy-protocol v1|v2` makes the first bytes a server receives tell the client's
 * address (HAProxy's PROXY protocol specification): a text line for v1, a binary
 * block (signature, PROXY command, TCP over IPv4 or IPv6, addresses) for v2.
 */
#include "distributor/proxy/pp.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint8_t pp2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

static int pp_v1(bool v6, const struct albm_addr *peer, const struct albm_addr *local, char *out,
		 size_t len)
{
	char src[ALBM_ADDRSTRLEN], dst[ALBM_ADDRSTRLEN];
	int n = snprintf(out, len, "PROXY %s %s %s %u %u\r\n", v6 ? "TCP6" : "TCP4",
			 albm_addr_format_host(peer, src, sizeof(src)),
			 albm_addr_format_host(local, dst, sizeof(dst)), albm_addr_port(peer),
			 albm_addr_port(local));

	return n > 0 && (size_t)n < len ? n : -1;
}

static int pp_v2(bool v6, const struct albm_addr *peer, const struct albm_addr *local, char *out,
		 size_t len)
{
	size_t alen = v6 ? 36 : 12, n = 16 + alen;
	uint16_t sp = htons((uint16_t)albm_addr_port(peer));
	uint16_t dp = htons((uint16_t)albm_addr_port(local));

	if (len < n)
		return -1;
	memcpy(out, pp2_sig, 12);
	out[12] = 0x21; /* version 2, PROXY */
	out[13] = v6 ? 0x21 : 0x11;
	out[14] = (char)(alen >> 8);
	out[15] = (char)(alen & 0xff);
	if (v6) {
		memcpy(out + 16, &peer->u.sin6.sin6_addr, 16);
		memcpy(out + 32, &local->u.sin6.sin6_addr, 16);
		memcpy(out + 48, &sp, 2);
		memcpy(out + 50, &dp, 2);
	} else {
		memcpy(out + 16, &peer->u.sin.sin_addr, 4);
		memcpy(out + 20, &local->u.sin.sin_addr, 4);
		memcpy(out + 24, &sp, 2);
		memcpy(out + 26, &dp, 2);
	}
	return (int)n;
}

int albmd_pp_header(enum albmd_proxy_proto v, const struct albm_addr *peer,
		    const struct albm_addr *local, char *out, size_t len)
{
	bool v6 = albm_addr_family(peer) == AF_INET6;

	if (albm_addr_family(peer) != albm_addr_family(local) ||
	    (!v6 && albm_addr_family(peer) != AF_INET))
		return -1;
	if (v == ALBMD_PP_V1)
		return pp_v1(v6, peer, local, out, len);
	if (v == ALBMD_PP_V2)
		return pp_v2(v6, peer, local, out, len);
	return -1;
}
