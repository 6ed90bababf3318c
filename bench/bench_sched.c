/* ALBM: scheduler micro-benchmark — ns per pick for every registered scheduler
 *
 * For each scheduler and 4, 64 and 1024 servers, run a realistic loop: pick a
 * server for a new flow, open a connection on it, close the oldest open one so
 * that the number of open connections stays steady (4 per server), and, for albm,
 * feed one synthetic agent report every 256 picks (1024 agents reporting every
 * 200 ms send 5120 reports a second: one per 256 picks at 1.3 million picks a
 * second) and a tick every 65536 picks (every 100 ms at 650 000 picks a second).  The figure is the
 *loop's CPU time (this thread's, so that other processes on a shared machine do not count) per
 * pick, the median of several repetitions.
 *
 * `wlc-naive` is the reference: IPVS's wlc as a plain linear scan, implemented
 * here and measured in the same run, so the heap-based lc family can be judged
 * against it on the same machine at the same moment.
 *
 *	bench_sched [--quick] [--reps N] [--picks N] [--only NAME]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "sched/sched.h"

#define NSIZES 3
static const size_t sizes[NSIZES] = { 4, 64, 1024 };
#define NFLOWS        4096 /* distinct flows cycled through (sh/dh/lblc tables) */
#define CONNS_PER_SRV 4
#define REPORT_EVERY  256 /* 1024 agents every 200 ms at ~1.3M picks/s */
#define TICK_EVERY    65536
#define TARGET_NS     100.0
#define TARGET_RATIO  10.0

/* ---- the reference: IPVS wlc by linear scan ---- */

static struct albm_dest *naive_wlc_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct albm_dest *least = NULL;
	uint64_t loh = 0;

	(void)flow;
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		uint64_t doh;

		if (!albm_dest_usable(d))
			continue;
		doh = albm_dest_overhead(d);
		/* doh / d->weight < loh / least->weight, cross-multiplied */
		if (!least || doh * (uint64_t)least->weight < loh * (uint64_t)d->weight) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

static const struct albm_sched_ops naive_wlc_ops = {
	.name = "wlc-naive",
	.description = "reference: IPVS wlc as an O(n) linear scan",
	.schedule = naive_wlc_schedule,
};

/* ---- workload ---- */

struct bench_env {
	struct albm_flow flows[NFLOWS];
	struct albm_dest **ring; /* open connections, oldest first */
	size_t ring_cap;
};

static void bench_flows(struct bench_env *env)
{
	uint64_t x = 88172645463325252ull;

	for (size_t i = 0; i < NFLOWS; i++) {
		struct albm_flow *f = &env->flows[i];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memset(f, 0, sizeof(*f));
		f->family = 2; /* AF_INET */
		f->proto = 6;
		memcpy(f->saddr, &x, 4);
		/* 256 destination addresses, for the locality schedulers (lblc) */
		f->daddr[0] = 10, f->daddr[1] = 1, f->daddr[2] = 0,
		f->daddr[3] = (uint8_t)(x >> 40);
		f->sport = (uint16_t)(1024 + (x >> 48) % 60000);
		f->dport = 80;
	}
}

/* Memory between 45 % and 95 % free: above twice albm's default 20 % reserve, so
 * the loop measures the pick path of servers that take work (a server short of
 * memory gets a connection limit, and a bench of full servers would time nothing). */
static void bench_report(struct albm_service *svc, uint64_t k)
{
	/* the one copy of each server's report (the scheduler points at it, as it
	 * points at albmd's agent entry) */
	static struct albm_metrics reports[1024];
	struct albm_dest *d = svc->dests[(k / REPORT_EVERY) % svc->ndests];
	struct albm_metrics *m = &reports[d->idx % 1024];

	memset(m, 0, sizeof(*m));
	m->mem_total_bytes = 1ull << 30;
	m->mem_available_bytes =
		(uint64_t)((0.45 + 0.5 * (double)((k >> 5) % 7) / 6.0) * (double)(1ull << 30));
	m->cpu_util = 0.1 * (double)((k >> 7) % 5);
	m->state = ALBM_AGENT_OK;
	albm_svc_report(svc, d, m);
}

static void bench_setup(struct albm_service *svc, const struct albm_sched_ops *ops, size_t n)
{
	char name[32], err[128];

	albm_svc_init(svc, "bench");
	albm_svc_seed(svc, 42);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		if (!albm_svc_add_dest(svc, name, NULL, 10 * (1 + (int)(i % 4)), err, sizeof(err)))
			LOG_FATAL("bench: %s", err);
	}
	if (albm_svc_bind(svc, ops) < 0)
		LOG_FATAL("bench: cannot bind scheduler %s", ops->name);
}

/* The measured loop; returns the number of picks that found a server. */
static uint64_t bench_loop(struct albm_service *svc, struct bench_env *env, bool reports,
			   uint64_t start, uint64_t picks, size_t *head, size_t *nopen)
{
	uint64_t found = 0;

	for (uint64_t k = start; k < start + picks; k++) {
		struct albm_dest *d = albm_svc_schedule(svc, &env->flows[k % NFLOWS]);

		if (d) {
			found++;
			albm_svc_conn_open(svc, d, true);
			if (*nopen < env->ring_cap) {
				env->ring[(*head + (*nopen)++) % env->ring_cap] = d;
			} else { /* steady state: the oldest connection closes */
				albm_svc_conn_close(svc, env->ring[*head], true);
				env->ring[*head] = d;
				*head = (*head + 1) % env->ring_cap;
			}
		}
		if (reports && k % REPORT_EVERY == 0)
			bench_report(svc, k);
		if (k % TICK_EVERY == 0)
			albm_svc_tick(svc);
	}
	return found;
}

