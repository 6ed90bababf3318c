/* ALBM: unit tests for the agent's procfs and cgroup parsers, on real fixture copies */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/metrics.h"
#include "agent/overload.h"
#include "common/util.h"

#define FIX "tests/fixtures/agent" /* tests run from the repository root */

/* cmocka 1.1 has no double comparison */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static struct albm_filebuf fb;

static const char *fixture(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), FIX "/%s", rel);
	assert_true(albm_file_read(path, &fb, NULL, 0) >= 0);
	return fb.p;
}

/* An independent reading of "Key: N" from a fixture, to compare the parser with. */
static uint64_t fixture_field(const char *rel, const char *key)
{
	const char *text = fixture(rel), *p = strstr(text, key);

	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 10);
}

static void test_meminfo(void **state)
{
	uint64_t total, avail;
	char err[256];
	(void)state;

	uint64_t want_total = fixture_field("proc/meminfo", "MemTotal:") * 1024;
	uint64_t want_avail = fixture_field("proc/meminfo", "MemAvailable:") * 1024;

	assert_int_equal(albm_proc_parse_meminfo("meminfo", fixture("proc/meminfo"), &total, &avail,
						 err, sizeof(err)), 0);
	assert_true(total == want_total);
	assert_true(avail == want_avail);
	assert_true(avail < total);
}

static void test_meminfo_bad(void **state)
{
	uint64_t total, avail;
	char err[256] = "";
	(void)state;

	assert_int_equal(albm_proc_parse_meminfo("/proc/meminfo", "MemTotal: 100 kB\n"
						 "MemAvailable:   12x kB\n", &total, &avail, err,
						 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/proc/meminfo"));
	assert_non_null(strstr(err, "MemAvailable:   12x kB"));
	assert_int_equal(albm_proc_parse_meminfo("/proc/meminfo", "MemFree: 1 kB\n", &total, &avail,
						 err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "MemTotal"));
	assert_int_equal(albm_proc_parse_meminfo("m", "", &total, &avail, err, sizeof(err)),
			 -ENOENT);
	/* a kernel before MemAvailable: free + buffers + cached */
	assert_int_equal(albm_proc_parse_meminfo("m", "MemTotal: 1000 kB\nMemFree: 100 kB\n"
						 "Buffers: 20 kB\nCached: 300 kB\n", &total, &avail,
						 err, sizeof(err)), 0);
	assert_true(avail == 420 * 1024);
}

/* Sum of the busy fields of the "cpu " line, read independently. */
static void fixture_cpu(const char *rel, uint64_t *busy, uint64_t *total)
{
	unsigned long long f[8];

	assert_int_equal(sscanf(fixture(rel), "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
				&f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]), 8);
	*busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
	*total = *busy + f[3] + f[4];
}

static void test_stat(void **state)
{
	struct albm_proc_cpu c0, c1;
	uint64_t busy0, total0, busy1, total1;
	char err[256];
	double u;
	(void)state;

	fixture_cpu("proc/stat", &busy0, &total0);
	fixture_cpu("proc-t1/stat", &busy1, &total1);
	assert_int_equal(albm_proc_parse_stat("stat", fixture("proc/stat"), &c0, err, sizeof(err)),
			 0);
	assert_true(c0.busy == busy0 && c0.total == total0);
	assert_int_equal(albm_proc_parse_stat("stat", fixture("proc-t1/stat"), &c1, err,
					      sizeof(err)), 0);
	u = albm_proc_cpu_util(&c0, &c1);
	assert_true(u > 0.0 && u <= 1.0);
	assert_near(u, (double)(busy1 - busy0) / (double)(total1 - total0), 1e-12);
	assert_near(albm_proc_cpu_util(&c1, &c0), 0.0, 0); /* counters went back */
}

static void test_stat_bad(void **state)
{
	struct albm_proc_cpu c;
	char err[256] = "";
	(void)state;

	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu  1 2 x 4\nintr 1\n", &c, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/proc/stat: cannot parse line 'cpu  1 2 x 4'"));
	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu  1 2\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu  1 2 3 -4\n", &c, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu0 1 2 3 4\nintr 1\n", &c, err,
					      sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no 'cpu' line"));
	/* fewer fields, as on old kernels: user nice system idle */
	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu  1 2 3 4\n", &c, err, sizeof(err)),
			 0);
	assert_true(c.busy == 6 && c.total == 10);
}

