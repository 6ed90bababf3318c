/* ALBM: logging — levels, timestamps, component prefix, rate-limited variant */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "common/util.h"

enum albm_log_level albm_log_level = ALBM_LOG_INFO;
static const char *log_progname = "albm";
static bool log_syslog;
static bool log_journal; /* stderr is the journal: "<N>" priority prefixes, no time stamps */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int level_syslog[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stderr.
 * It is inherited by children whose stderr goes elsewhere, so only a match with
 * stderr itself counts (what sd-daemon(3) recommends).
 */
bool albm_log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &end) != 2 || env[end])
		return false;
	return fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void albm_log_init(const char *progname, enum albm_log_level level)
{
	log_progname = progname;
	albm_log_level = level;
	log_journal = albm_log_stderr_is_journal();
}

void albm_log_use_syslog(bool on)
{
	if (on && !log_syslog)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

int albm_log_parse_level(const char *s, enum albm_log_level *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(s, level_names[i]) || (i == 0 && !strcasecmp(s, "err"))) {
			*out = (enum albm_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void albm_log_write(enum albm_log_level lvl, const char *component, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_syslog) {
		syslog(level_syslog[lvl], "%s%s%s", component ? component : "",
		       component ? ": " : "", msg);
	} else if (log_journal) {
		/* sd-daemon(3) style: journald takes the priority from "<N>" and adds the
		 * time, the program name and the pid itself */
		fprintf(stderr, "<%d>%s%s%s\n", level_syslog[lvl], component ? component : "",
			component ? ": " : "", msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%s] %s%s%s\n", when, ts.tv_nsec / 1000000,
			log_progname, level_names[lvl], component ? component : "",
			component ? ": " : "", msg);
	}
	errno = saved;
}

bool albm_ratelimit_ok(struct albm_ratelimit *rl)
{
	unsigned long long now = albm_now_ms();

	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			albm_log_write(ALBM_LOG_WARN, NULL, "%u similar %s%smessages suppressed",
				       rl->suppressed, rl->what ? rl->what : "",
				       rl->what ? " " : "");
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
