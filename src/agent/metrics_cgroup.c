/* ALBM agent: cgroup-scoped measurements (v1 memory/cpu/cpuacct controllers, or v2) */
#include "agent/metrics_cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

/* Limits at or above this are the kernel's "unlimited" (v1: PAGE_COUNTER_MAX pages). */
#define CG_UNLIMITED (1ull << 62)

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		if (in[i] == '\\' && i + 3 < n && in[i + 1] >= '0' && in[i + 1] <= '3' &&
		    is_octal(in[i + 2]) && is_octal(in[i + 3])) {
			out[o++] = (char)((in[i + 1] - '0') << 6 | (in[i + 2] - '0') << 3 |
					  (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

static bool has_opt(const char *opts, size_t n, const char *opt)
{
	size_t olen = strlen(opt);

	for (const char *p = opts; p < opts + n;) {
		size_t w = strcspn(p, ",\n ");

		if (w > (size_t)(opts + n - p))
			w = (size_t)(opts + n - p);
		if (w == olen && !strncmp(p, opt, olen))
			return true;
		p += w + 1;
	}
	return false;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [tags] - fstype src superopts" */
static void mountinfo_line(const char *p, size_t n, struct albm_cg_mounts *mnt)
{
	const char *f[5], *sep, *fstype, *src, *sopts, *end = p + n;
	size_t fl[5];
	char mp[PATH_MAX];

	for (int i = 0; i < 5; i++) {
		p += strspn(p, " ");
		f[i] = p;
		fl[i] = strcspn(p, " \n");
		if (p + fl[i] >= end)
			return;
		p += fl[i];
	}
	sep = strstr(p, " - ");
	if (!sep || sep >= end)
		return;
	fstype = sep + 3;
	src = fstype + strcspn(fstype, " \n");
	if (*src != ' ' || src >= end)
		return;
	sopts = strchr(src + 1, ' ');
	if (!sopts || sopts >= end)
		return;
	sopts++;
	unescape(f[4], fl[4], mp, sizeof(mp));
	if (!strncmp(fstype, "cgroup2 ", 8)) {
		if (!mnt->unified[0])
			snprintf(mnt->unified, sizeof(mnt->unified), "%s", mp);
	} else if (!strncmp(fstype, "cgroup ", 7)) {
		size_t sl = (size_t)(end - sopts);

		if (has_opt(sopts, sl, "memory") && !mnt->memory[0])
			snprintf(mnt->memory, sizeof(mnt->memory), "%s", mp);
		if (has_opt(sopts, sl, "cpu") && !mnt->cpu[0])
			snprintf(mnt->cpu, sizeof(mnt->cpu), "%s", mp);
		if (has_opt(sopts, sl, "cpuacct") && !mnt->cpuacct[0])
			snprintf(mnt->cpuacct, sizeof(mnt->cpuacct), "%s", mp);
	}
}

int albm_cg_parse_mountinfo(const char *text, struct albm_cg_mounts *mnt, char *err, size_t errlen)
{
	memset(mnt, 0, sizeof(*mnt));
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		mountinfo_line(p, n, mnt);
		p += n + (p[n] == '\n');
	}
	if (!mnt->memory[0] && !mnt->cpuacct[0] && !mnt->unified[0]) {
		albm_seterr(err, errlen, "mountinfo: no cgroup or cgroup2 file system mounted");
		return -ENOENT;
	}
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static bool is_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* dir = mount + rel when that directory exists, else "". */
static void join_if_dir(char *dir, const char *mount, const char *rel)
{
	dir[0] = '\0';
	if (mount[0] && (size_t)snprintf(dir, PATH_MAX, "%s%s", mount, rel) < PATH_MAX &&
	    !is_dir(dir))
		dir[0] = '\0';
}

static int cg_fill_v1(const struct albm_cg_mounts *mnt, const char *spec, const char *rel,
		      struct albm_cg *cg, char *err, size_t errlen)
{
	cg->version = ALBM_CG_V1;
	join_if_dir(cg->mem_dir, mnt->memory, rel);
	join_if_dir(cg->cpu_dir, mnt->cpu, rel);
	join_if_dir(cg->acct_dir, mnt->cpuacct, rel);
	/* v1 has no PSI; a hybrid system's cgroup2 group of the same name may */
	join_if_dir(cg->psi_dir, mnt->unified, rel);
	if (cg->psi_dir[0] && !is_file(cg->psi_dir, "memory.pressure"))
		cg->psi_dir[0] = '\0';
	if (!cg->mem_dir[0] && !cg->acct_dir[0]) {
		albm_seterr(err, errlen,
			    "cgroup %s: no memory nor cpuacct cgroup '%s' (v1 mounts: "
			    "memory '%s', cpuacct '%s')",
			    spec, rel, mnt->memory, mnt->cpuacct);
		return -ENOENT;
	}
	snprintf(cg->path, sizeof(cg->path), "%s", cg->mem_dir[0] ? cg->mem_dir : cg->acct_dir);
	return 0;
}

static int cg_fill_v2(const char *dir, struct albm_cg *cg)
{
	cg->version = ALBM_CG_V2;
	snprintf(cg->path, sizeof(cg->path), "%s", dir);
	/* memory.* exist only where the parent delegates the memory controller. */
	snprintf(cg->mem_dir, sizeof(cg->mem_dir), "%s", is_file(dir, "memory.current") ? dir : "");
	snprintf(cg->cpu_dir, sizeof(cg->cpu_dir), "%s", is_file(dir, "cpu.max") ? dir : "");
	snprintf(cg->acct_dir, sizeof(cg->acct_dir), "%s", dir);
	snprintf(cg->psi_dir, sizeof(cg->psi_dir), "%s",
		 is_file(dir, "memory.pressure") ? dir : "");
	return 0;
}

/* The relative part of path below mount, or NULL when path is not under it. */
static const char *under(const char *path, const char *mount)
{
	size_t n = strlen(mount);

	if (!n || strncmp(path, mount, n))
		return NULL;
	if (path[n] == '/' || !path[n])
		return path + n;
	if (n == 1) /* mount "/" */
		return path;
	return NULL;
}

static int cg_resolve_abs(const struct albm_cg_mounts *mnt, const char *spec, struct albm_cg *cg,
			  char *err, size_t errlen)
{
	const char *const mounts[] = { mnt->unified, mnt->memory, mnt->cpu, mnt->cpuacct };
	char real[PATH_MAX];
	const char *rel = NULL;
	size_t best = 0, bestlen = 0;

	if (!realpath(spec, real) || !is_dir(real)) {
		albm_seterr(err, errlen, "cgroup %s: %s", spec,
			    errno ? strerror(errno) : "not a directory");
		return errno ? -errno : -ENOTDIR;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		const char *r = under(real, mounts[i]);

		if (r && strlen(mounts[i]) > bestlen) {
			best = i;
			bestlen = strlen(mounts[i]);
			rel = r;
		}
	}
	if (!rel) {
		albm_seterr(err, errlen,
			    "cgroup %s: not inside a cgroup mount (v1 memory '%s', "
			    "cgroup2 '%s')",
			    spec, mnt->memory, mnt->unified);
		return -EINVAL;
	}
	if (best == 0)
		return cg_fill_v2(real, cg);
	return cg_fill_v1(mnt, spec, rel, cg, err, errlen);
}

int albm_cg_resolve(const struct albm_cg_mounts *mnt, const char *spec, struct albm_cg *cg,
		    char *err, size_t errlen)
{
	char rel[PATH_MAX], dir[PATH_MAX];

	memset(cg, 0, sizeof(*cg));
	errno = 0;
	if (spec[0] == '/')
		return cg_resolve_abs(mnt, spec, cg, err, errlen);
	if (!spec[0] || strstr(spec, "..") ||
	    (size_t)snprintf(rel, sizeof(rel), "/%s", spec) >= sizeof(rel)) {
		albm_seterr(err, errlen,
			    "cgroup '%s': a relative name must be non-empty, without "
			    "'..'",
			    spec);
		return -EINVAL;
	}
	if (mnt->memory[0] &&
	    (size_t)snprintf(dir, sizeof(dir), "%s%s", mnt->memory, rel) < sizeof(dir) &&
	    is_dir(dir))
		return cg_fill_v1(mnt, spec, rel, cg, err, errlen);
	if (mnt->unified[0] &&
	    (size_t)snprintf(dir, sizeof(dir), "%s%s", mnt->unified, rel) < sizeof(dir) &&
	    is_dir(dir))
		return cg_fill_v2(dir, cg);
	albm_seterr(err, errlen,
		    "cgroup %s: not found in the v1 memory hierarchy ('%s') nor in "
		    "cgroup2 ('%s')",
		    spec, mnt->memory[0] ? mnt->memory : "not mounted",
		    mnt->unified[0] ? mnt->unified : "not mounted");
	return -ENOENT;
}

/* Read dir/name into fb; the text is fb->p.  what receives the path for messages. */
static int cg_file(const char *dir, const char *name, struct albm_filebuf *fb, char *what,
		   char *err, size_t errlen)
{
	long n;

	snprintf(what, PATH_MAX + 64, "%s/%s", dir, name);
	n = albm_file_read(what, fb, err, errlen);
	return n < 0 ? (int)n : 0;
}

static int cg_u64(const char *dir, const char *name, int max_ok, struct albm_filebuf *fb,
		  uint64_t *out, char *err, size_t errlen)
{
	char what[PATH_MAX + 64];
	int rc = cg_file(dir, name, fb, what, err, errlen);

	return rc ? rc : albm_parse_u64_text(what, fb->p, max_ok, out, err, errlen);
}

static int cg_kv(const char *dir, const char *name, const char *key, struct albm_filebuf *fb,
		 uint64_t *out, char *err, size_t errlen)
{
	char what[PATH_MAX + 64];
	int rc = cg_file(dir, name, fb, what, err, errlen);

	return rc ? rc : albm_kv_find(what, fb->p, key, out, err, errlen);
}

/* An optional counter: *has says whether text had key with a valid value. */
static void cg_optional_kv(const char *what, const char *text, const char *key, uint64_t *out,
			   int *has)
{
	*has = !albm_kv_find(what, text, key, out, NULL, 0);
}

/* An optional counter from its own file (absent on older kernels: not an error). */
static void cg_optional_file(const char *dir, const char *name, const char *key,
			     struct albm_filebuf *fb, uint64_t *out, int *has)
{
	char what[PATH_MAX + 64];

	*has = !cg_file(dir, name, fb, what, NULL, 0) &&
	       !albm_kv_find(what, fb->p, key, out, NULL, 0);
}

static void cg_set_limit(struct albm_cg_sample *s, uint64_t limit)
{
	if (limit < CG_UNLIMITED && (!s->mem_limit || limit < s->mem_limit))
		s->mem_limit = limit;
}

/* v1: usage_in_bytes, the tighter of limit_in_bytes and the hierarchical limit
 * (an ancestor's limit binds too), total_inactive_file as reclaimable. */
static int cg_read_mem_v1(const char *dir, struct albm_filebuf *fb, struct albm_cg_sample *s,
			  char *err, size_t errlen)
{
	char what[PATH_MAX + 64];
	uint64_t v;
	int rc;

	rc = cg_u64(dir, "memory.usage_in_bytes", 0, fb, &s->mem_usage, err, errlen);
	if (!rc)
		rc = cg_u64(dir, "memory.limit_in_bytes", 0, fb, &v, err, errlen);
	if (rc)
		return rc;
	cg_set_limit(s, v);
	rc = cg_kv(dir, "memory.stat", "hierarchical_memory_limit", fb, &v, err, errlen);
	if (!rc)
		cg_set_limit(s, v);
	else if (rc != -ENOENT)
		return rc;
	snprintf(what, sizeof(what), "%s/memory.stat", dir);
	cg_optional_kv(what, fb->p, "total_pgmajfault", &s->majfaults, &s->has_majfault);
	if (!s->has_majfault)
		cg_optional_kv(what, fb->p, "pgmajfault", &s->majfaults, &s->has_majfault);
	rc = albm_kv_find(what, fb->p, "total_inactive_file", &s->mem_reclaimable, err, errlen);
	if (rc == -ENOENT)
		rc = albm_kv_find(what, fb->p, "inactive_file", &s->mem_reclaimable, err, errlen);
	if (!rc)
		cg_optional_file(dir, "memory.oom_control", "oom_kill", fb, &s->oom_kills,
				 &s->has_oom);
	return rc;
}

static int cg_read_mem_v2(const char *dir, struct albm_filebuf *fb, struct albm_cg_sample *s,
			  char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	rc = cg_u64(dir, "memory.current", 0, fb, &s->mem_usage, err, errlen);
	if (!rc)
		rc = cg_u64(dir, "memory.max", 1, fb, &v, err, errlen);
	if (rc)
		return rc;
	cg_set_limit(s, v);
	rc = cg_kv(dir, "memory.stat", "inactive_file", fb, &s->mem_reclaimable, err, errlen);
	if (rc)
		return rc;
	cg_optional_kv(dir, fb->p, "pgmajfault", &s->majfaults, &s->has_majfault);
	cg_optional_file(dir, "memory.events", "oom_kill", fb, &s->oom_kills, &s->has_oom);
	return 0;
}

/* v1 cpu.cfs_quota_us ("-1" = none) over cpu.cfs_period_us. */
static int cg_read_quota_v1(const char *dir, struct albm_filebuf *fb, struct albm_cg_sample *s,
			    char *err, size_t errlen)
{
	char what[PATH_MAX + 64];
	uint64_t quota, period;
	int rc;

	rc = cg_file(dir, "cpu.cfs_quota_us", fb, what, err, errlen);
	if (rc)
		return rc;
	if (!strncmp(fb->p, "-1", 2) && (fb->p[2] == '\n' || !fb->p[2]))
		return 0;
	rc = albm_parse_u64_text(what, fb->p, 0, &quota, err, errlen);
	if (!rc)
		rc = cg_u64(dir, "cpu.cfs_period_us", 0, fb, &period, err, errlen);
	if (!rc && period)
		s->cpu_quota = (double)quota / (double)period;
	return rc;
}

/* v2 cpu.max: "$QUOTA $PERIOD" or "max $PERIOD". */
static int cg_read_quota_v2(const char *dir, struct albm_filebuf *fb, struct albm_cg_sample *s,
			    char *err, size_t errlen)
{
	char what[PATH_MAX + 64], line[64];
	unsigned long long quota = 0, period;
	char q[24];
	int n = 0, rc;

	rc = cg_file(dir, "cpu.max", fb, what, err, errlen);
	if (rc)
		return rc;
	if (sscanf(fb->p, "%23s %llu%n", q, &period, &n) != 2 || (fb->p[n] && fb->p[n] != '\n') ||
	    period == 0 || (strcmp(q, "max") && sscanf(q, "%llu%n", &quota, &n) != 1) ||
	    (strcmp(q, "max") && q[n])) {
		albm_seterr(err, errlen, "%s: expected '$MAX $PERIOD', found '%s'", what,
			    albm_line_excerpt(fb->p, line, sizeof(line)));
		return -EINVAL;
	}
	if (strcmp(q, "max"))
		s->cpu_quota = (double)quota / (double)period;
	return 0;
}

int albm_cg_read(const struct albm_cg *cg, struct albm_filebuf *fb, struct albm_cg_sample *s,
		 char *err, size_t errlen)
{
	bool v1 = cg->version == ALBM_CG_V1;
	uint64_t usec;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (cg->mem_dir[0]) {
		rc = v1 ? cg_read_mem_v1(cg->mem_dir, fb, s, err, errlen)
			: cg_read_mem_v2(cg->mem_dir, fb, s, err, errlen);
		if (rc)
			return rc;
		s->has_mem = 1;
	}
	if (cg->acct_dir[0]) {
		if (v1) {
			rc = cg_u64(cg->acct_dir, "cpuacct.usage", 0, fb, &s->cpu_usage_ns, err,
				    errlen);
		} else {
			rc = cg_kv(cg->acct_dir, "cpu.stat", "usage_usec", fb, &usec, err, errlen);
			if (rc == 0)
				s->cpu_usage_ns = usec * 1000;
		}
		if (rc)
			return rc;
		s->has_cpu = 1;
	}
	if (cg->cpu_dir[0])
		rc = v1 ? cg_read_quota_v1(cg->cpu_dir, fb, s, err, errlen)
			: cg_read_quota_v2(cg->cpu_dir, fb, s, err, errlen);
	return rc;
}

void albm_cg_mem_available(const struct albm_cg_sample *s, uint64_t host_total, uint64_t host_avail,
			   uint64_t *total, uint64_t *avail)
{
	uint64_t used;

	if (!s->has_mem || !s->mem_limit || s->mem_limit >= host_total) {
		*total = host_total;
		*avail = host_avail;
		return;
	}
	used = s->mem_usage - ALBM_MIN(s->mem_reclaimable, s->mem_usage);
	*total = s->mem_limit;
	*avail = s->mem_limit > used ? s->mem_limit - used : 0;
	/* The limit is a promise the host may not be able to keep. */
	if (*avail > host_avail)
		*avail = host_avail;
}

double albm_cg_cpu_util(const struct albm_cg_sample *prev, const struct albm_cg_sample *cur,
			uint64_t dt_ns, long ncpu)
{
	double cap = ncpu > 0 ? (double)ncpu : 1.0, u;

	if (cur->cpu_quota > 0 && cur->cpu_quota < cap)
		cap = cur->cpu_quota;
	if (!dt_ns || cur->cpu_usage_ns < prev->cpu_usage_ns)
		return 0.0;
	u = (double)(cur->cpu_usage_ns - prev->cpu_usage_ns) / ((double)dt_ns * cap);
	return u > 1.0 ? 1.0 : u;
}
