/* ALBM: albmd's privileges — the capabilities a config needs, checked before start-up
 *
 * albmd can run as an unprivileged user (the albm user of the packages, docs/operations.md).
 * What a mode needs was measured, not guessed: as a non-root user with setpriv, the XDP
 * program loads only with CAP_BPF + CAP_PERFMON (without CAP_PERFMON the verifier refuses
 * it: "Permission denied"), attaching it and resolving the reals' MACs over rtnetlink need
 * CAP_NET_ADMIN (tests/integration/605-unprivileged.sh checks it on this kernel).
 * Checking before anything is opened turns a bare EPERM into a message that names the
 * missing capabilities and how to grant them.
 */
#include "distributor/privs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>

#include "common/caps.h"
#include "common/util.h"

#define DR_CAPS (ALBM_CAP(CAP_NET_ADMIN) | ALBM_CAP(CAP_BPF) | ALBM_CAP(CAP_PERFMON))

/* CAP_SYS_ADMIN counts as CAP_BPF and CAP_PERFMON (kernels before 5.8 know only it). */
static uint64_t caps_widen(uint64_t have)
{
	if (have & ALBM_CAP(CAP_SYS_ADMIN))
		have |= ALBM_CAP(CAP_BPF) | ALBM_CAP(CAP_PERFMON);
	return have;
}

/* The first address albmd binds below unpriv_start: "service 'web' listens on ...". */
static bool low_port(const struct albmd_config *cfg, unsigned unpriv_start, char *what, size_t len)
{
	char a[ALBM_ADDRSTRLEN];

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct albmd_cfg_service *s = &cfg->services[i];

		if (s->mode == ALBMD_MODE_PROXY && albm_addr_port(&s->listen) < unpriv_start) {
			snprintf(what, len, "service '%s' listens on %s", s->name,
				 albm_addr_format(&s->listen, a, sizeof(a)));
			return true;
		}
	}
	if (cfg->has_agents && albm_addr_port(&cfg->agents_listen) < unpriv_start) {
		snprintf(what, len, "agents listen on %s",
			 albm_addr_format(&cfg->agents_listen, a, sizeof(a)));
		return true;
	}
	if (cfg->has_http && albm_addr_port(&cfg->http) < unpriv_start) {
		snprintf(what, len, "the admin HTTP listens on %s",
			 albm_addr_format(&cfg->http, a, sizeof(a)));
		return true;
	}
	return false;
}

static const struct albmd_cfg_service *first_dr(const struct albmd_config *cfg)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		if (cfg->services[i].mode == ALBMD_MODE_DR)
			return &cfg->services[i];
	return NULL;
}

/* "what needs NEED; missing: MISSING" for one reason, appended at off. */
static size_t say_missing(char *err, size_t errlen, size_t off, const char *what, uint64_t need,
			  uint64_t missing)
{
	char need_s[128], miss_s[128];

	if (!err || off >= errlen)
		return off;
	return off + (size_t)snprintf(err + off, errlen - off, "%s%s needs %s; missing: %s",
				      off ? ". Also " : "", what,
				      albm_caps_format(need, need_s, sizeof(need_s)),
				      albm_caps_format(missing, miss_s, sizeof(miss_s)));
}

uint64_t albmd_privs_missing(const struct albmd_config *cfg, uint64_t have, unsigned unpriv_start,
			     char *err, size_t errlen)
{
	const struct albmd_cfg_service *dr = first_dr(cfg);
	const uint64_t bind = ALBM_CAP(CAP_NET_BIND_SERVICE);
	char what[200];
	uint64_t missing = 0;
	size_t off = 0;

	have = caps_widen(have);
	if (dr && (DR_CAPS & ~have)) {
		snprintf(what, sizeof(what), "service '%s' (mode dr)", dr->name);
		off = say_missing(err, errlen, off, what, DR_CAPS, DR_CAPS & ~have);
		missing |= DR_CAPS & ~have;
	}
	if (!(have & bind) && low_port(cfg, unpriv_start, what, sizeof(what) - 64)) {
		snprintf(what + strlen(what), 64, " (below %u)", unpriv_start);
		off = say_missing(err, errlen, off, what, bind, bind);
		missing |= bind;
	}
	if (missing && err && off < errlen)
		snprintf(err + off, errlen - off,
			 ". Run albmd as root or grant them (systemd: "
			 "AmbientCapabilities=, docs/operations.md \"Capabilities\")");
	return missing;
}

/* net.ipv4.ip_unprivileged_port_start (it covers IPv6 too); 1024 where unreadable. */
static unsigned unpriv_port_start(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	unsigned v = 1024;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 1024;
		fclose(f);
	}
	return v;
}

int albmd_privs_check(const struct albmd_config *cfg, char *err, size_t errlen)
{
	uint64_t have;
	int rc = albm_caps_effective(&have);

	if (rc < 0) {
		albm_seterr(err, errlen, "capget: %s", strerror(-rc));
		return rc;
	}
	return albmd_privs_missing(cfg, have, unpriv_port_start(), err, errlen) ? -EPERM : 0;
}
