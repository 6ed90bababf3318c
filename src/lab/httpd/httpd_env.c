/* ALBM: albm-httpd's view of its memory environment — cgroup limit, swap, RSS */
#include "lab/httpd/httpd_env.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ENV_NO_LIMIT (1ull << 62) /* cgroup v1 writes ~2^63 for "unlimited" */

/* A number (or "max" = 0) from a one-line file; 0 when unreadable. */
static uint64_t env_read_limit(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1 || v >= ENV_NO_LIMIT)
		v = 0;
	fclose(f);
	return v;
}

/* Our cgroup's memory limit: v2 ("0::/path") first, then v1 ("N:memory:/path"). */
static uint64_t env_cgroup_limit(void)
{
	char line[512], path[768];
	uint64_t lim = 0;
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		return 0;
	while (!lim && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *q = p ? strchr(p + 1, ':') : NULL;

		if (!q)
			continue;
		q[strcspn(q, "\n")] = '\0';
		if (q == p + 1) { /* cgroup v2 */
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", q + 1);
			lim = env_read_limit(path);
			snprintf(path, sizeof(path), "/sys/fs/cgroup/unified%s/memory.max", q + 1);
			lim = lim ? lim : env_read_limit(path);
		} else if ((size_t)(q - p - 1) == 6 && !strncmp(p + 1, "memory", 6)) {
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", q + 1);
			lim = env_read_limit(path);
		}
	}
	fclose(f);
	return lim;
}

static uint64_t env_meminfo(const char *key)
{
	char line[256];
	unsigned long long kb = 0;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%llu", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static uint64_t env_rss(void)
{
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

void httpd_env_read(struct httpd_env *e)
{
	e->mem_limit = env_cgroup_limit();
	e->swap_total = env_meminfo("SwapTotal");
	e->rss = env_rss();
}