/* This thread's CPU time in ns.  On a shared machine wall time also counts the
 * time other processes held the CPU; CPU time counts only our own work. */
static uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One repetition: ns per pick after a warm-up that fills the connection ring. */
static double bench_once(const struct albm_sched_ops *ops, size_t n, uint64_t picks,
			 struct bench_env *env)
{
	struct albm_service svc;
	size_t head = 0, nopen = 0;
	bool reports = !strcmp(ops->name, "albm") || !strcmp(ops->name, "orca");
	uint64_t t0, t1, warm = env->ring_cap * 2, found;

	bench_setup(&svc, ops, n);
	bench_loop(&svc, env, reports, 0, warm, &head, &nopen);
	t0 = bench_cpu_ns();
	found = bench_loop(&svc, env, reports, warm, picks, &head, &nopen);
	t1 = bench_cpu_ns();
	albm_svc_destroy(&svc);
	if (found < picks / 2)
		fprintf(stderr,
			"bench: %s at %zu servers found a server for only %llu of "
			"%llu picks\n",
			ops->name, n, (unsigned long long)found, (unsigned long long)picks);
	return (double)(t1 - t0) / (double)picks;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double bench_median(const struct albm_sched_ops *ops, size_t n, uint64_t picks, int reps,
			   struct bench_env *env)
{
	double v[64];

	for (int r = 0; r < reps; r++)
		v[r] = bench_once(ops, n, picks, env);
	qsort(v, (size_t)reps, sizeof(v[0]), cmp_double);
	return reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
}

/* ---- main ---- */

static bool lc_family(const char *name)
{
	return !strcmp(name, "lc") || !strcmp(name, "wlc") || !strcmp(name, "sed") ||
	       !strcmp(name, "nq");
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_sched [--quick] [--reps N] [--picks N] [--only NAME]\n"
			"  ns per pick for every registered scheduler at 4, 64 and 1024 "
			"servers\n");
}

static const char *only; /* --only NAME: that scheduler (and the reference) alone */

static int parse_args(int argc, char **argv, int *reps, uint64_t *picks)
{
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		if (!strcmp(argv[i], "--quick")) {
			*reps = 3;
			*picks = 20000;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc &&
			   !albm_parse_u64(argv[i + 1], &v) && v >= 1 && v <= 63) {
			*reps = (int)v;
			i++;
		} else if (!strcmp(argv[i], "--picks") && i + 1 < argc &&
			   !albm_parse_u64(argv[i + 1], &v) && v >= 1000) {
			*picks = v;
			i++;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else {
			usage();
			return -EINVAL;
		}
	}
	return 0;
}

static void print_verdicts(const struct albm_sched_ops **ops, size_t nops, double res[][NSIZES])
{
	double naive = res[nops - 1][NSIZES - 1];
	bool any = false;

	printf("\nlc family at %zu servers (wlc-naive %.1f ns/pick):\n", sizes[NSIZES - 1], naive);
	for (size_t i = 0; i + 1 < nops; i++) {
		double ratio = naive / res[i][NSIZES - 1];
		if (!lc_family(ops[i]->name) && strcmp(ops[i]->name, "albm"))
			continue;
		any = true;
		printf("  naive/%-5s = %6.1fx   %s\n", ops[i]->name, ratio,
		       !lc_family(ops[i]->name) ? "(not lc family; for reference)"
		       : ratio >= TARGET_RATIO  ? "target >= 10x: met"
						: "target >= 10x: MISSED");
	}
	if (!any)
		printf("  (no lc-family scheduler registered)\n");
	printf("\ntarget <= %.0f ns/pick at %zu servers:\n", TARGET_NS, sizes[NSIZES - 1]);
	for (size_t i = 0; i + 1 < nops; i++)
		printf("  %-6s %7.1f ns  %s\n", ops[i]->name, res[i][NSIZES - 1],
		       res[i][NSIZES - 1] <= TARGET_NS ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	int reps = 5;
	uint64_t picks = 200000;
	size_t nops = albm_sched_count() + 1;
	const struct albm_sched_ops **ops = xcalloc(nops, sizeof(*ops));
	double(*res)[NSIZES] = xcalloc(nops, sizeof(*res));
	struct bench_env *env = xcalloc(1, sizeof(*env));

	albm_log_init("bench_sched", ALBM_LOG_ERR);
	if (parse_args(argc, argv, &reps, &picks) < 0)
		return 2;
	if (only) {
		if (!(ops[0] = albm_sched_find(only))) {
			fprintf(stderr, "bench_sched: no scheduler named '%s'\n", only);
			return 2;
		}
		nops = 2;
	} else {
		for (size_t i = 0; i + 1 < nops; i++)
			ops[i] = albm_sched_at(i);
	}
	ops[nops - 1] = &naive_wlc_ops;
	bench_flows(env);

	printf("CPU ns per pick (median of %d runs of %llu picks; each pick also opens one "
	       "connection and closes one;\nalbm also gets one agent report per %d picks)\n%-10s",
	       reps, (unsigned long long)picks, REPORT_EVERY, "scheduler");
	for (size_t s = 0; s < NSIZES; s++)
		printf(" %9zu", sizes[s]);
	printf("\n");
	for (size_t i = 0; i < nops; i++) {
		printf("%-10s", ops[i]->name);
		for (size_t s = 0; s < NSIZES; s++) {
			env->ring_cap = sizes[s] * CONNS_PER_SRV;
			env->ring = xrealloc(env->ring, env->ring_cap * sizeof(*env->ring));
			res[i][s] = bench_median(ops[i], sizes[s], picks, reps, env);
			printf(" %9.1f", res[i][s]);
			fflush(stdout);
		}
		printf("\n");
	}
	print_verdicts(ops, nops, res);
	free(env->ring);
	free(env);
	free(res);
	free(ops);
	return 0;
}
