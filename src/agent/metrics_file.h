/* ALBM agent: reading small kernel text files (procfs, cgroupfs) and parsing their fields */
#ifndef ALBM_AGENT_METRICS_FILE_H
#define ALBM_AGENT_METRICS_FILE_H

#include <stddef.h>
#include <stdint.h>

#define ALBM_FILEBUF_FDS 24

/*
 * A reusable read buffer, and the kernel files (procfs, sysfs, cgroupfs) kept open:
 * the agent reads the same few files every interval, and reading a seq_file again
 * from offset 0 regenerates it, so open/close (path walk, seq_file set-up) is paid
 * once.  Files on other file systems (test fixtures) are opened for every read, so
 * that a file replaced by rename is seen.
 */
struct albm_filebuf {
	char *p;
	size_t cap;
	struct {
		char *path;
		int fd;
	} open[ALBM_FILEBUF_FDS];
	unsigned nopen;
};

#define ALBM_FILE_MAX (16u << 20) /* refuse files larger than this (/proc/net/tcp) */

/*
 * Read the whole file at path into fb (NUL-terminated); returns the length or
 * -errno with err naming the file.  -EFBIG past ALBM_FILE_MAX.
 */
long albm_file_read(const char *path, struct albm_filebuf *fb, char *err, size_t errlen);
/* Free the buffer and close the files kept open. */
void albm_filebuf_free(struct albm_filebuf *fb);

/*
 * Parse a file holding one unsigned number ("1234\n"); when max_ok is set, the
 * word "max" parses as UINT64_MAX (cgroup v2 "no limit").  what names the file in
 * messages.  0 or -EINVAL.
 */
int albm_parse_u64_text(const char *what, const char *text, int max_ok, uint64_t *out, char *err,
			size_t errlen);

/*
 * Find "key value" in a flat-keyed file (memory.stat, cpu.stat): 0, -ENOENT when
 * the key is absent (err says so), -EINVAL when its value does not parse.
 */
int albm_kv_find(const char *what, const char *text, const char *key, uint64_t *out, char *err,
		 size_t errlen);

/* Copy the line of text starting at p (without '\n') into buf for an error message. */
const char *albm_line_excerpt(const char *p, char *buf, size_t len);

#endif
