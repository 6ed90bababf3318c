/* ALBM agent: stall signals — PSI, major-fault rate and OOM kills, host-wide and per cgroup */
#include "agent/metrics_stall.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const char *const psi_file[ALBM_PSI_NRES] = { "memory", "cpu", "io" };

/* One "some|full avg10=A avg60=B avg300=C total=T" line; 0, or -EINVAL. */
static int psi_line(const char *p, const char *kind, double *avg10, uint64_t *total)
{
	double a10, a60, a300;
	unsigned long long t;
	char k[8];
	int n = 0;

	if (sscanf(p, "%7s avg10=%lf avg60=%lf avg300=%lf total=%llu%n", k, &a10, &a60, &a300, &t,
		   &n) != 5 ||
	    strcmp(k, kind) || (p[n] && p[n] != '\n'))
		return -EINVAL;
	if (!(a10 >= 0 && a10 <= 100) || !(a60 >= 0 && a60 <= 100) || !(a300 >= 0 && a300 <= 100))
		return -EINVAL;
	*avg10 = a10;
	*total = t;
	return 0;
}

int albm_psi_parse(const char *what, const char *text, struct albm_psi_raw *p, char *err,
		   size_t errlen)
{
	const char *full = strchr(text, '\n');
	char line[96];

	memset(p, 0, sizeof(*p));
	if (psi_line(text, "some", &p->some_avg10, &p->some_total)) {
		albm_seterr(err, errlen, "%s: cannot parse line '%s'", what,
			    albm_line_excerpt(text, line, sizeof(line)));
		return -EINVAL;
	}
	if (!full || !*++full)
		return 0;
	if (psi_line(full, "full", &p->full_avg10, &p->full_total)) {
		albm_seterr(err, errlen, "%s: cannot parse line '%s'", what,
			    albm_line_excerpt(full, line, sizeof(line)));
		return -EINVAL;
	}
	return 0;
}

/* dir/<res>.pressure (or dir/<res> for /proc/pressure) into raw; 0, -ENOENT-ish
 * (absent, not counted) or -EINVAL (present but unparsable). */
static int stall_psi(const char *dir, const char *suffix, int res, struct albm_filebuf *fb,
		     struct albm_psi_raw *raw, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	long n;

	snprintf(path, sizeof(path), "%s/%s%s", dir, psi_file[res], suffix);
	n = albm_file_read(path, fb, NULL, 0);
	if (n < 0)
		return (int)n == -EINVAL ? -EIO : (int)n; /* absent or disabled (EOPNOTSUPP) */
	return albm_psi_parse(path, fb->p, raw, err, errlen);
}

/* Host PSI and, for a cgroup with PSI files, the cgroup's.  Returns the number of
 * files present but unparsable. */
static int stall_read_psi(const char *proc_dir, const struct albm_cg *cg, struct albm_filebuf *fb,
			  struct albm_stall_sample *s, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int bad = 0, rc;

	snprintf(dir, sizeof(dir), "%s/pressure", proc_dir);
	for (int r = 0; r < ALBM_PSI_NRES; r++) {
		rc = stall_psi(dir, "", r, fb, &s->host[r], err, errlen);
		s->have |= rc ? 0 : ALBM_MET_HOST_PSI(r);
		bad += rc == -EINVAL;
		if (cg && cg->psi_dir[0]) {
			rc = stall_psi(cg->psi_dir, ".pressure", r, fb, &s->cg[r], err, errlen);
			s->have |= rc ? 0 : ALBM_MET_CG_PSI(r);
			bad += rc == -EINVAL;
		}
	}
	return bad;
}

/* Host-wide major faults and OOM kills from proc_dir/vmstat. */
static int stall_read_vmstat(const char *proc_dir, struct albm_filebuf *fb,
			     struct albm_stall_sample *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	int rc;

	snprintf(path, sizeof(path), "%s/vmstat", proc_dir);
	if (albm_file_read(path, fb, NULL, 0) < 0)
		return 0;
	rc = albm_kv_find(path, fb->p, "pgmajfault", &s->majfaults, err, errlen);
	s->have |= rc ? 0 : ALBM_MET_MAJFAULT;
	/* oom_kill appeared in /proc/vmstat in Linux 4.13: absent is not an error */
	if (!albm_kv_find(path, fb->p, "oom_kill", &s->oom_kills, NULL, 0))
		s->have |= ALBM_MET_OOM_KILLS;
	return rc == -EINVAL;
}

int albm_stall_read(const char *proc_dir, const struct albm_cg *cg,
		    const struct albm_cg_sample *cgs, struct albm_filebuf *fb,
		    struct albm_stall_sample *s, char *err, size_t errlen)
{
	int bad;

	memset(s, 0, sizeof(*s));
	bad = stall_read_psi(proc_dir, cg, fb, s, err, errlen);
	if (!cg || !cg->mem_dir[0])
		return bad + stall_read_vmstat(proc_dir, fb, s, err, errlen);
	if (cgs->has_majfault) {
		s->majfaults = cgs->majfaults;
		s->have |= ALBM_MET_MAJFAULT;
	}
	if (cgs->has_oom) {
		s->oom_kills = cgs->oom_kills;
		s->have |= ALBM_MET_OOM_KILLS;
	}
	return bad;
}

/* Share of dt_us during which the counter advanced, in percent (0 without history). */
static double stall_pct(uint64_t prev, uint64_t cur, double dt_us)
{
	double pct;

	if (dt_us <= 0 || cur < prev)
		return 0;
	pct = 100.0 * (double)(cur - prev) / dt_us;
	return pct > 100.0 ? 100.0 : pct;
}

static void stall_psi_fill(const struct albm_psi_raw *prev, const struct albm_psi_raw *cur,
			   double dt_us, struct albm_psi *out)
{
	out->some_avg10 = cur->some_avg10;
	out->full_avg10 = cur->full_avg10;
	out->some_pct = prev ? stall_pct(prev->some_total, cur->some_total, dt_us) : 0;
	out->full_pct = prev ? stall_pct(prev->full_total, cur->full_total, dt_us) : 0;
}

void albm_stall_fill(const struct albm_stall_sample *prev, const struct albm_stall_sample *cur,
		     uint64_t dt_ns, struct albm_metrics *m)
{
	double dt_us = (double)dt_ns / 1000.0;
	uint32_t both = prev ? prev->have & cur->have : 0;

	m->present = cur->have;
	for (int r = 0; r < ALBM_PSI_NRES; r++) {
		if (cur->have & ALBM_MET_HOST_PSI(r))
			stall_psi_fill(both & ALBM_MET_HOST_PSI(r) ? &prev->host[r] : NULL,
				       &cur->host[r], dt_us, &m->host_psi[r]);
		if (cur->have & ALBM_MET_CG_PSI(r))
			stall_psi_fill(both & ALBM_MET_CG_PSI(r) ? &prev->cg[r] : NULL, &cur->cg[r],
				       dt_us, &m->cg_psi[r]);
	}
	m->majfault_rate = 0;
	if ((both & ALBM_MET_MAJFAULT) && dt_ns && cur->majfaults >= prev->majfaults)
		m->majfault_rate = (double)(cur->majfaults - prev->majfaults) * 1e9 / (double)dt_ns;
	m->oom_kills = cur->oom_kills;
}
