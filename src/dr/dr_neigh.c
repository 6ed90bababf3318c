/* ALBM: resolve a real server's MAC from the kernel's neighbour table (rtnetlink) */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "common/util.h"
#include "dr/dr.h"

/*
 * The neighbour table is the kernel's answer to "which MAC has this IP on this
 * link".  We ask for one entry (RTM_GETNEIGH); when there is none or it failed we
 * ask the kernel to resolve it: RTM_NEWNEIGH with NTF_USE creates the entry and
 * sends the ARP request / neighbour solicitation, the same as if a packet were
 * waiting for it, without sending any packet to the real itself.
 */
struct neigh_req {
	struct nlmsghdr nh;
	struct ndmsg ndm;
	char attrs[64];
};

/* Neighbour states whose link-layer address can be used. */
#define NEIGH_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static void neigh_build(struct neigh_req *req, int type, int flags, const struct albm_addr *ip,
			int ifindex)
{
	struct rtattr *rta;
	const void *a;
	size_t alen;

	if (albm_addr_family(ip) == AF_INET) {
		a = &ip->u.sin.sin_addr;
		alen = 4;
	} else {
		a = &ip->u.sin6.sin6_addr;
		alen = 16;
	}
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req->ndm.ndm_family = albm_addr_family(ip);
	req->ndm.ndm_ifindex = ifindex;
	rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(NLMSG_LENGTH(sizeof(req->ndm))));
	rta->rta_type = NDA_DST;
	rta->rta_len = RTA_LENGTH(alen);
	memcpy(RTA_DATA(rta), a, alen);
	req->nh.nlmsg_len = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(req->ndm))) + RTA_ALIGN(rta->rta_len);
}

/* Send req and read the one answer into buf; returns its length or -errno. */
static int neigh_talk(int fd, struct neigh_req *req, char *buf, size_t len)
{
	static uint32_t seq;
	ssize_t n;

	req->nh.nlmsg_seq = ++seq;
	if (send(fd, req, req->nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n < 0)
			return -errno;
		if ((size_t)n >= sizeof(struct nlmsghdr) &&
		    ((struct nlmsghdr *)buf)->nlmsg_seq == req->nh.nlmsg_seq)
			return (int)n;
	}
}

/* Look the entry up: 0 with *state and mac (when it has one), or -errno (-ENOENT). */
static int neigh_get(int fd, const struct albm_addr *ip, int ifindex, uint16_t *state,
		     uint8_t mac[6], bool *has_mac)
{
	char buf[1024] = { 0 }; /* a short reply leaves no stale header behind */
	struct neigh_req req;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ndmsg *ndm;
	struct rtattr *rta;
	int n, alen;

	neigh_build(&req, RTM_GETNEIGH, 0, ip, ifindex);
	n = neigh_talk(fd, &req, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (!NLMSG_OK(nh, (unsigned)n))
		return -EBADMSG;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EBADMSG;
	if (nh->nlmsg_type != RTM_NEWNEIGH || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return -EBADMSG;
	ndm = NLMSG_DATA(nh);
	*state = ndm->ndm_state;
	*has_mac = false;
	alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ndm));
	for (rta = (struct rtattr *)((char *)ndm + NLMSG_ALIGN(sizeof(*ndm))); RTA_OK(rta, alen);
	     rta = RTA_NEXT(rta, alen)) {
		if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(mac, RTA_DATA(rta), 6);
			*has_mac = true;
		}
	}
	return 0;
}

/* Ask the kernel to (re)resolve the entry: creates it if needed, sends a probe. */
static int neigh_use(int fd, const struct albm_addr *ip, int ifindex)
{
	char buf[512] = { 0 };
	struct neigh_req req;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int n;

	neigh_build(&req, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, ip, ifindex);
	req.ndm.ndm_flags = NTF_USE;
	n = neigh_talk(fd, &req, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (!NLMSG_OK(nh, (unsigned)n) || nh->nlmsg_type != NLMSG_ERROR)
		return -EBADMSG;
	return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
}

/* Poll the entry until it has a usable MAC, fails, or the deadline passes. */
static int neigh_wait(int fd, const struct albm_addr *ip, int ifindex, uint8_t mac[6],
		      uint64_t deadline)
{
	uint16_t state = 0;
	bool has_mac = false;
	int rc;

	for (;;) {
		rc = neigh_get(fd, ip, ifindex, &state, mac, &has_mac);
		if (rc == 0 && (state & NEIGH_USABLE) && has_mac)
			return 0;
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (rc == 0 && (state & NUD_FAILED))
			return -EHOSTUNREACH;
		if (albm_now_ms() >= deadline)
			return -EHOSTUNREACH;
		poll(NULL, 0, 10);
	}
}

int dr_resolve_mac(const char *ifname, const struct albm_addr *ip, uint8_t mac[6],
		   unsigned timeout_ms, char *err, size_t errlen)
{
	char host[ALBM_ADDRSTRLEN];
	uint64_t deadline = albm_now_ms() + timeout_ms;
	uint16_t state = 0;
	bool has_mac = false;
	int ifindex, fd, rc;

	albm_addr_format_host(ip, host, sizeof(host));
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		albm_seterr(err, errlen, "resolve %s: interface %s: %s", host, ifname,
			    strerror(errno));
		return -ENODEV;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "resolve %s: netlink socket: %s", host, strerror(-rc));
		return rc;
	}
	rc = neigh_get(fd, ip, ifindex, &state, mac, &has_mac);
	if (rc == 0 && (state & NEIGH_USABLE) && has_mac)
		goto out;
	rc = neigh_use(fd, ip, ifindex);
	if (rc == 0)
		rc = neigh_wait(fd, ip, ifindex, mac, deadline);
	if (rc == -EHOSTUNREACH)
		albm_seterr(err, errlen,
			    "resolve %s on %s: no ARP/neighbour reply within %u ms "
			    "(not on this L2 segment, or down?)",
			    host, ifname, timeout_ms);
	else if (rc < 0)
		albm_seterr(err, errlen, "resolve %s on %s: rtnetlink: %s", host, ifname,
			    strerror(-rc));
out:
	close(fd);
	return rc;
}
