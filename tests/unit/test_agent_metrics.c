/* ALBM: unit tests for the agent's procfs parsers and the host sampler, on real fixture
 * copies (cgroups: test_agent_cgroup.c; stall signals: test_agent_stall.c) */
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

#include "../lib/agent_fixture.h"

static void test_meminfo(void **state)
{
	uint64_t total, avail;
	char err[256];
	(void)state;

	uint64_t want_total = fixture_field("proc/meminfo", "MemTotal:") * 1024;
	uint64_t want_avail = fixture_field("proc/meminfo", "MemAvailable:") * 1024;

	assert_int_equal(albm_proc_parse_meminfo("meminfo", fixture("proc/meminfo"), &total, &avail,
						 err, sizeof(err)),
			 0);
	assert_true(total == want_total);
	assert_true(avail == want_avail);
	assert_true(avail < total);
}

static void test_meminfo_bad(void **state)
{
	uint64_t total, avail;
	char err[256] = "";
	(void)state;

	assert_int_equal(albm_proc_parse_meminfo("/proc/meminfo",
						 "MemTotal: 100 kB\n"
						 "MemAvailable:   12x kB\n",
						 &total, &avail, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/proc/meminfo"));
	assert_non_null(strstr(err, "MemAvailable:   12x kB"));
	assert_int_equal(albm_proc_parse_meminfo("/proc/meminfo", "MemFree: 1 kB\n", &total, &avail,
						 err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "MemTotal"));
	assert_int_equal(albm_proc_parse_meminfo("m", "", &total, &avail, err, sizeof(err)),
			 -ENOENT);
	/* a kernel before MemAvailable: free + buffers + cached */
	assert_int_equal(albm_proc_parse_meminfo("m",
						 "MemTotal: 1000 kB\nMemFree: 100 kB\n"
						 "Buffers: 20 kB\nCached: 300 kB\n",
						 &total, &avail, err, sizeof(err)),
			 0);
	assert_true(avail == 420 * 1024);
}

/* Sum of the busy fields of the "cpu " line, read independently. */
static void fixture_cpu(const char *rel, uint64_t *busy, uint64_t *total)
{
	unsigned long long f[8];

	assert_int_equal(sscanf(fixture(rel), "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
				&f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]),
			 8);
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
	assert_int_equal(
		albm_proc_parse_stat("stat", fixture("proc-t1/stat"), &c1, err, sizeof(err)), 0);
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

	assert_int_equal(
		albm_proc_parse_stat("/proc/stat", "cpu  1 2 x 4\nintr 1\n", &c, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "/proc/stat: cannot parse line 'cpu  1 2 x 4'"));
	assert_int_equal(albm_proc_parse_stat("/proc/stat", "cpu  1 2\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		albm_proc_parse_stat("/proc/stat", "cpu  1 2 3 -4\n", &c, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		albm_proc_parse_stat("/proc/stat", "cpu0 1 2 3 4\nintr 1\n", &c, err, sizeof(err)),
		-ENOENT);
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
						 err, sizeof(err)),
			 0);
	assert_near(load, strtod(fixture("proc/loadavg"), NULL), 0);
	assert_int_equal(run, want_run);
	assert_true(run >= 1); /* the reading process itself was running */
	assert_int_equal(albm_proc_parse_loadavg("/proc/loadavg", "nan 1 2 1/2 3\n", &load, &run,
						 err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(albm_proc_parse_loadavg("/proc/loadavg", "0.1 0.2 0.3 1 5\n", &load, &run,
						 err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		albm_proc_parse_loadavg("/proc/loadavg", "", &load, &run, err, sizeof(err)),
		-EINVAL);
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
	assert_int_equal(albm_proc_count_tcp("tcp", fixture("proc/net/tcp"), &n4, err, sizeof(err)),
			 0);
	assert_int_equal(
		albm_proc_count_tcp("tcp6", fixture("proc/net/tcp6"), &n6, err, sizeof(err)), 0);
	assert_int_equal(n4, want4);
	assert_int_equal(n6, want6);
	assert_int_equal(albm_proc_count_tcp("/proc/net/tcp", "garbage\n", &n4, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "header"));
	assert_int_equal(albm_proc_count_tcp("/proc/net/tcp",
					     "  sl  local_address\n   0: 0100007F:1F90 zz 01 0\n",
					     &n4, err, sizeof(err)),
			 -EINVAL);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),     cmocka_unit_test(test_meminfo_bad),
		cmocka_unit_test(test_stat),        cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_loadavg),     cmocka_unit_test(test_net_tcp),
		cmocka_unit_test(test_tcp_netlink), cmocka_unit_test(test_sampler_host),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