static void test_loadavg(void **state)
{
	unsigned want_run;
	uint32_t run;
	double load;
	char err[256] = "";
	(void)state;

	assert_int_equal(sscanf(fixture("proc/loadavg"), "%*f %*f %*f %u/", &want_run), 1);
	assert_int_equal(albm_proc_parse_loadavg("loadavg", fixture("proc/loadavg"), &load, &run,
						 err, sizeof(err)), 0);
	assert_near(load, strtod(fixture("proc/loadavg"), NULL), 0);
	assert_int_equal(run, want_run);
	assert_true(run >= 1); /* the reading process itself was running */
	assert_int_equal(albm_proc_parse_loadavg("/proc/loadavg", "nan 1 2 1/2 3\n", &load, &run,
						 err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_proc_parse_loadavg("/proc/loadavg", "0.1 0.2 0.3 1 5\n", &load, &run,
						 err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_proc_parse_loadavg("/proc/loadavg", "", &load, &run, err,
						 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/proc/loadavg"));
}

/* Established lines ("st" field 01) counted independently. */
static uint32_t fixture_established(const char *rel)
{
	uint32_t n = 0;

	for (const char *p = strchr(fixture(rel), '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		unsigned st;

		assert_int_equal(sscanf(p + 1, "%*s %*s %*s %x", &st), 1);
		n += st == 1;
	}
	return n;
}

static void test_net_tcp(void **state)
{
	uint32_t n4 = 0, n6 = 0, want4, want6;
	char err[256] = "";
	(void)state;

	want4 = fixture_established("proc/net/tcp");
	want6 = fixture_established("proc/net/tcp6");
	assert_true(want4 >= 4 && want6 >= 4); /* capture.sh kept 2+2 connections open */
	assert_int_equal(albm_proc_count_tcp("tcp", fixture("proc/net/tcp"), &n4, err,
					     sizeof(err)), 0);
	assert_int_equal(albm_proc_count_tcp("tcp6", fixture("proc/net/tcp6"), &n6, err,
					     sizeof(err)), 0);
	assert_int_equal(n4, want4);
	assert_int_equal(n6, want6);
	assert_int_equal(albm_proc_count_tcp("/proc/net/tcp", "garbage\n", &n4, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "header"));
	assert_int_equal(albm_proc_count_tcp("/proc/net/tcp",
					     "  sl  local_address\n   0: 0100007F:1F90 zz 01 0\n",
					     &n4, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/proc/net/tcp: cannot parse line"));
}

/* In a fresh network namespace (root only): exactly the connections we open. */
static int netns_child(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct ifreq ifr = { 0 };
	uint32_t nl = 99, files = 0;
	struct albm_filebuf b = { 0 };
	int s, l, c, acc, nlfd = -1;

	if (unshare(CLONE_NEWNET))
		return 77;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr))
		return 2;
	if (albm_proc_tcp_netlink(&nlfd, &nl, NULL, 0) || nl != 0)
		return 3;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		return 4;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) || (acc = accept(l, NULL, NULL)) < 0)
		return 5;
	if (albm_proc_tcp_netlink(&nlfd, &nl, NULL, 0) || nl != 2)
		return 6;
	if (albm_file_read("/proc/self/net/tcp", &b, NULL, 0) < 0 ||
	    albm_proc_count_tcp("tcp", b.p, &files, NULL, 0) || files != 2)
		return 7;
	albm_filebuf_free(&b);
	close(nlfd);
	close(acc);
	close(c);
	close(l);
	close(s);
	return 0;
}

static void test_tcp_netlink(void **state)
{
	int status;
	pid_t pid;
	(void)state;

	if (geteuid() != 0)
		skip(); /* needs CAP_SYS_ADMIN for a private network namespace */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(netns_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The sampler over fixture copies of /proc: a first sample, then one later. */
static void test_sampler_host(void **state)
{
	struct albm_sampler s;
	struct albm_metrics m = { 0 };
	struct albm_proc_cpu c0, c1;
	char err[256];
	(void)state;

	albm_sampler_init(&s, "s1", FIX "/proc", NULL);
	assert_false(s.tcp_netlink);
	assert_int_equal(albm_sampler_take(&s, 1000000000ull, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "s1");
	assert_true(m.mem_total_bytes == fixture_field("proc/meminfo", "MemTotal:") * 1024);
	assert_int_equal(m.tcp_established, fixture_established("proc/net/tcp") +
						    fixture_established("proc/net/tcp6"));
	assert_near(m.cpu_util, 0.0, 0); /* no interval yet */
	snprintf(s.proc_dir, sizeof(s.proc_dir), FIX "/proc-t1");
	assert_int_equal(albm_sampler_take(&s, 2000000000ull, &m, err, sizeof(err)), 0);
	albm_proc_parse_stat("", fixture("proc/stat"), &c0, NULL, 0);
	albm_proc_parse_stat("", fixture("proc-t1/stat"), &c1, NULL, 0);
	assert_near(m.cpu_util, albm_proc_cpu_util(&c0, &c1), 1e-12);
	/* a missing file is an error naming it, and leaves the sampler as it was */
	snprintf(s.proc_dir, sizeof(s.proc_dir), FIX "/no-such-proc");
	assert_int_equal(albm_sampler_take(&s, 3000000000ull, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no-such-proc/meminfo"));
	assert_true(s.prev_ns == 2000000000ull);
	albm_sampler_free(&s);
}

/* Mount points of the fixture hierarchies, as absolute paths. */
static void fixture_mounts(struct albm_cg_mounts *mnt, const char *v1)
{
	char rel[PATH_MAX];

	memset(mnt, 0, sizeof(*mnt));
	snprintf(rel, sizeof(rel), FIX "/%s/memory", v1);
	assert_non_null(realpath(rel, mnt->memory));
	snprintf(rel, sizeof(rel), FIX "/%s/cpu", v1);
	assert_non_null(realpath(rel, mnt->cpu));
	snprintf(rel, sizeof(rel), FIX "/%s/cpuacct", v1);
	assert_non_null(realpath(rel, mnt->cpuacct));
	assert_non_null(realpath(FIX "/cgroup-v2", mnt->unified));
}

static void test_mountinfo(void **state)
{
	struct albm_cg_mounts mnt;
	char err[256] = "";
	(void)state;

	assert_int_equal(albm_cg_parse_mountinfo(fixture("mountinfo"), &mnt, err, sizeof(err)), 0);
	assert_string_equal(mnt.memory, "/sys/fs/cgroup/memory");
	assert_string_equal(mnt.cpu, "/sys/fs/cgroup/cpu");
	assert_string_equal(mnt.cpuacct, "/sys/fs/cgroup/cpuacct");
	assert_string_equal(mnt.unified, "/sys/fs/cgroup/unified");
	/* a combined cpu,cpuacct mount, an escaped space, cgroup2 only */
	assert_int_equal(albm_cg_parse_mountinfo(
				 "30 25 0:26 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
				 "31 25 0:27 / /cg/my\\040mem rw shared:9 - cgroup cg rw,memory\n"
				 "32 25 0:28 / /cg2 rw - cgroup2 cgroup2 rw,nsdelegate\n",
				 &mnt, err, sizeof(err)), 0);
	assert_string_equal(mnt.cpu, "/cg/cpu,cpuacct");
	assert_string_equal(mnt.cpuacct, "/cg/cpu,cpuacct");
	assert_string_equal(mnt.memory, "/cg/my mem");
	assert_string_equal(mnt.unified, "/cg2");
	assert_int_equal(albm_cg_parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/vda rw\n", &mnt, err,
						 sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no cgroup"));
}

static void test_cg_resolve(void **state)
{
	struct albm_cg_mounts mnt;
	struct albm_cg cg;
	char err[512] = "", path[PATH_MAX + 16];
	(void)state;

	fixture_mounts(&mnt, "cgroup-v1");
	/* a relative name: found in the v1 memory hierarchy, siblings by the same name */
	assert_int_equal(albm_cg_resolve(&mnt, "albm/s1", &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.version, ALBM_CG_V1);
	assert_non_null(strstr(cg.mem_dir, "cgroup-v1/memory/albm/s1"));
	assert_non_null(strstr(cg.cpu_dir, "cgroup-v1/cpu/albm/s1"));
	assert_non_null(strstr(cg.acct_dir, "cgroup-v1/cpuacct/albm/s1"));
	/* a memory-only v1 cgroup */
	assert_int_equal(albm_cg_resolve(&mnt, "albm/s2", &cg, err, sizeof(err)), 0);
	assert_string_equal(cg.cpu_dir, "");
	assert_string_equal(cg.acct_dir, "");
	/* an absolute v1 path below the cpuacct mount finds the memory sibling too */
	snprintf(path, sizeof(path), "%s/albm/s1", mnt.cpuacct);
	assert_int_equal(albm_cg_resolve(&mnt, path, &cg, err, sizeof(err)), 0);
	assert_non_null(strstr(cg.mem_dir, "cgroup-v1/memory/albm/s1"));
	/* not in v1: cgroup2 */
	assert_int_equal(albm_cg_resolve(&mnt, "albm/s3", &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.version, ALBM_CG_V2);
	assert_string_equal(cg.mem_dir, ""); /* no memory controller delegated */
	assert_string_equal(cg.cpu_dir, "");
	assert_non_null(strstr(cg.acct_dir, "cgroup-v2/albm/s3"));
	snprintf(path, sizeof(path), "%s/albm/s1", mnt.unified);
	assert_int_equal(albm_cg_resolve(&mnt, path, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.version, ALBM_CG_V2);
	assert_string_equal(cg.mem_dir, path);
	/* errors name what was asked and where it was looked for */
	assert_int_equal(albm_cg_resolve(&mnt, "albm/nosuch", &cg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "albm/nosuch"));
	assert_non_null(strstr(err, mnt.memory));
	assert_int_equal(albm_cg_resolve(&mnt, "../etc", &cg, err, sizeof(err)), -EINVAL);
	assert_int_equal(albm_cg_resolve(&mnt, "/nonexistent/cg", &cg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cg: No such file"));
	assert_int_equal(albm_cg_resolve(&mnt, "/tmp", &cg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not inside a cgroup mount"));
}

static void resolve_fixture(const char *v1, const char *name, struct albm_cg *cg)
{
	struct albm_cg_mounts mnt;
	char err[512];

	fixture_mounts(&mnt, v1);
	if (albm_cg_resolve(&mnt, name, cg, err, sizeof(err)))
		fail_msg("%s", err);
}

static uint64_t fixture_u64(const char *rel)
{
	return strtoull(fixture(rel), NULL, 10);
}

static struct albm_metrics cg_metrics(const struct albm_cg_sample *s)
{
	struct albm_metrics m = { .name = "s1" };

	/* a host much larger than the cgroup, with plenty available */
	albm_cg_mem_available(s, 24ull << 30, 20ull << 30, &m.mem_total_bytes,
			      &m.mem_available_bytes);
	return m;
}

/* Real v1 copies: 128M limit, 0.5 CPU quota; loaded 1.5 s later. */
static void test_cg_v1(void **state)
{
	struct albm_cg cg0, cg1;
	struct albm_cg_sample s0, s1;
	struct albm_metrics m0, m1;
	char err[512];
	uint64_t dt, usage0, usage1;
	double u;
	(void)state;

	resolve_fixture("cgroup-v1", "albm/s1", &cg0);
	resolve_fixture("cgroup-v1-t1", "albm/s1", &cg1);
	assert_int_equal(albm_cg_read(&cg0, &fb, &s0, err, sizeof(err)), 0);
	assert_int_equal(albm_cg_read(&cg1, &fb, &s1, err, sizeof(err)), 0);
	assert_true(s0.has_mem && s0.has_cpu);
	assert_true(s0.mem_limit == fixture_u64("cgroup-v1/memory/albm/s1/memory.limit_in_bytes"));
	assert_true(s0.mem_limit == 128ull << 20);
	assert_true(s1.mem_usage ==
		    fixture_u64("cgroup-v1-t1/memory/albm/s1/memory.usage_in_bytes"));
	assert_true(s1.mem_reclaimable ==
		    fixture_field("cgroup-v1-t1/memory/albm/s1/memory.stat",
				  "total_inactive_file "));
	assert_near(s0.cpu_quota, 0.5, 1e-12);
	usage0 = fixture_u64("cgroup-v1/cpuacct/albm/s1/cpuacct.usage");
	usage1 = fixture_u64("cgroup-v1-t1/cpuacct/albm/s1/cpuacct.usage");
	assert_true(s0.cpu_usage_ns == usage0 && s1.cpu_usage_ns == usage1);
	/* CPU relative to the quota: the process ran flat out at 0.5 CPU */
	dt = fixture_u64("cgroup-v1-t1/interval_ns");
	u = albm_cg_cpu_util(&s0, &s1, dt, 2);
	assert_near(u, ALBM_MIN(1.0, (double)(usage1 - usage0) / (dt * 0.5)), 1e-9);
	assert_true(u > 0.8);
	/* memory: the limit is the total; the loaded cgroup is below --mem-low */
	m0 = cg_metrics(&s0);
	m1 = cg_metrics(&s1);
	assert_true(m0.mem_total_bytes == 128ull << 20);
	assert_true(m1.mem_available_bytes ==
		    s1.mem_limit - (s1.mem_usage - ALBM_MIN(s1.mem_reclaimable, s1.mem_usage)));
	assert_true(albm_mem_available_pct(&m0) > 20.0);
	assert_true(albm_mem_available_pct(&m1) < 10.0);
}

/* A v1 cgroup without a limit is measured against the host. */
static void test_cg_v1_unlimited(void **state)
{
	struct albm_cg cg;
	struct albm_cg_sample s;
	struct albm_metrics m;
	char err[512];
	(void)state;

	resolve_fixture("cgroup-v1", "albm/s2", &cg);
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), 0);
	assert_true(s.has_mem && !s.has_cpu);
	assert_true(s.mem_limit == 0);
	m = cg_metrics(&s);
	assert_true(m.mem_total_bytes == 24ull << 30 && m.mem_available_bytes == 20ull << 30);
}

/* v2 files in the kernel documentation's format. */
static void test_cg_v2(void **state)
{
	struct albm_cg cg0, cg1;
	struct albm_cg_sample s0, s1;
	struct albm_metrics m;
	char err[512];
	(void)state;

	resolve_fixture("cgroup-v1", "albm/s1", &cg0); /* v1 wins for the same name... */
	assert_int_equal(cg0.version, ALBM_CG_V1);
	{
		struct albm_cg_mounts mnt;
		char path[PATH_MAX + 16];

		fixture_mounts(&mnt, "cgroup-v1");
		snprintf(path, sizeof(path), "%s/albm/s1", mnt.unified); /* ...a path picks v2 */
		assert_int_equal(albm_cg_resolve(&mnt, path, &cg0, err, sizeof(err)), 0);
		assert_non_null(realpath(FIX "/cgroup-v2-t1/albm/s1", path));
		assert_int_equal(albm_cg_resolve(&mnt, path, &cg1, err, sizeof(err)), -EINVAL);
		cg1 = cg0; /* same cgroup, read 1 s later */
		memcpy(cg1.acct_dir, path, sizeof(cg1.acct_dir));
	}
	assert_int_equal(albm_cg_read(&cg0, &fb, &s0, err, sizeof(err)), 0);
	assert_int_equal(albm_cg_read(&cg1, &fb, &s1, err, sizeof(err)), 0);
	assert_true(s0.mem_usage == fixture_u64("cgroup-v2/albm/s1/memory.current"));
	assert_true(s0.mem_limit == fixture_u64("cgroup-v2/albm/s1/memory.max"));
	assert_true(s0.mem_reclaimable ==
		    fixture_field("cgroup-v2/albm/s1/memory.stat", "inactive_file "));
	assert_near(s0.cpu_quota, 1.5, 1e-12);
	assert_true(s0.cpu_usage_ns == fixture_field("cgroup-v2/albm/s1/cpu.stat", "usage_usec ") *
					       1000);
	/* 1.2 s of CPU in 1 s against 1.5 CPUs */
	assert_near(albm_cg_cpu_util(&s0, &s1, 1000000000ull, 2), 0.8, 1e-9);
	m = cg_metrics(&s0);
	assert_true(m.mem_total_bytes == s0.mem_limit);
	assert_true(m.mem_available_bytes == s0.mem_limit - (s0.mem_usage - s0.mem_reclaimable));
}

static void test_cg_v2_unlimited(void **state)
{
	struct albm_cg cg;
	struct albm_cg_sample s0, s1;
	struct albm_metrics m;
	char err[512];
	(void)state;

	{ /* albm/s2 exists in v1 too: take the v2 one by its path */
		struct albm_cg_mounts mnt;
		char path[PATH_MAX + 16];

		fixture_mounts(&mnt, "cgroup-v1");
		snprintf(path, sizeof(path), "%s/albm/s2", mnt.unified);
		assert_int_equal(albm_cg_resolve(&mnt, path, &cg, err, sizeof(err)), 0);
	}
	assert_int_equal(albm_cg_read(&cg, &fb, &s0, err, sizeof(err)), 0);
	assert_true(s0.mem_limit == 0);          /* memory.max "max" */
	assert_near(s0.cpu_quota, 0, 0); /* cpu.max "max 100000" */
	m = cg_metrics(&s0);
	assert_true(m.mem_total_bytes == 24ull << 30);
	/* without a quota, utilisation is relative to the CPUs: 1 s of 2 CPUs for 1 s */
	s1 = s0;
	s1.cpu_usage_ns += 1000000000ull;
	assert_near(albm_cg_cpu_util(&s0, &s1, 1000000000ull, 2), 0.5, 1e-12);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Unparsable cgroup files: an error naming the file, never a crash. */
static void test_cg_bad_files(void **state)
{
	char dir[] = "/tmp/albm-test-cg-XXXXXX", err[512] = "";
	struct albm_cg cg = { .version = ALBM_CG_V2 };
	struct albm_cg_sample s;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(cg.mem_dir, sizeof(cg.mem_dir), "%s", dir);
	snprintf(cg.cpu_dir, sizeof(cg.cpu_dir), "%s", dir);
	snprintf(cg.acct_dir, sizeof(cg.acct_dir), "%s", dir);
	put(dir, "memory.current", "12abc\n");
	put(dir, "memory.max", "max\n");
	put(dir, "memory.stat", "anon 1\ninactive_file 2\n");
	put(dir, "cpu.stat", "usage_usec 10\n");
	put(dir, "cpu.max", "max\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "memory.current: expected a number, found '12abc'"));
	put(dir, "memory.current", "100\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpu.max"));
	put(dir, "cpu.max", "50000 100000\n");
	put(dir, "memory.stat", "anon 1\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "memory.stat: no 'inactive_file' line"));
	put(dir, "memory.stat", "inactive_file 9x\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), -EINVAL);
	put(dir, "memory.stat", "inactive_file 2\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), 0);
	assert_near(s.cpu_quota, 0.5, 1e-12);
	assert_true(s.mem_usage == 100 && s.mem_limit == 0 && s.cpu_usage_ns == 10000);
	/* a v1 quota file with junk */
	cg.version = ALBM_CG_V1;
	cg.mem_dir[0] = cg.acct_dir[0] = '\0';
	put(dir, "cpu.cfs_quota_us", "-2\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpu.cfs_quota_us"));
	put(dir, "cpu.cfs_quota_us", "-1\n");
	assert_int_equal(albm_cg_read(&cg, &fb, &s, err, sizeof(err)), 0);
	assert_near(s.cpu_quota, 0, 0);
	for (const char *const *f = (const char *const[]){ "memory.current", "memory.max",
		"memory.stat", "cpu.stat", "cpu.max", "cpu.cfs_quota_us", NULL }; *f; f++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static int teardown(void **state)
{
	(void)state;
	albm_filebuf_free(&fb);
	return 0;
}

/* ---- stall signals: PSI, major faults, OOM kills ---- */

/* An independent reading of one PSI line's "total=" from a fixture. */
static uint64_t fixture_psi_total(const char *rel, const char *kind)
{
	const char *p = strstr(fixture(rel), kind);

	assert_non_null(p);
	p = strstr(p, "total=");
	assert_non_null(p);
	return strtoull(p + 6, NULL, 10);
}

static void test_psi_parse(void **state)
{
	struct albm_psi_raw p;
	char err[256];
	(void)state;

	assert_int_equal(albm_psi_parse("io", fixture("proc/pressure/io"), &p, err, sizeof(err)), 0);
	assert_true(p.some_total == fixture_psi_total("proc/pressure/io", "some"));
	assert_true(p.full_total == fixture_psi_total("proc/pressure/io", "full"));
	assert_int_equal(albm_psi_parse("x", "some avg10=12.50 avg60=3.00 avg300=0.10 total=42\n"
					"full avg10=1.25 avg60=0.00 avg300=0.00 total=7\n", &p, err,
					sizeof(err)), 0);
	assert_near(p.some_avg10, 12.5, 0);
	assert_near(p.full_avg10, 1.25, 0);
	assert_true(p.some_total == 42 && p.full_total == 7);
	/* the host cpu file before Linux 5.13 has no "full" line */
	assert_int_equal(albm_psi_parse("cpu", "some avg10=1.00 avg60=0.00 avg300=0.00 total=9\n",
					&p, err, sizeof(err)), 0);
	assert_true(p.full_total == 0 && p.full_avg10 == 0);
	{
		static const char *const bad[] = {
			"",
			"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
			"some avg10=101.00 avg60=0.00 avg300=0.00 total=0\n",
			"some avg10=0.00 avg60=0.00 avg300=0.00 total=x\n",
			"some avg10=0.00 avg60=0.00 avg300=0.00 total=1 more\n",
			"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nsome avg10=0 avg60=0 "
			"avg300=0 total=1\n",
			"some avg10=nan avg60=0.00 avg300=0.00 total=1\n",
		};
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			err[0] = '\0';
			if (albm_psi_parse("memory.pressure", bad[i], &p, err, sizeof(err)) != -EINVAL)
				fail_msg("accepted: '%s'", bad[i]);
			assert_non_null(strstr(err, "memory.pressure"));
		}
	}
}

/* Host-wide: /proc/pressure and /proc/vmstat, interval shares and rates over 1 s. */
static void test_sampler_stall_host(void **state)
{
	struct albm_sampler s;
	struct albm_metrics m = { 0 };
	char err[256];
	double want;
	(void)state;

	albm_sampler_init(&s, "s1", FIX "/proc", NULL);
	assert_int_equal(albm_sampler_take(&s, 1000000000ull, &m, err, sizeof(err)), 0);
	assert_int_equal(m.present, ALBM_MET_HOST_PSI(0) | ALBM_MET_HOST_PSI(1) |
					    ALBM_MET_HOST_PSI(2) | ALBM_MET_MAJFAULT |
					    ALBM_MET_OOM_KILLS);
	assert_near(m.host_psi[ALBM_PSI_CPU].some_pct, 0, 0); /* no interval yet */
	assert_near(m.majfault_rate, 0, 0);
	snprintf(s.proc_dir, sizeof(s.proc_dir), FIX "/proc-t1");
	assert_int_equal(albm_sampler_take(&s, 2000000000ull, &m, err, sizeof(err)), 0);
	want = (double)(fixture_psi_total("proc-t1/pressure/cpu", "some") -
			fixture_psi_total("proc/pressure/cpu", "some")) / 1e6 * 100;
	assert_near(m.host_psi[ALBM_PSI_CPU].some_pct, ALBM_MIN(want, 100.0), 1e-9);
	assert_true(m.host_psi[ALBM_PSI_CPU].some_avg10 ==
		    strtod(strstr(fixture("proc-t1/pressure/cpu"), "avg10=") + 6, NULL));
	want = (double)(fixture_psi_total("proc-t1/pressure/io", "full") -
			fixture_psi_total("proc/pressure/io", "full")) / 1e6 * 100;
	assert_near(m.host_psi[ALBM_PSI_IO].full_pct, want, 1e-9);
	assert_near(m.majfault_rate, (double)(fixture_field("proc-t1/vmstat", "pgmajfault ") -
					      fixture_field("proc/vmstat", "pgmajfault ")), 1e-9);
	assert_true(m.oom_kills == fixture_field("proc-t1/vmstat", "\noom_kill "));
	albm_sampler_free(&s);
}

/* Two stall samples of a cgroup, 1 s apart, into m. */
static void cg_stall(const char *v1, const char *v1_t1, const char *name, struct albm_metrics *m,
		     struct albm_cg *cg0)
{
	struct albm_cg cg1;
	struct albm_cg_sample c0, c1;
	struct albm_stall_sample s0, s1;
	char err[512];

	resolve_fixture(v1, name, cg0);
	resolve_fixture(v1_t1, name, &cg1);
	assert_int_equal(albm_cg_read(cg0, &fb, &c0, err, sizeof(err)), 0);
	assert_int_equal(albm_cg_read(&cg1, &fb, &c1, err, sizeof(err)), 0);
	assert_int_equal(albm_stall_read(FIX "/proc", cg0, &c0, &fb, &s0, err, sizeof(err)), 0);
	assert_int_equal(albm_stall_read(FIX "/proc-t1", &cg1, &c1, &fb, &s1, err, sizeof(err)), 0);
	memset(m, 0, sizeof(*m));
	albm_stall_fill(&s0, &s1, 1000000000ull, m);
}

/* A v1 cgroup on a hybrid system: major faults and OOM kills from its memory
 * controller, PSI from the cgroup2 group of the same name. */
static void test_stall_cgroup_v1(void **state)
{
	struct albm_metrics m;
	struct albm_cg cg;
	char want[PATH_MAX];
	(void)state;

	cg_stall("cgroup-v1", "cgroup-v1-t1", "albm/s1", &m, &cg);
	assert_non_null(realpath(FIX "/cgroup-v2/albm/s1", want));
	assert_string_equal(cg.psi_dir, want);
	assert_true(m.present & ALBM_MET_CG_PSI(ALBM_PSI_MEMORY));
	assert_true(m.present & ALBM_MET_MAJFAULT && m.present & ALBM_MET_OOM_KILLS);
	assert_near(m.majfault_rate, 0, 0);  /* total_pgmajfault 0 both times */
	assert_true(m.oom_kills == 1);       /* memory.oom_control oom_kill 0 -> 1 */
	/* a v1 cgroup without a cgroup2 twin has no cgroup PSI */
	resolve_fixture("cgroup-v1", "albm/s2", &cg);
	assert_string_equal(cg.psi_dir, ""); /* cgroup-v2/albm/s2 has no memory.pressure */
}

static void test_stall_cgroup_v2(void **state)
{
	struct albm_cg_mounts mnt;
	struct albm_cg cg0, cg1;
	struct albm_cg_sample c0, c1;
	struct albm_stall_sample s0, s1;
	struct albm_metrics m = { 0 };
	char path[PATH_MAX + 16], err[512];
	double want;
	(void)state;

	fixture_mounts(&mnt, "cgroup-v1");
	snprintf(path, sizeof(path), "%s/albm/s1", mnt.unified);
	assert_int_equal(albm_cg_resolve(&mnt, path, &cg0, err, sizeof(err)), 0);
	cg1 = cg0; /* the same group 1 s later */
	assert_non_null(realpath(FIX "/cgroup-v2-t1/albm/s1", path));
	memcpy(cg1.mem_dir, path, sizeof(cg1.mem_dir));
	memcpy(cg1.psi_dir, path, sizeof(cg1.psi_dir));
	assert_int_equal(albm_cg_read(&cg0, &fb, &c0, err, sizeof(err)), 0);
	assert_int_equal(albm_cg_read(&cg1, &fb, &c1, err, sizeof(err)), 0);
	assert_true(c0.has_majfault && c0.majfaults == 3 && c1.majfaults == 1203);
	assert_true(c0.has_oom && c0.oom_kills == 1 && c1.oom_kills == 2);
	assert_int_equal(albm_stall_read(FIX "/proc", &cg0, &c0, &fb, &s0, err, sizeof(err)), 0);
	assert_int_equal(albm_stall_read(FIX "/proc-t1", &cg1, &c1, &fb, &s1, err, sizeof(err)), 0);
	albm_stall_fill(&s0, &s1, 1000000000ull, &m);
	assert_near(m.majfault_rate, 1200, 1e-9);
	assert_true(m.oom_kills == 2);
	assert_int_equal(m.present & ALBM_MET_ALL, ALBM_MET_ALL); /* host and cgroup PSI too */
	want = (double)(fixture_psi_total("cgroup-v2-t1/albm/s1/cpu.pressure", "some") -
			fixture_psi_total("cgroup-v2/albm/s1/cpu.pressure", "some")) / 1e4;
	assert_near(m.cg_psi[ALBM_PSI_CPU].some_pct, ALBM_MIN(want, 100.0), 1e-9);
	/* the first sample has no interval: shares and rates 0, counts as they are */
	albm_stall_fill(NULL, &s0, 0, &m);
	assert_near(m.majfault_rate, 0, 0);
	assert_near(m.cg_psi[ALBM_PSI_CPU].some_pct, 0, 0);
	assert_true(m.oom_kills == 1);
	/* counters that went backwards (a recreated cgroup) give 0, not a huge rate */
	albm_stall_fill(&s1, &s0, 1000000000ull, &m);
	assert_near(m.majfault_rate, 0, 0);
}

/* Malformed PSI files are left out with a reason, not fatal. */
static void test_stall_bad_psi(void **state)
{
	char dir[] = "/tmp/albm-psi-XXXXXX", path[PATH_MAX], err[256] = "";
	struct albm_stall_sample s;
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pressure", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/pressure/memory", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("some avg10=zero\n", f);
	fclose(f);
	assert_int_equal(albm_stall_read(dir, NULL, NULL, &fb, &s, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "pressure/memory"));
	assert_int_equal(s.have, 0); /* cpu and io absent, no vmstat */
	unlink(path);
	snprintf(path, sizeof(path), "%s/pressure", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),       cmocka_unit_test(test_meminfo_bad),
		cmocka_unit_test(test_stat),          cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_loadavg),       cmocka_unit_test(test_net_tcp),
		cmocka_unit_test(test_tcp_netlink),   cmocka_unit_test(test_sampler_host),
		cmocka_unit_test(test_mountinfo),     cmocka_unit_test(test_cg_resolve),
		cmocka_unit_test(test_cg_v1),         cmocka_unit_test(test_cg_v1_unlimited),
		cmocka_unit_test(test_cg_v2),         cmocka_unit_test(test_cg_v2_unlimited),
		cmocka_unit_test(test_cg_bad_files),
		cmocka_unit_test(test_psi_parse),     cmocka_unit_test(test_sampler_stall_host),
		cmocka_unit_test(test_stall_cgroup_v1), cmocka_unit_test(test_stall_cgroup_v2),
		cmocka_unit_test(test_stall_bad_psi),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
