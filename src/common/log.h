/* ALBM: logging — levels, timestamps, component prefix, rate-limited variant */
#ifndef ALBM_COMMON_LOG_H
#define ALBM_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum albm_log_level {
	ALBM_LOG_ERR = 0,
	ALBM_LOG_WARN,
	ALBM_LOG_INFO,
	ALBM_LOG_DEBUG
};

/* Global settings, set once at start-up by main(). */
extern enum albm_log_level albm_log_level;

/* Program name printed in every line ("albmd", "albm-agent"...).  Under systemd
 * (stderr is the journal, see below) lines carry a syslog priority prefix "<N>"
 * instead of a time stamp and the program name, which the journal records itself. */
void albm_log_init(const char *progname, enum albm_log_level level);
/* True when stderr is the stream systemd connected to the journal (JOURNAL_STREAM). */
bool albm_log_stderr_is_journal(void);
/* Send log lines to syslog instead of stderr (for --daemon). */
void albm_log_use_syslog(bool on);
/* Parse "err|warn|info|debug"; returns 0 or -EINVAL. */
int albm_log_parse_level(const char *s, enum albm_log_level *out);

void albm_log_write(enum albm_log_level lvl, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Rate limiter for per-connection and per-packet paths: at most `burst` lines per
 * `interval_ms`; returns true when the caller may log.  The count of suppressed
 * lines is reported by the next line that passes.
 */
struct albm_ratelimit {
	unsigned interval_ms, burst;
	unsigned long long window_start_ms;
	unsigned printed, suppressed;
	const char *what; /* optional: names the suppressed lines ("%u WHAT messages ...") */
};
#define ALBM_RATELIMIT_INIT(ms, b)                \
	{                                         \
		.interval_ms = (ms), .burst = (b) \
	}
bool albm_ratelimit_ok(struct albm_ratelimit *rl);

#ifndef LOG_COMPONENT
#define LOG_COMPONENT NULL
#endif

/* The level is checked before the arguments are evaluated (cheap when disabled). */
#define ALBM_LOG(lvl, ...)                                                 \
	do {                                                               \
		if ((lvl) <= albm_log_level)                               \
			albm_log_write((lvl), LOG_COMPONENT, __VA_ARGS__); \
	} while (0)
#define LOG_ERR(...)   ALBM_LOG(ALBM_LOG_ERR, __VA_ARGS__)
#define LOG_WARN(...)  ALBM_LOG(ALBM_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...)  ALBM_LOG(ALBM_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) ALBM_LOG(ALBM_LOG_DEBUG, __VA_ARGS__)
/* Rate-limited: one static limiter per call site, 10 lines per 5 s. */
#define LOG_RL(lvl, ...)                                                          \
	do {                                                                      \
		static struct albm_ratelimit rl_ = ALBM_RATELIMIT_INIT(5000, 10); \
		if ((lvl) <= albm_log_level && albm_ratelimit_ok(&rl_))           \
			albm_log_write((lvl), LOG_COMPONENT, __VA_ARGS__);        \
	} while (0)
/* Rate-limited with a limiter of the caller's: one per reason, so that a flood of one
 * kind of message does not hide the others. */
#define LOG_RL_WITH(rl, lvl, ...)                                          \
	do {                                                               \
		if ((lvl) <= albm_log_level && albm_ratelimit_ok(rl))      \
			albm_log_write((lvl), LOG_COMPONENT, __VA_ARGS__); \
	} while (0)
/* Fatal: log and exit(1).  Only for start-up errors in main() paths. */
#define LOG_FATAL(...)                                                    \
	do {                                                              \
		albm_log_write(ALBM_LOG_ERR, LOG_COMPONENT, __VA_ARGS__); \
		exit(1);                                                  \
	} while (0)

#endif
