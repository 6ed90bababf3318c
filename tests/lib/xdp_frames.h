/* ALBM test helpers: build Ethernet/IPv4/IPv6/TCP frames and run them through the XDP program */
#ifndef ALBM_TESTS_XDP_FRAMES_H
#define ALBM_TESTS_XDP_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dr/dr.h"

/* Fixed layout offsets of an untagged frame without IP options. */
#define FR_ETH_LEN 14
#define FR_IP4_LEN 20
#define FR_IP6_LEN 40
#define FR_TCP_LEN 20
#define FR_MAX     256

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static const uint8_t fr_own_mac[6] = { 0x02, 0xa1, 0xb0, 0x00, 0x00, 0x01 };
static const uint8_t fr_client_mac[6] = { 0x02, 0xc1, 0x00, 0x00, 0x00, 0x02 };

static inline void fr_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline size_t fr_eth(uint8_t *f, uint16_t ethertype)
{
	memcpy(f, fr_own_mac, 6);
	memcpy(f + 6, fr_client_mac, 6);
	fr_put16(f + 12, ethertype);
	return FR_ETH_LEN;
}

static inline size_t fr_tcp(uint8_t *t, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(t, 0, FR_TCP_LEN);
	fr_put16(t, sport);
	fr_put16(t + 2, dport);
	t[12] = 5 << 4; /* data offset: 5 words */
	t[13] = flags;
	fr_put16(t + 14, 65535);
	return FR_TCP_LEN;
}

/* Ethernet + IPv4 + TCP, no options, no payload: 54 bytes. */
static inline size_t fr_tcp4(uint8_t *f, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport, uint8_t flags)
{
	uint8_t *ip = f + fr_eth(f, 0x0800);

	memset(ip, 0, FR_IP4_LEN);
	ip[0] = 0x45;
	fr_put16(ip + 2, FR_IP4_LEN + FR_TCP_LEN);
	fr_put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6; /* TCP */
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	return FR_ETH_LEN + FR_IP4_LEN + fr_tcp(ip + FR_IP4_LEN, sport, dport, flags);
}

/* Ethernet + IPv6 + TCP: 74 bytes. */
static inline size_t fr_tcp6(uint8_t *f, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport, uint8_t flags)
{
	uint8_t *ip = f + fr_eth(f, 0x86dd);

	memset(ip, 0, FR_IP6_LEN);
	ip[0] = 0x60;
	fr_put16(ip + 4, FR_TCP_LEN);
	ip[6] = 6; /* next header: TCP */
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	return FR_ETH_LEN + FR_IP6_LEN + fr_tcp(ip + FR_IP6_LEN, sport, dport, flags);
}

/*
 * Run one frame through the program; returns the XDP action or -errno from the
 * syscall.  out (FR_MAX bytes) receives the frame as the program left it.
 */
static inline int fr_run(struct albm_dr *dr, const uint8_t *f, size_t len, uint8_t *out,
			 uint32_t *outlen)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = FR_MAX, .repeat = 1);
	int rc = bpf_prog_test_run_opts(dr_prog_fd(dr), &o);

	if (rc < 0)
		return rc;
	if (outlen)
		*outlen = o.data_size_out;
	return (int)o.retval;
}

#endif
