/* ALBM: small helpers every program uses — allocation, clocks, error style */
#ifndef ALBM_COMMON_UTIL_H
#define ALBM_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define ALBM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ALBM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Allocation that cannot fail: aborts with a message on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Monotonic clock in milliseconds / nanoseconds; wall clock in milliseconds. */
uint64_t albm_now_ms(void);
uint64_t albm_now_ns(void);
uint64_t albm_wall_ms(void);

/*
 * Error-reporting style shared by every binary: internal functions return 0 or
 * -errno and, where a human needs details, fill a caller-provided buffer
 * (`char *err, size_t errlen`) with one line that names the thing that failed,
 * e.g. "key file /etc/albm/agent.key: No such file or directory".  main()
 * prints it through LOG_ERR/LOG_FATAL or as "prog: message".
 */
void albm_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse an unsigned integer in full (no trailing junk); 0 or -EINVAL/-ERANGE. */
int albm_parse_u64(const char *s, uint64_t *out);
/* Parse a size with optional K/M/G suffix (binary: 1K = 1024); 0 or -EINVAL/-ERANGE. */
int albm_parse_size(const char *s, uint64_t *out);

#endif
