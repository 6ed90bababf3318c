/* ALBM: albmd's replay state on disk — so that a captured report stays a replay after a restart
 *
 * The replay check (proto/report.c) keeps, per agent, the boot id, sequence and time of
 * the newest accepted report.  In memory only, a restart of albmd forgets it, and a
 * report captured before the restart is accepted again while it is younger than
 * max-age.  agents.c therefore writes that state to STATE_DIR/agents.replay at most
 * every ALBMD_REPLAY_PERSIST_MS while reports arrive, and at a clean stop, and reads
 * it at start.  What remains open after a crash: the reports accepted after the last
 * write (at most ALBMD_REPLAY_PERSIST_MS of them), for as long as they are younger
 * than max-age (docs/albmd.md).
 *
 * The file is text, one agent a line: "NAME BOOT_ID SEQ TIMESTAMP_MS" (hex, decimal,
 * decimal), after the header line "albm-replay 1".  It is replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory): a crash leaves the old
 * file or the new one, never a torn one.
 */
#include "distributor/replay_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/config.h"

#define REPLAY_HEADER   "albm-replay 1\n"
#define REPLAY_MAX_SIZE (4u << 20)

const char *albmd_state_dir(const char *state_dir)
{
	static char env[ALBMD_PATH_MAX];
	const char *e;

	if (state_dir && state_dir[0])
		return state_dir;
	e = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory=: colon-separated */
	if (!e || !e[0] || strcspn(e, ":") >= sizeof(env))
		return NULL;
	snprintf(env, sizeof(env), "%.*s", (int)strcspn(e, ":"), e);
	return env;
}

void albmd_replay_format(struct albmd_buf *b, const struct albmd_replay_entry *e, size_t n)
{
	albmd_buf_printf(b, "%s", REPLAY_HEADER);
	for (size_t i = 0; i < n; i++)
		albmd_buf_printf(b, "%s %016" PRIx64 " %" PRIu64 " %" PRIu64 "\n", e[i].name,
				 e[i].st.boot_id, e[i].st.last_seq, e[i].st.last_ts_ms);
}

static bool parse_line(const char *p, size_t len, struct albmd_replay_entry *e)
{
	char line[ALBM_NAME_MAX + 64], name[ALBM_NAME_MAX];
	unsigned long long boot, seq, ts;
	int end = 0;

	if (len >= sizeof(line))
		return false;
	memcpy(line, p, len);
	line[len] = '\0';
	if (sscanf(line, "%63s %16llx %20llu %20llu%n", name, &boot, &seq, &ts, &end) != 4 ||
	    line[end] || !albm_report_name_valid(name))
		return false;
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->st.boot_id = boot;
	e->st.last_seq = seq;
	e->st.last_ts_ms = ts;
	e->st.seen = 1;
	return true;
}

int albmd_replay_parse(const char *text, size_t len, struct albmd_replay_entry **out, size_t *n)
{
	const char *p = text, *end = text + len;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (len < sizeof(REPLAY_HEADER) - 1 ||
	    memcmp(text, REPLAY_HEADER, sizeof(REPLAY_HEADER) - 1))
		return -EINVAL;
	for (p += sizeof(REPLAY_HEADER) - 1; p < end;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t l = lf ? (size_t)(lf - p) : (size_t)(end - p);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		if (parse_line(p, l, &(*out)[*n]))
			(*n)++;
		p += l + 1;
	}
	return 0;
}

int albmd_replay_load(const char *dir, struct albmd_replay_entry **out, size_t *n, char *err,
		      size_t errlen)
{
	char path[ALBMD_PATH_MAX + 32];
	struct stat st;
	char *text;
	ssize_t got;
	int fd, rc;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, ALBMD_REPLAY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_SIZE) {
		rc = fd < 0 ? -errno : -EINVAL;
		albm_seterr(err, errlen, "%s: %s", path,
			    fd < 0 ? strerror(errno) : "not a regular file of at most 4 MiB");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	text = xmalloc((size_t)st.st_size + 1);
	got = read(fd, text, (size_t)st.st_size);
	close(fd);
	rc = got < 0 ? -errno : albmd_replay_parse(text, (size_t)got, out, n);
	free(text);
	if (rc < 0)
		albm_seterr(err, errlen, "%s: %s", path,
			    rc == -EINVAL ? "not an albm replay file" : strerror(-rc));
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int albmd_replay_save(const char *dir, const char *text, size_t len, char *err, size_t errlen)
{
	char path[ALBMD_PATH_MAX + 32], tmp[ALBMD_PATH_MAX + 40];
	int fd, dfd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, ALBMD_REPLAY_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		return rc;
	}
	rc = write_all(fd, text, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		albm_seterr(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) { /* the rename itself must survive a crash */
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
