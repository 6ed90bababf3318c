/* ALBM: Direct Routing data plane — XDP loader, VIP/real maps, lookup tables, counters */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define LOG_COMPONENT "dr"
#include "common/log.h"
#include "common/util.h"
#include "dr/dr.h"
#include "dr/dr_priv.h"

/* Names of enum albm_stat, in its order. */
static const char *const stat_names[ALBM_STAT__COUNT] = {
	[ALBM_STAT_RX] = "rx",
	[ALBM_STAT_TX] = "tx",
	[ALBM_STAT_NEW_FLOW] = "new_flow",
	[ALBM_STAT_RESCHED] = "resched_removed_real",
	[ALBM_STAT_PASS_SHORT_ETH] = "pass_short_eth",
	[ALBM_STAT_PASS_VLAN] = "pass_vlan",
	[ALBM_STAT_PASS_NOT_IP] = "pass_not_ip",
	[ALBM_STAT_PASS_SHORT_IP] = "pass_short_ip",
	[ALBM_STAT_PASS_BAD_IP] = "pass_bad_ip",
	[ALBM_STAT_PASS_FRAGMENT] = "pass_fragment",
	[ALBM_STAT_PASS_IPV6_EXT] = "pass_ipv6_ext",
	[ALBM_STAT_PASS_NOT_TCP] = "pass_not_tcp",
	[ALBM_STAT_PASS_SHORT_TCP] = "pass_short_tcp",
	[ALBM_STAT_PASS_NOT_VIP] = "pass_not_vip",
	[ALBM_STAT_DROP_NO_REAL] = "drop_no_real",
	[ALBM_STAT_DROP_BAD_REAL] = "drop_bad_real",
	[ALBM_STAT_DROP_INTERNAL] = "drop_internal",
	[ALBM_STAT_SYNC_LOST] = "sync_lost",
	[ALBM_STAT_SYNC_HIT] = "sync_hit",
};

size_t dr_stat_count(void)
{
	return ALBM_STAT__COUNT;
}

const char *dr_stat_name(size_t id)
{
	return id < ALBM_STAT__COUNT ? stat_names[id] : NULL;
}

int dr_stat_id(const char *name)
{
	for (size_t i = 0; i < ALBM_STAT__COUNT; i++)
		if (strcmp(stat_names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

/* libbpf's warnings (verifier logs included) go through our log; chatter does not. */
static int dr_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	albm_log_write(ALBM_LOG_WARN, NULL, "%s", line); /* "libbpf: ..." already */
	return 0;
}

/* The interface's index and MAC; it must be an Ethernet device. */
static int dr_if_info(const char *ifname, int *ifindex, uint8_t mac[6], char *err, size_t errlen)
{
	struct ifreq ifr = {};
	int fd, rc = 0;

	if (strlen(ifname) >= IF_NAMESIZE || !(*ifindex = (int)if_nametoindex(ifname))) {
		albm_seterr(err, errlen, "interface %s: no such device", ifname);
		return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "interface %s: socket: %s", ifname, strerror(-rc));
		return rc;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "interface %s: SIOCGIFHWADDR: %s", ifname, strerror(-rc));
	} else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		rc = -EOPNOTSUPP;
		albm_seterr(err, errlen, "interface %s: not an Ethernet device", ifname);
	} else {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	close(fd);
	return rc;
}

/* Ring-buffer bytes: a power of 2, at least a page (the kernel's rule); one page when
 * sync is off (the map exists, the program never writes it). */
static uint32_t dr_ring_bytes(const struct dr_opts *o)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE), want, n;

	if (!o->flow_sync)
		return page;
	want = o->flow_ring ? o->flow_ring : ALBM_FLOW_RING;
	for (n = page; n < want && n < (1u << 30); n <<= 1)
		;
	return n;
}

