/* ALBM: albm-httpd's CPU burner — real computation for a given CPU time */
#include "lab/httpd/httpd_cpu.h"

#include <time.h>

/* The result goes here so the compiler cannot drop the computation. */
volatile uint64_t httpd_cpu_sink;

uint64_t httpd_cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t httpd_cpu_burn(uint64_t ns)
{
	uint64_t start, now, x = httpd_cpu_sink | 1;

	if (!ns)
		return 0;
	start = now = httpd_cpu_now_ns();
	while (now - start < ns) {
		/* ~20 us of xorshift-multiply between clock reads. */
		for (int i = 0; i < 4096; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			x *= 0x2545f4914f6cdd1dull;
		}
		now = httpd_cpu_now_ns();
	}
	httpd_cpu_sink = x;
	return now - start;
}
