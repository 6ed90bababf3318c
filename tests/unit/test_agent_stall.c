/* ALBM: unit tests for the agent's stall signals — PSI, major faults, OOM kills (host
 * and cgroup), on real fixture copies */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/agent_fixture.h"

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

	assert_int_equal(albm_psi_parse("io", fixture("proc/pressure/io"), &p, err, sizeof(err)),
			 0);
	assert_true(p.some_total == fixture_psi_total("proc/pressure/io", "some"));
	assert_true(p.full_total == fixture_psi_total("proc/pressure/io", "full"));
	assert_int_equal(albm_psi_parse("x",
					"some avg10=12.50 avg60=3.00 avg300=0.10 total=42\n"
					"full avg10=1.25 avg60=0.00 avg300=0.00 total=7\n",
					&p, err, sizeof(err)),
			 0);
	assert_near(p.some_avg10, 12.5, 0);
	assert_near(p.full_avg10, 1.25, 0);
	assert_true(p.some_total == 42 && p.full_total == 7);
	/* the host cpu file before Linux 5.13 has no "full" line */
	assert_int_equal(albm_psi_parse("cpu", "some avg10=1.00 avg60=0.00 avg300=0.00 total=9\n",
					&p, err, sizeof(err)),
			 0);
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
			if (albm_psi_parse("memory.pressure", bad[i], &p, err, sizeof(err)) !=
			    -EINVAL)
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
			fixture_psi_total("proc/pressure/cpu", "some")) /
	       1e6 * 100;
	assert_near(m.host_psi[ALBM_PSI_CPU].some_pct, ALBM_MIN(want, 100.0), 1e-9);
	assert_true(m.host_psi[ALBM_PSI_CPU].some_avg10 ==
		    strtod(strstr(fixture("proc-t1/pressure/cpu"), "avg10=") + 6, NULL));
	want = (double)(fixture_psi_total("proc-t1/pressure/io", "full") -
			fixture_psi_total("proc/pressure/io", "full")) /
	       1e6 * 100;
	assert_near(m.host_psi[ALBM_PSI_IO].full_pct, want, 1e-9);
	assert_near(m.majfault_rate,
		    (double)(fixture_field("proc-t1/vmstat", "pgmajfault ") -
			     fixture_field("proc/vmstat", "pgmajfault ")),
		    1e-9);
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
	assert_near(m.majfault_rate, 0, 0); /* total_pgmajfault 0 both times */
	assert_true(m.oom_kills == 1);      /* memory.oom_control oom_kill 0 -> 1 */
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
			fixture_psi_total("cgroup-v2/albm/s1/cpu.pressure", "some")) /
	       1e4;
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
		cmocka_unit_test(test_psi_parse),       cmocka_unit_test(test_sampler_stall_host),
		cmocka_unit_test(test_stall_cgroup_v1), cmocka_unit_test(test_stall_cgroup_v2),
		cmocka_unit_test(test_stall_bad_psi),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