/* Open and load the program configured by o (own_mac: the source MAC it writes). */
static struct albm_dr *dr_load(const uint8_t own_mac[6], const struct dr_opts *o, char *err,
			       size_t errlen)
{
	struct albm_dr *dr = xcalloc(1, sizeof(*dr));
	int rc;

	dr->link_fd = -1;
	libbpf_set_print(dr_libbpf_print);
	dr->ncpus = libbpf_num_possible_cpus();
	dr->skel = albm_xdp__open();
	if (!dr->skel || dr->ncpus <= 0) {
		errno = errno ? errno : EINVAL;
		albm_seterr(err, errlen, "XDP program: open: %s", strerror(errno));
		goto fail;
	}
	memcpy(dr->skel->rodata->albm_own_mac, own_mac, 6);
	dr->skel->rodata->albm_sync_enabled = o->flow_sync;
	rc = bpf_map__set_max_entries(dr->skel->maps.albm_conns,
				      o->conn_max ? o->conn_max : ALBM_CONN_MAX);
	if (!rc) /* with sync off the program never looks at it */
		rc = bpf_map__set_max_entries(dr->skel->maps.albm_peer_conns,
					      !o->flow_sync ? 1
					      : o->conn_max ? o->conn_max
							    : ALBM_CONN_MAX);
	if (!rc)
		rc = bpf_map__set_max_entries(dr->skel->maps.albm_flow_events, dr_ring_bytes(o));
	if (!rc)
		rc = albm_xdp__load(dr->skel);
	if (!rc && o->flow_sync)
		rc = dr_flow_open(dr);
	if (rc) {
		errno = -rc;
		albm_seterr(err, errlen, "XDP program: load: %s%s", strerror(-rc),
			    rc == -EPERM ? " (needs root / CAP_BPF + CAP_NET_ADMIN)" : "");
		goto fail;
	}
	return dr;
fail:
	rc = errno ? errno : EINVAL;
	albm_xdp__destroy(dr->skel);
	free(dr);
	errno = rc; /* callers (tests) tell "not permitted" from "rejected" */
	return NULL;
}

struct albm_dr *dr_open_detached(const struct dr_opts *opts, char *err, size_t errlen)
{
	static const struct dr_opts none;

	opts = opts ? opts : &none;
	return dr_load(opts->own_mac, opts, err, errlen);
}

struct albm_dr *dr_open(const char *ifname, const struct dr_opts *opts, char *err, size_t errlen)
{
	static const struct dr_opts none;
	uint8_t mac[6];
	struct albm_dr *dr;
	int ifindex, rc;

	opts = opts ? opts : &none;
	if (dr_if_info(ifname, &ifindex, mac, err, errlen) < 0)
		return NULL;
	dr = dr_load(mac, opts, err, errlen);
	if (!dr)
		return NULL;
	LIBBPF_OPTS(bpf_link_create_opts, lopts,
		    .flags =
			    opts->mode == DR_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	dr->link_fd = bpf_link_create(bpf_program__fd(dr->skel->progs.albm_xdp), ifindex, BPF_XDP,
				      &lopts);
	if (dr->link_fd < 0) {
		rc = dr->link_fd;
		albm_seterr(err, errlen, "attach XDP (%s mode) to %s: %s%s",
			    opts->mode == DR_MODE_NATIVE ? "native" : "generic", ifname,
			    strerror(-rc),
			    rc == -EBUSY ? " (another XDP program is attached)" : "");
		dr->link_fd = -1;
		dr_close(dr);
		return NULL;
	}
	dr->ifindex = ifindex;
	snprintf(dr->ifname, sizeof(dr->ifname), "%s", ifname);
	return dr;
}

void dr_close(struct albm_dr *dr)
{
	if (!dr)
		return;
	if (dr->link_fd >= 0)
		close(dr->link_fd); /* the last reference to the link: detaches */
	for (size_t i = 0; i < ALBM_MAX_VIPS; i++)
		free(dr->vips[i].reals);
	ring_buffer__free(dr->flow_rb);
	albm_xdp__destroy(dr->skel);
	free(dr);
}

int dr_prog_fd(const struct albm_dr *dr)
{
	return bpf_program__fd(dr->skel->progs.albm_xdp);
}

int dr_ifindex(const struct albm_dr *dr)
{
	return dr->ifindex;
}

int dr_attached(struct albm_dr *dr)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	if (dr->link_fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(dr->link_fd, &info, &len) < 0)
		return -errno;
	return info.xdp.ifindex != 0; /* 0: the interface went away (the link is defunct) */
}
