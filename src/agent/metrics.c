/* ALBM agent: one measurement of the host or of a cgroup, from procfs and cgroupfs */
#include "agent/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_COMPONENT "metrics"
#include "common/log.h"
#include "common/util.h"

void albm_sampler_init(struct albm_sampler *s, const char *name, const char *proc_dir,
		       const struct albm_cg *cg)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->proc_dir, sizeof(s->proc_dir), "%s", proc_dir);
	s->cg = cg;
	s->tcp_netlink = !strcmp(proc_dir, "/proc");
	s->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (s->ncpu < 1)
		s->ncpu = 1;
	s->nlfd = -1;
	s->tcp_every_ns = ALBM_TCP_EVERY_MS * 1000000ull;
}

void albm_sampler_free(struct albm_sampler *s)
{
	if (s->nlfd >= 0)
		close(s->nlfd);
	s->nlfd = -1;
	albm_filebuf_free(&s->fb);
}

/* Read proc_dir/name into the sampler's buffer; path receives the file's name. */
static int proc_file(struct albm_sampler *s, const char *name, char *path, size_t plen, char *err,
		     size_t errlen)
{
	long n;

	snprintf(path, plen, "%s/%s", s->proc_dir, name);
	n = albm_file_read(path, &s->fb, err, errlen);
	return n < 0 ? (int)n : 0;
}

/* Established TCP sockets: sock_diag when allowed, else /proc/net/tcp and tcp6. */
static int sample_tcp(struct albm_sampler *s, uint32_t *count, char *err, size_t errlen)
{
	static const char *const files[] = { "net/tcp", "net/tcp6" };
	char path[PATH_MAX + 16];
	int rc;

	if (s->tcp_netlink) {
		rc = albm_proc_tcp_netlink(&s->nlfd, count, err, errlen);
		if (!rc)
			return 0;
		LOG_WARN("%s; counting TCP connections from %s/net/tcp{,6} instead", err,
			 s->proc_dir);
		s->tcp_netlink = false;
	}
	*count = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		rc = proc_file(s, files[i], path, sizeof(path), err, errlen);
		if (rc == -ENOENT && i == 1) /* kernel without IPv6 */
			return 0;
		if (!rc)
			rc = albm_proc_count_tcp(path, s->fb.p, count, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The TCP count, recounted when it is older than tcp_every_ns. */
static int sample_tcp_cached(struct albm_sampler *s, uint64_t now_ns, uint32_t *count, char *err,
			     size_t errlen)
{
	int rc;

	if (s->have_prev && now_ns < s->tcp_next_ns) {
		*count = s->tcp_count;
		return 0;
	}
	rc = sample_tcp(s, count, err, errlen);
	if (!rc) {
		s->tcp_count = *count;
		s->tcp_next_ns = now_ns + s->tcp_every_ns;
	}
	return rc;
}

/* Host-wide readings: memory, run queue, load, TCP, and the CPU counters when
 * need_cpu (a cgroup with CPU accounting does without /proc/stat, the costlier file). */
static int sample_host(struct albm_sampler *s, uint64_t now_ns, bool need_cpu,
		       struct albm_metrics *m, struct albm_proc_cpu *cpu, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	int rc;

	rc = proc_file(s, "meminfo", path, sizeof(path), err, errlen);
	if (!rc)
		rc = albm_proc_parse_meminfo(path, s->fb.p, &m->mem_total_bytes,
					     &m->mem_available_bytes, err, errlen);
	if (!rc && need_cpu)
		rc = proc_file(s, "stat", path, sizeof(path), err, errlen);
	if (!rc && need_cpu)
		rc = albm_proc_parse_stat(path, s->fb.p, cpu, err, errlen);
	if (!rc)
		rc = proc_file(s, "loadavg", path, sizeof(path), err, errlen);
	if (!rc)
		rc = albm_proc_parse_loadavg(path, s->fb.p, &m->load1, &m->run_queue, err, errlen);
	if (!rc)
		rc = sample_tcp_cached(s, now_ns, &m->tcp_established, err, errlen);
	return rc;
}

int albm_sampler_take(struct albm_sampler *s, uint64_t now_ns, struct albm_metrics *m, char *err,
		      size_t errlen)
{
	struct albm_metrics out = { .state = m->state };
	struct albm_proc_cpu cpu = { 0 };
	struct albm_cg_sample cgs = { 0 };
	struct albm_stall_sample st;
	char serr[256];
	int rc;

	snprintf(out.name, sizeof(out.name), "%s", s->name);
	rc = sample_host(s, now_ns, !s->cg || !s->cg->acct_dir[0], &out, &cpu, err, errlen);
	if (!rc && s->cg)
		rc = albm_cg_read(s->cg, &s->fb, &cgs, err, errlen);
	if (rc)
		return rc;
	if (s->cg)
		albm_cg_mem_available(&cgs, out.mem_total_bytes, out.mem_available_bytes,
				      &out.mem_total_bytes, &out.mem_available_bytes);
	if (s->have_prev && s->cg && cgs.has_cpu)
		out.cpu_util = albm_cg_cpu_util(&s->prev_cg, &cgs, now_ns - s->prev_ns, s->ncpu);
	else if (s->have_prev)
		out.cpu_util = albm_proc_cpu_util(&s->prev_host, &cpu);
	if (albm_stall_read(s->proc_dir, s->cg, &cgs, &s->fb, &st, serr, sizeof(serr)))
		LOG_RL(ALBM_LOG_WARN, "stall signal left out: %s", serr);
	albm_stall_fill(s->have_prev ? &s->prev_stall : NULL, &st, now_ns - s->prev_ns, &out);
	s->prev_stall = st;
	s->prev_host = cpu;
	s->prev_cg = cgs;
	s->prev_ns = now_ns;
	s->have_prev = true;
	*m = out;
	return 0;
}
