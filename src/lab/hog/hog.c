/* ALBM: albm-hog's load — memory held and touched, CPU demand — inside a server's cgroups */
#include "lab/hog/hog.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

int hog_mem_take(struct hog_mem *m, size_t bytes, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (!bytes)
		return 0;
	m->buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->buf == MAP_FAILED) {
		m->buf = NULL;
		albm_seterr(err, errlen, "mmap(%zu bytes): %s", bytes, strerror(errno));
		return -ENOMEM;
	}
	m->bytes = bytes;
	hog_mem_touch(m);
	return 0;
}

void hog_mem_touch(struct hog_mem *m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	/* A changing value: every pass dirties every page again. */
	for (size_t off = 0; off < m->bytes; off += page)
		m->buf[off] = (char)(m->sweeps + off / page);
	m->sweeps++;
}

void hog_mem_free(struct hog_mem *m)
{
	if (m->buf)
		munmap(m->buf, m->bytes);
	m->buf = NULL;
	m->bytes = 0;
}

static uint64_t hog_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spin pct_each percent of every period, sleep the rest, until *stop. */
static void *hog_cpu_thread(void *arg)
{
	struct hog_cpu *c = arg;
	uint64_t busy = HOG_CPU_PERIOD_NS * c->pct_each / 100;
	volatile uint64_t x = 1;

	while (!*c->stop) {
		uint64_t start = hog_now_ns(), now = start;

		while (now - start < busy) {
			for (int i = 0; i < 1024; i++)
				x = x * 6364136223846793005ull + 1442695040888963407ull;
			now = hog_now_ns();
		}
		if (busy < HOG_CPU_PERIOD_NS) {
			uint64_t rest = HOG_CPU_PERIOD_NS - (now - start);
			struct timespec ts = { .tv_nsec = (long)ALBM_MIN(rest, HOG_CPU_PERIOD_NS) };

			if (now - start < HOG_CPU_PERIOD_NS)
				nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int hog_cpu_start(struct hog_cpu *c, unsigned pct, volatile sig_atomic_t *stop, char *err,
		  size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (!pct)
		return 0;
	c->threads = (pct + 99) / 100;
	c->pct_each = pct / c->threads;
	c->stop = stop;
	for (; c->started < c->threads; c->started++) {
		int rc = pthread_create(&c->tid[c->started], NULL, hog_cpu_thread, c);

		if (rc) {
			albm_seterr(err, errlen, "pthread_create: %s", strerror(rc));
			return -rc;
		}
	}
	return 0;
}

void hog_cpu_join(struct hog_cpu *c)
{
	for (unsigned i = 0; i < c->started; i++)
		pthread_join(c->tid[i], NULL);
	c->started = 0;
}
