/* ALBM benchmark: the connection log's cost per connection — format a line, write in 64 KiB
 *
 * usage: bench_alog [LINES] [FILE]
 *
 * What the proxy does per closed connection when `access-log` is on (proxy/alog.c):
 * alog_format() into a per-worker buffer, the buffer appended to FILE (default a temp
 * file, removed) with one write() when three quarters full.  Prints the median of 5
 * runs of LINES lines (default 1,000,000) in ns per line, CPU time of this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/proxy/alog.h"

#define BUF (64 * 1024)

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double run(int fd, unsigned long lines, const struct albm_addr *client)
{
	static char buf[BUF];
	struct alog_date dc = { 0 };
	uint64_t wall = albm_wall_ms(), t0 = thread_ns();
	size_t len = 0;

	for (unsigned long i = 0; i < lines; i++) {
		struct alog_rec r = {
			.client = client,
			.accept_wall_ms = wall + i / 1000,
			.service = "web",
			.server = "s1",
			.tw = 0,
			.tc = 1,
			.tt = 3 + (int64_t)(i % 7),
			.bytes_in = 89,
			.bytes_out = 1139 + i % 100,
			.term = { '-', '-' },
			.retries = 0,
		};
		size_t n = alog_format(buf + len, sizeof(buf) - len, &r, &dc);
		if (!n || len + n >= BUF * 3 / 4) {
			if (write(fd, buf, len) != (ssize_t)len)
				return -1;
			len = 0;
			if (!n)
				n = alog_format(buf, sizeof(buf), &r, &dc);
		}
		len += n;
	}
	if (len && write(fd, buf, len) != (ssize_t)len)
		return -1;
	return (double)(thread_ns() - t0) / (double)lines;
}

int main(int argc, char **argv)
{
	unsigned long lines = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	char path[] = "/tmp/albm-bench-alog.XXXXXX";
	const char *file = argc > 2 ? argv[2] : NULL;
	struct albm_addr client;
	double ns[5];
	char err[128];
	int fd;

	if (!lines || lines > 100000000 ||
	    albm_addr_parse("192.0.2.17:40412", &client, err, sizeof(err)) < 0)
		return 2;
	fd = file ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "bench_alog: %s\n", strerror(errno));
		return 1;
	}
	if (!file)
		unlink(path);
	for (int i = 0; i < 5; i++) {
		if ((ns[i] = run(fd, lines, &client)) < 0) {
			fprintf(stderr, "bench_alog: write: %s\n", strerror(errno));
			return 1;
		}
		if (!file && ftruncate(fd, 0) < 0)
			return 1;
	}
	qsort(ns, 5, sizeof(ns[0]), cmp);
	printf("connection log: %.0f ns per connection (median of 5 x %lu lines: format + "
	       "write in 64 KiB; min %.0f, max %.0f)\n",
	       ns[2], lines, ns[0], ns[4]);
	close(fd);
	return 0;
}
