/* ALBM: albm-httpd's cost model — memory per in-flight request, CPU per MiB,
 * the hard in-flight limit and the paging model */
#include "lab/httpd/httpd_cost.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void httpd_cost_init(struct httpd_cost *c, const struct httpd_cost_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
}

const char *httpd_cost_mode(const struct httpd_cost_cfg *cfg)
{
	return cfg->paging_limit ? "paging-model" : "physical";
}

uint64_t httpd_cost_mem(const struct httpd_cost_cfg *cfg, uint64_t size)
{
	long double m = (long double)size * (long double)cfg->mem_factor;

	if (m <= 0)
		return 0;
	if (m >= (long double)UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)ceill(m);
}

bool httpd_cost_fits(const struct httpd_cost *c, uint64_t mem)
{
	return mem <= c->cfg.max_inflight_bytes &&
	       c->inflight_bytes <= c->cfg.max_inflight_bytes - mem;
}

enum httpd_admit httpd_cost_decide(const struct httpd_cost *c, uint64_t mem)
{
	if (mem > c->cfg.max_inflight_bytes)
		return HTTPD_TOO_BIG;
	if (!c->queued && httpd_cost_fits(c, mem))
		return HTTPD_ADMIT;
	if (c->cfg.overflow == HTTPD_OVERFLOW_503 || c->queued >= c->cfg.max_queue)
		return HTTPD_REJECT;
	return HTTPD_QUEUE;
}

void httpd_cost_acquire(struct httpd_cost *c, uint64_t mem)
{
	c->inflight_bytes += mem;
	c->inflight_reqs++;
	if (c->inflight_bytes > c->peak_inflight_bytes)
		c->peak_inflight_bytes = c->inflight_bytes;
}

void httpd_cost_release(struct httpd_cost *c, uint64_t mem)
{
	c->inflight_bytes -= mem < c->inflight_bytes ? mem : c->inflight_bytes;
	if (c->inflight_reqs)
		c->inflight_reqs--;
}

void httpd_cost_enqueue(struct httpd_cost *c)
{
	c->queued++;
}

void httpd_cost_dequeue(struct httpd_cost *c)
{
	if (c->queued)
		c->queued--;
}

uint64_t httpd_cost_cpu_ns(const struct httpd_cost_cfg *cfg, uint64_t bytes)
{
	unsigned __int128 ns = (unsigned __int128)cfg->cpu_ns_per_mib * bytes / HTTPD_MIB;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

uint64_t httpd_cost_page_delay_ns(const struct httpd_cost_cfg *cfg, uint64_t inflight,
				  uint64_t touched)
{
	unsigned __int128 d;

	if (!cfg->paging_limit || inflight <= cfg->paging_limit)
		return 0;
	/* penalty * touched/MiB * (inflight - limit)/inflight, in 128 bits: no overflow. */
	d = (unsigned __int128)cfg->page_penalty_ns * touched * (inflight - cfg->paging_limit);
	d /= (unsigned __int128)HTTPD_MIB * inflight;
	return d > UINT64_MAX ? UINT64_MAX : (uint64_t)d;
}

uint64_t httpd_cost_swap_book(struct httpd_cost *c, uint64_t now_ns, uint64_t delay_ns)
{
	uint64_t start = c->swap_free_ns > now_ns ? c->swap_free_ns : now_ns;

	if (!delay_ns)
		return now_ns;
	c->swap_free_ns = start + delay_ns;
	c->paging_delay_ns += delay_ns;
	return c->swap_free_ns;
}

int httpd_parse_ns(const char *text, uint64_t *ns, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	char *end;
	double v;

	if (!text || !isdigit((unsigned char)*text))
		goto bad;
	errno = 0;
	v = strtod(text, &end);
	if (errno || !isfinite(v))
		goto bad;
	if (!*end && v == 0) {
		*ns = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v * units[i].ns > 1e18) {
			albm_seterr(err, errlen, "duration '%s' is too long", text);
			return -ERANGE;
		}
		*ns = (uint64_t)llround(v * units[i].ns);
		return 0;
	}
bad:
	albm_seterr(err, errlen, "bad duration '%s' (e.g. 2ms, 500us, 0.5ms, 1s)",
		    text ? text : "");
	return -EINVAL;
}
