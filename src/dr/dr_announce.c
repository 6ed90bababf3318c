/* ALBM: announce a VIP while this process lives — a non-persistent tun device holding the VIP */
#include "dr/dr_announce.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

struct dr_announce {
	int fd; /* /dev/net/tun, attached to the device: the device's lifetime */
	int ifindex;
	char ifname[IF_NAMESIZE];
};

/* IFF_UP on the device (a plain ioctl; the tun fd itself cannot do it). */
static int link_up(const char *ifname)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

struct dr_announce *dr_announce_open(const char *ifname, char *err, size_t errlen)
{
	struct dr_announce *a;
	struct ifreq ifr = {};
	int rc;

	if (!ifname[0] || strlen(ifname) >= IF_NAMESIZE) {
		albm_seterr(err, errlen, "announce interface '%s': 1 to %d characters", ifname,
			    IF_NAMESIZE - 1);
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->fd = -1;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (a->fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "announce interface %s: /dev/net/tun: %s", ifname,
			    strerror(-rc));
		goto fail;
	}
	/* IFF_TUN without IFF_PERSIST (the default): the device dies with the last fd. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(a->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "announce interface %s: create: %s%s", ifname,
			    strerror(-rc), rc == -EBUSY ? " (another process holds it)" : "");
		goto fail;
	}
	rc = link_up(ifname);
	a->ifindex = (int)if_nametoindex(ifname);
	if (rc || !a->ifindex) {
		rc = rc ? rc : -ENODEV;
		albm_seterr(err, errlen, "announce interface %s: set up: %s", ifname,
			    strerror(-rc));
		goto fail;
	}
	return a;
fail:
	dr_announce_close(a);
	errno = -rc;
	return NULL;
}

struct addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[64];
};

static void addr_attr(struct addr_req *r, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* RTM_NEWADDR / RTM_DELADDR of vip/32 (/128) on the device; 0 or the kernel's -errno. */
static int addr_change(struct dr_announce *a, int type, const struct albm_addr *vip)
{
	struct addr_req r = {};
	char buf[512];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	bool v4 = albm_addr_family(vip) == AF_INET;
	const void *ip =
		v4 ? (const void *)&vip->u.sin.sin_addr : (const void *)&vip->u.sin6.sin6_addr;
	int fd, rc;
	ssize_t n;

	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifa));
	r.nh.nlmsg_type = (unsigned short)type;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		r.nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	r.nh.nlmsg_seq = 1;
	r.ifa.ifa_family = v4 ? AF_INET : AF_INET6;
	r.ifa.ifa_prefixlen = v4 ? 32 : 128;
	r.ifa.ifa_flags = v4 ? 0 : IFA_F_NODAD; /* a VIP is unique by design: no DAD delay */
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = (unsigned)a->ifindex;
	addr_attr(&r, IFA_LOCAL, ip, v4 ? 4 : 16);
	addr_attr(&r, IFA_ADDRESS, ip, v4 ? 4 : 16);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &r, r.nh.nlmsg_len, 0) < 0) {
		rc = -errno;
	} else if ((n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		rc = -errno;
	} else if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
		   h->nlmsg_type != NLMSG_ERROR) {
		rc = -EPROTO;
	} else {
		rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error; /* 0 = ACK */
	}
	close(fd);
	return rc;
}

static int announce_change(struct dr_announce *a, int type, const struct albm_addr *vip, char *err,
			   size_t errlen)
{
	char buf[ALBM_ADDRSTRLEN];
	int fam = albm_addr_family(vip), rc;

	albm_addr_format_host(vip, buf, sizeof(buf));
	if (fam != AF_INET && fam != AF_INET6) {
		albm_seterr(err, errlen, "announce %s: not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	rc = addr_change(a, type, vip);
	if (rc)
		albm_seterr(err, errlen, "%s %s on %s: %s",
			    type == RTM_NEWADDR ? "announce" : "withdraw", buf, a->ifname,
			    strerror(-rc));
	return rc;
}

int dr_announce_add(struct dr_announce *a, const struct albm_addr *vip, char *err, size_t errlen)
{
	return announce_change(a, RTM_NEWADDR, vip, err, errlen);
}

int dr_announce_del(struct dr_announce *a, const struct albm_addr *vip, char *err, size_t errlen)
{
	return announce_change(a, RTM_DELADDR, vip, err, errlen);
}

int dr_announce_ifindex(const struct dr_announce *a)
{
	return a->ifindex;
}

void dr_announce_close(struct dr_announce *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd); /* the last reference: the kernel unregisters the device */
	free(a);
}
