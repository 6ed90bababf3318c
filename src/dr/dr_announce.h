/* ALBM: announce a VIP while this process lives — a non-persistent tun device holding the VIP */
#ifndef ALBM_DR_DR_ANNOUNCE_H
#define ALBM_DR_DR_ANNOUNCE_H

#include <stddef.h>

#include "common/addr.h"

/*
 * The routing daemon (BIRD's `direct` protocol, contrib/bird/distributor.conf)
 * announces every address on the interface "albm-vip*" and withdraws it when the
 * address or the interface goes.  dr_announce_open creates that interface as a
 * NON-persistent tun device: it exists exactly as long as the returned handle's file
 * descriptor is open, so the VIP is withdrawn when the daemon closes it (first step of
 * a drain), exits, crashes or is killed with SIGKILL: the kernel closes the fd.
 * Nothing ever reads the device; it only carries addresses.  Functions return 0 or
 * -errno and fill err with one line.  Not thread-safe (one owner).
 */

struct dr_announce;

/* Create ifname (at most 15 bytes), set it up, no address yet.  -EBUSY when another
 * process holds a device of that name (another daemon announcing the same way). */
struct dr_announce *dr_announce_open(const char *ifname, char *err, size_t errlen);
/* Put vip (its host part; IPv4 /32 or IPv6 /128) on the device: it is announced. */
int dr_announce_add(struct dr_announce *a, const struct albm_addr *vip, char *err, size_t errlen);
/* Take one VIP off the device: it is withdrawn, the others stay. */
int dr_announce_del(struct dr_announce *a, const struct albm_addr *vip, char *err, size_t errlen);
/* The device's index (for tests and logs). */
int dr_announce_ifindex(const struct dr_announce *a);
/* Close the fd: the device and all its addresses disappear.  NULL is ignored. */
void dr_announce_close(struct dr_announce *a);

#endif
