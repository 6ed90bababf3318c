/* ALBM: albmd's privileges — the capabilities a config needs, checked before start-up */
#ifndef ALBM_DISTRIBUTOR_PRIVS_H
#define ALBM_DISTRIBUTOR_PRIVS_H

#include <stddef.h>
#include <stdint.h>

#include "distributor/config.h"

/*
 * What the config needs (docs/operations.md, "Capabilities"):
 *   mode dr          CAP_NET_ADMIN + CAP_BPF + CAP_PERFMON (CAP_SYS_ADMIN stands for
 *                    the last two, as in the kernel's bpf_capable()/perfmon_capable())
 *   a port below     CAP_NET_BIND_SERVICE, for every address albmd binds: proxy
 *   unpriv_start     listeners, the agents' UDP port, the admin HTTP port
 * Given the effective set `have`, returns the capabilities missing (0: none) and, when
 * some are, one line in err naming what needs them and how to grant them.
 */
uint64_t albmd_privs_missing(const struct albmd_config *cfg, uint64_t have, unsigned unpriv_start,
			     char *err, size_t errlen);

/* The same against this process and this host (capget, the sysctl
 * net.ipv4.ip_unprivileged_port_start); 0 or -EPERM with err. */
int albmd_privs_check(const struct albmd_config *cfg, char *err, size_t errlen);

#endif
