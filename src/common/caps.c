/* ALBM: Linux capabilities — which ones the process has, by name, for clear errors */
#include "common/caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "common/util.h"

/* The ones ALBM talks about; others are printed by number. */
static const struct {
	unsigned cap;
	const char *name;
} cap_names[] = {
	{ CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAP_NET_RAW, "CAP_NET_RAW" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_BPF, "CAP_BPF" },
};

int albm_caps_effective(uint64_t *mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	/* glibc has no wrapper and libcap would be a dependency for two words */
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*mask = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

const char *albm_cap_name(unsigned cap, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (cap_names[i].cap == cap)
			return cap_names[i].name;
	snprintf(buf, len, "CAP_%u", cap);
	return buf;
}

char *albm_caps_format(uint64_t mask, char *buf, size_t len)
{
	unsigned n = 0, total = (unsigned)__builtin_popcountll(mask);
	size_t off = 0;
	char num[16];

	if (len)
		buf[0] = '\0';
	for (unsigned c = 0; c < 64 && off < len; c++) {
		if (!(mask & ALBM_CAP(c)))
			continue;
		n++;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					n == 1       ? ""
					: n == total ? " and "
						     : ", ",
					albm_cap_name(c, num, sizeof(num)));
	}
	return buf;
}
