/* ALBM: albm-httpd's cost model — memory per in-flight request, CPU per MiB,
 * the hard in-flight limit and the paging model */
#ifndef ALBM_LAB_HTTPD_COST_H
#define ALBM_LAB_HTTPD_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPD_MIB (1ull << 20)

/*
 * The model (docs/lab.md has the full text):
 *  - memory: a request for N body bytes holds a buffer of ceil(N * mem_factor)
 *    bytes from admission until its last byte is sent.  The buffer is really
 *    allocated, written page by page, and the response is sent from it, so its
 *    pages are touched twice.  "In-flight bytes" is the sum of these buffers.
 *  - CPU: cpu_ns_per_mib of real computation per MiB of body.
 *  - hard limit: a request whose buffer would take the in-flight bytes past
 *    max_inflight_bytes waits in a FIFO queue (overflow queue, at most max_queue
 *    waiting) or is answered 503 (overflow 503).  A single request larger than
 *    the limit is always answered 503: it could never be admitted.
 *  - paging model (paging_limit > 0; "physical" mode otherwise): with B bytes in
 *    flight over a limit L, the fraction (B - L) / B of memory counts as swapped
 *    out, so touching T bytes costs T/MiB * page_penalty * (B - L) / B of delay.
 *    One sweep over all in-flight memory thus costs page_penalty per MiB over the
 *    limit.  Delays go through one serialised "swap device", as page-ins of a real
 *    disk do, so they add up under contention instead of overlapping.
 */
enum httpd_overflow {
	HTTPD_OVERFLOW_QUEUE,
	HTTPD_OVERFLOW_503
};

struct httpd_cost_cfg {
	double mem_factor;           /* buffer bytes per body byte, 0..64 */
	uint64_t cpu_ns_per_mib;     /* real computation per MiB of body */
	uint64_t paging_limit;       /* bytes; 0 = physical mode (no model) */
	uint64_t page_penalty_ns;    /* per MiB over paging_limit, per sweep */
	uint64_t max_inflight_bytes; /* hard limit on the sum of buffers */
	enum httpd_overflow overflow;
	unsigned max_queue; /* requests waiting for admission */
};

#define HTTPD_COST_DEFAULTS                                                      \
	{                                                                        \
		.mem_factor = 1.0, .cpu_ns_per_mib = 2000000, .paging_limit = 0, \
		.page_penalty_ns = 20000000, .max_inflight_bytes = 1ull << 30,   \
		.overflow = HTTPD_OVERFLOW_QUEUE, .max_queue = 1024              \
	}

/* The live accounting. */
struct httpd_cost {
	struct httpd_cost_cfg cfg;
	uint64_t inflight_bytes, inflight_reqs, peak_inflight_bytes;
	unsigned queued;
	uint64_t swap_free_ns;    /* the modelled swap device is busy until then */
	uint64_t paging_delay_ns; /* total modelled delay handed out */
};

enum httpd_admit {
	HTTPD_ADMIT,   /* serve now: call httpd_cost_acquire() */
	HTTPD_QUEUE,   /* wait in the FIFO: call httpd_cost_enqueue() */
	HTTPD_REJECT,  /* answer 503: over the limit (overflow 503) or queue full */
	HTTPD_TOO_BIG, /* answer 503: larger than max_inflight_bytes on its own */
};

void httpd_cost_init(struct httpd_cost *c, const struct httpd_cost_cfg *cfg);
/* "physical" or "paging-model". */
const char *httpd_cost_mode(const struct httpd_cost_cfg *cfg);

/* Buffer bytes a request of `size` body bytes holds: ceil(size * mem_factor). */
uint64_t httpd_cost_mem(const struct httpd_cost_cfg *cfg, uint64_t size);
/*
 * Decide for a new request holding `mem` bytes.  FIFO: while anyone waits, a new
 * request queues behind it even if it would fit (no overtaking, so large
 * requests are not starved by small ones).
 */
enum httpd_admit httpd_cost_decide(const struct httpd_cost *c, uint64_t mem);
/* The head of the queue needing `mem` bytes may start now. */
bool httpd_cost_fits(const struct httpd_cost *c, uint64_t mem);
void httpd_cost_acquire(struct httpd_cost *c, uint64_t mem);
void httpd_cost_release(struct httpd_cost *c, uint64_t mem);
void httpd_cost_enqueue(struct httpd_cost *c);
void httpd_cost_dequeue(struct httpd_cost *c);

/* CPU time owed for `bytes` of body. */
uint64_t httpd_cost_cpu_ns(const struct httpd_cost_cfg *cfg, uint64_t bytes);
/* Modelled paging delay for touching `touched` bytes with `inflight` bytes held. */
uint64_t httpd_cost_page_delay_ns(const struct httpd_cost_cfg *cfg, uint64_t inflight,
				  uint64_t touched);
/*
 * Book `delay_ns` on the swap device at `now_ns`; returns when the caller's
 * page-in completes (now_ns when delay_ns is 0).
 */
uint64_t httpd_cost_swap_book(struct httpd_cost *c, uint64_t now_ns, uint64_t delay_ns);

/*
 * Parse a duration with sub-millisecond resolution into ns: "2ms", "500us",
 * "0.5ms", "1s", "750ns"; "0" needs no unit.  Returns 0 or -EINVAL/-ERANGE with a
 * message.  (albm_duration_parse_ms rounds to whole ms, too coarse for CPU costs.)
 */
int httpd_parse_ns(const char *text, uint64_t *ns, char *err, size_t errlen);

#endif
