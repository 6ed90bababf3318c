/* ALBM test helpers: the agent's metric parsers' tests — fixture copies of /proc and
 * of cgroup hierarchies under tests/fixtures/agent (include after <cmocka.h>) */
#ifndef ALBM_TESTS_AGENT_FIXTURE_H
#define ALBM_TESTS_AGENT_FIXTURE_H

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/metrics.h"
#include "common/util.h"

#define FIX "tests/fixtures/agent" /* tests run from the repository root */

/* cmocka 1.1 has no double comparison */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static struct albm_filebuf fb;

static inline const char *fixture(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), FIX "/%s", rel);
	assert_true(albm_file_read(path, &fb, NULL, 0) >= 0);
	return fb.p;
}

/* An independent reading of "Key: N" from a fixture, to compare the parser with. */
static inline uint64_t fixture_field(const char *rel, const char *key)
{
	const char *text = fixture(rel), *p = strstr(text, key);

	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 10);
}

/* Mount points of the fixture hierarchies, as absolute paths. */
static inline void fixture_mounts(struct albm_cg_mounts *mnt, const char *v1)
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

static inline void resolve_fixture(const char *v1, const char *name, struct albm_cg *cg)
{
	struct albm_cg_mounts mnt;
	char err[512];

	fixture_mounts(&mnt, v1);
	if (albm_cg_resolve(&mnt, name, cg, err, sizeof(err)))
		fail_msg("%s", err);
}

static inline int teardown(void **state)
{
	(void)state;
	albm_filebuf_free(&fb);
	return 0;
}

#endif
