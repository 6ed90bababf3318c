/* ALBM: duration parsing — "200ms", "1s", "2m", "1h", "1.5s" */
#ifndef ALBM_COMMON_DURATION_H
#define ALBM_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration into milliseconds.  Units: us (rounded up to 1 ms when non-zero),
 * ms, s, m, h; a fraction is allowed ("1.5s").  A bare number is rejected: the unit
 * is required so that "timeout 5;" cannot mean 5 ms to one reader and 5 s to another.
 * Returns 0, or -EINVAL / -ERANGE with a message in err.
 */
int albm_duration_parse_ms(const char *text, uint64_t *ms, char *err, size_t errlen);
/* Format ms the shortest exact way ("1500ms" -> "1500ms", "2000" -> "2s"). */
char *albm_duration_format(uint64_t ms, char *buf, size_t len);

#endif
