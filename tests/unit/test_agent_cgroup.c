/* ALBM: unit tests for the agent's cgroup parsers (v1, v2, mountinfo, resolving a
 * group), on real fixture copies */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/agent_fixture.h"
#include "agent/overload.h"

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
				 &mnt, err, sizeof(err)),
			 0);
	assert_string_equal(mnt.cpu, "/cg/cpu,cpuacct");
	assert_string_equal(mnt.cpuacct, "/cg/cpu,cpuacct");
	assert_string_equal(mnt.memory, "/cg/my mem");
	assert_string_equal(mnt.unified, "/cg2");
	assert_int_equal(albm_cg_parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/vda rw\n", &mnt, err,
						 sizeof(err)),
			 -ENOENT);
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
	assert_true(s1.mem_reclaimable == fixture_field("cgroup-v1-t1/memory/albm/s1/memory.stat",
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
	assert_true(s0.cpu_usage_ns ==
		    fixture_field("cgroup-v2/albm/s1/cpu.stat", "usage_usec ") * 1000);
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
	assert_true(s0.mem_limit == 0);  /* memory.max "max" */
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
	for (const char *const *f =
		     (const char *const[]){ "memory.current", "memory.max", "memory.stat",
					    "cpu.stat", "cpu.max", "cpu.cfs_quota_us", NULL };
	     *f; f++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo),    cmocka_unit_test(test_cg_resolve),
		cmocka_unit_test(test_cg_v1),        cmocka_unit_test(test_cg_v1_unlimited),
		cmocka_unit_test(test_cg_v2),        cmocka_unit_test(test_cg_v2_unlimited),
		cmocka_unit_test(test_cg_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
