/* ALBM agent: reading small kernel text files (procfs, cgroupfs) and parsing their fields */
#include "agent/metrics_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/util.h"

void albm_filebuf_free(struct albm_filebuf *fb)
{
	for (unsigned i = 0; i < fb->nopen; i++) {
		close(fb->open[i].fd);
		free(fb->open[i].path);
	}
	fb->nopen = 0;
	free(fb->p);
	fb->p = NULL;
	fb->cap = 0;
}

static bool kernel_fs(int fd)
{
	struct statfs st;

	if (fstatfs(fd, &st))
		return false;
	return st.f_type == PROC_SUPER_MAGIC || st.f_type == SYSFS_MAGIC ||
	       st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC;
}

/* An fd for path: a kept one, or a new one (kept when on a kernel fs and there is
 * room; *keep tells the caller whether to close it). */
static int file_fd(struct albm_filebuf *fb, const char *path, bool *keep)
{
	int fd;

	for (unsigned i = 0; i < fb->nopen; i++) {
		if (!strcmp(fb->open[i].path, path)) {
			*keep = true;
			return fb->open[i].fd;
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	*keep = fd >= 0 && fb->nopen < ALBM_FILEBUF_FDS && kernel_fs(fd);
	if (*keep) {
		fb->open[fb->nopen].path = xstrdup(path);
		fb->open[fb->nopen++].fd = fd;
	}
	return fd;
}

/* Forget a kept fd (after a read error: the cgroup may be gone). */
static void file_drop(struct albm_filebuf *fb, int fd)
{
	for (unsigned i = 0; i < fb->nopen; i++) {
		if (fb->open[i].fd == fd) {
			free(fb->open[i].path);
			fb->open[i] = fb->open[--fb->nopen];
			break;
		}
	}
	close(fd);
}

/* procfs files report size 0, so read until EOF, growing the buffer as needed. */
long albm_file_read(const char *path, struct albm_filebuf *fb, char *err, size_t errlen)
{
	size_t len = 0;
	ssize_t n;
	bool keep;
	int fd, rc;

	fd = file_fd(fb, path, &keep);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		if (fb->cap - len < 4096 + 1) {
			if (fb->cap >= ALBM_FILE_MAX) {
				albm_seterr(err, errlen, "%s: larger than %u bytes", path,
					    ALBM_FILE_MAX);
				n = -1;
				errno = EFBIG;
				break;
			}
			fb->cap = fb->cap ? fb->cap * 2 : 8192;
			fb->p = xrealloc(fb->p, fb->cap);
		}
		n = pread(fd, fb->p + len, fb->cap - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	rc = n < 0 ? -errno : 0;
	if (n < 0 && rc != -EFBIG)
		albm_seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (!keep || rc)
		keep ? file_drop(fb, fd) : (void)close(fd);
	fb->p[len] = '\0';
	return rc ? rc : (long)len;
}

const char *albm_line_excerpt(const char *p, char *buf, size_t len)
{
	size_t n = strcspn(p, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Parse a decimal u64 at p, which must end at a space, tab, newline or NUL. */
static int parse_u64_word(const char *p, const char **end, uint64_t *out)
{
	unsigned long long v;
	char *e;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno || (*e && *e != '\n' && *e != ' ' && *e != '\t'))
		return -EINVAL;
	*out = v;
	if (end)
		*end = e;
	return 0;
}

int albm_parse_u64_text(const char *what, const char *text, int max_ok, uint64_t *out, char *err,
			size_t errlen)
{
	char line[64];
	const char *e;

	if (max_ok && !strncmp(text, "max", 3) && (text[3] == '\n' || !text[3])) {
		*out = UINT64_MAX;
		return 0;
	}
	if (parse_u64_word(text, &e, out) || (*e && strspn(e, "\n") != strlen(e))) {
		albm_seterr(err, errlen, "%s: expected a number, found '%s'", what,
			    albm_line_excerpt(text, line, sizeof(line)));
		return -EINVAL;
	}
	return 0;
}

int albm_kv_find(const char *what, const char *text, const char *key, uint64_t *out, char *err,
		 size_t errlen)
{
	size_t klen = strlen(key);
	char line[96];

	for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (strncmp(p, key, klen) || p[klen] != ' ')
			continue;
		if (parse_u64_word(p + klen + 1, NULL, out)) {
			albm_seterr(err, errlen, "%s: cannot parse line '%s'", what,
				    albm_line_excerpt(p, line, sizeof(line)));
			return -EINVAL;
		}
		return 0;
	}
	albm_seterr(err, errlen, "%s: no '%s' line", what, key);
	return -ENOENT;
}
