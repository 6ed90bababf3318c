/* ALBM: albmd's memory guard — refuse clients before the memory cgroup's limit, never die
 *
 * In a memory cgroup (systemd's MemoryMax=, a container) each connection costs kernel
 * memory that is charged to albmd: two sockets, their epoll items, file objects.  At
 * the limit the kernel's OOM killer picks albmd, the only process there, and every
 * connection dies with it.  HAProxy derives maxconn from its memory limit (-m); albmd
 * measures instead: every tick it reads the cgroup's usage, less the page cache it may
 * reclaim (kubelet's "working set"), and from 85 % of the limit pauses accepting
 * (refusals{cause="memory"}) until usage is back under 75 %.  Between two ticks the
 * accept path caps connections at what still fits at a generous per-connection cost.
 * Under pressure the relay also takes no new splice pipes and reads in small pieces
 * (relay.c), so what a connection holds stays small.  Without a limit the guard is
 * off and reads nothing.
 */
#define LOG_COMPONENT "memguard"
#include "distributor/memguard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/daemon.h"

#define CG_ROOT           "/sys/fs/cgroup"
#define NO_LIMIT          (1ull << 60) /* v1 writes "unlimited" as ~2^63 */
#define LIMIT_EVERY_TICKS 50           /* the limit may change at run time: every 5 s */

struct albmd_memguard {
	int v;         /* cgroup version, 1 or 2 */
	char dir[640]; /* albmd's memory cgroup */
	int usage_fd;  /* memory.usage_in_bytes (v1) or memory.current (v2) */
	uint64_t limit, working;
	unsigned ticks;
	bool pressure;
};

struct albmd_mem_verdict albmd_mem_decide(uint64_t limit, uint64_t working, uint64_t conns,
					  bool was)
{
	struct albmd_mem_verdict v = { 0 };
	uint64_t high = limit / 100 * 85, low = limit / 100 * 75;

	if (!limit)
		return v;
	v.pressure = working >= high || (was && working >= low);
	v.conn_cap =
		v.pressure ? (conns ? conns : 1) : conns + (high - working) / ALBMD_MEM_PER_CONN;
	return v;
}

/* ---- reading the cgroup ---- */

static int read_u64_fd(int fd, uint64_t *v)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!strncmp(buf, "max", 3)) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(buf, NULL, 10);
	return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char path[700];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	rc = read_u64_fd(fd, v);
	close(fd);
	return rc;
}

/* One key of memory.stat ("total_inactive_file", "hierarchical_memory_limit", ...). */
static int read_stat(const char *dir, const char *key, uint64_t *v)
{
	char path[700], line[128];
	size_t klen = strlen(key);
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	if (!(f = fopen(path, "re")))
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			rc = (*v = strtoull(line + klen + 1, NULL, 10), 0);
	fclose(f);
	return rc;
}

/* The limit in force: v1's hierarchical one (ancestors included); v2's smallest
 * memory.max or memory.high up to the root. */
static uint64_t cgroup_limit(const struct albmd_memguard *g)
{
	char dir[640];
	uint64_t lim = UINT64_MAX, v;

	if (g->v == 1)
		return read_stat(g->dir, "hierarchical_memory_limit", &v) == 0 ? v : UINT64_MAX;
	snprintf(dir, sizeof(dir), "%s", g->dir);
	while (strlen(dir) > strlen(CG_ROOT)) {
		if (read_u64(dir, "memory.max", &v) == 0 && v < lim)
			lim = v;
		if (read_u64(dir, "memory.high", &v) == 0 && v < lim)
			lim = v;
		*strrchr(dir, '/') = '\0';
	}
	return lim;
}

/* albmd's memory cgroup from /proc/self/cgroup: "N:memory:/p" (v1) or "0::/p" (v2). */
static int find_cgroup(struct albmd_memguard *g)
{
	char line[512], path[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *q = p ? strchr(p + 1, ':') : NULL;
		if (!q)
			continue;
		q[strcspn(q, "\n")] = '\0';
		if (!strncmp(p, ":memory:", 8)) {
			snprintf(path, sizeof(path), "%s", q + 1);
			g->v = 1;
			found = 1;
		} else if (!strncmp(line, "0::", 3) && !found) {
			snprintf(path, sizeof(path), "%s", q + 1);
			g->v = 2;
		}
	}
	fclose(f);
	if (!g->v)
		return -1;
	snprintf(g->dir, sizeof(g->dir), "%s%s%s", CG_ROOT, g->v == 1 ? "/memory" : "",
		 strcmp(path, "/") ? path : "");
	return 0;
}

/* ---- the guard ---- */

void albmd_memguard_open(struct albmd *d)
{
	struct albmd_memguard *g = xcalloc(1, sizeof(*g));
	char path[700];

	g->usage_fd = -1;
	if (find_cgroup(g) < 0 || (g->limit = cgroup_limit(g)) >= NO_LIMIT) {
		free(g);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", g->dir,
		 g->v == 1 ? "memory.usage_in_bytes" : "memory.current");
	if ((g->usage_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		LOG_WARN("memory cgroup %s: %s: %s; no memory guard", g->dir, path,
			 strerror(errno));
		free(g);
		return;
	}
	LOG_INFO("memory cgroup %s: limit %llu MiB; accepting pauses from 85 %% of it", g->dir,
		 (unsigned long long)(g->limit >> 20));
	d->memguard = g;
}

void albmd_memguard_tick(struct albmd *d)
{
	struct albmd_memguard *g = d->memguard;
	struct albmd_mem_verdict v;
	uint64_t usage, inactive = 0;

	if (!g)
		return;
	if (++g->ticks % LIMIT_EVERY_TICKS == 0)
		g->limit = cgroup_limit(g);
	if (g->limit >= NO_LIMIT || read_u64_fd(g->usage_fd, &usage) < 0) {
		__atomic_store_n(&d->hot.mem_conn_cap, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&d->hot.mem_pressure, false, __ATOMIC_RELAXED);
		return;
	}
	/* the page cache it can drop is not a reason to refuse (read only when it matters) */
	if (usage >= g->limit / 100 * 70)
		read_stat(g->dir, g->v == 1 ? "total_inactive_file" : "inactive_file", &inactive);
	g->working = usage > inactive ? usage - inactive : 0;
	v = albmd_mem_decide(g->limit, g->working, ALBMD_STAT_GET(d->st.conns_current),
			     g->pressure);
	if (v.pressure != g->pressure)
		LOG_RL(ALBM_LOG_WARN, "memory cgroup at %llu of %llu MiB: %s",
		       (unsigned long long)(g->working >> 20), (unsigned long long)(g->limit >> 20),
		       v.pressure ? "accepting paused until it is below 75 %" : "accepting again");
	g->pressure = v.pressure;
	__atomic_store_n(&d->hot.mem_conn_cap, v.conn_cap, __ATOMIC_RELAXED);
	__atomic_store_n(&d->hot.mem_pressure, v.pressure, __ATOMIC_RELAXED);
}

void albmd_memguard_close(struct albmd *d)
{
	struct albmd_memguard *g = d->memguard;

	if (!g)
		return;
	close(g->usage_fd);
	free(g);
	d->memguard = NULL;
}

uint64_t albmd_memguard_limit(const struct albmd *d)
{
	return d->memguard ? d->memguard->limit : 0;
}

uint64_t albmd_memguard_working(const struct albmd *d)
{
	return d->memguard ? d->memguard->working : 0;
}
