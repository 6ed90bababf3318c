/* ALBM: Linux capabilities — which ones the process has, by name, for clear errors */
#ifndef ALBM_COMMON_CAPS_H
#define ALBM_COMMON_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* A set of capabilities as a bit mask: ALBM_CAP(CAP_BPF) | ALBM_CAP(CAP_NET_ADMIN). */
#define ALBM_CAP(c) (UINT64_C(1) << (c))

/* The effective set of this process (capget); 0 or -errno. */
int albm_caps_effective(uint64_t *mask);

/* "CAP_NET_ADMIN", or "CAP_<n>" for a number this build does not know. */
const char *albm_cap_name(unsigned cap, char *buf, size_t len);

/* Format a set as "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON" into buf; returns buf. */
char *albm_caps_format(uint64_t mask, char *buf, size_t len);

#endif
