/* ALBM: albm-bench's request mix — "1:50,5M:40,15M:10" parsing and sampling */
#include "lab/bench/bench_mix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* Parse one "SIZE:WEIGHT" item (NUL-terminated copy) into e. */
static int mix_item(char *item, struct bench_mix_entry *e, char *err, size_t errlen)
{
	char *colon = strchr(item, ':');
	uint64_t w;
	int rc;

	if (!colon) {
		albm_seterr(err, errlen, "mix entry '%s': expected SIZE:WEIGHT", item);
		return -EINVAL;
	}
	*colon = '\0';
	rc = albm_parse_size(item, &e->size);
	if (rc || e->size > BENCH_SIZE_MAX) {
		albm_seterr(err, errlen,
			    "mix entry '%s:%s': bad size (e.g. 1, 512K, 5M; at most 64G)", item,
			    colon + 1);
		return rc ? rc : -ERANGE;
	}
	rc = albm_parse_u64(colon + 1, &w);
	if (rc || w == 0 || w > BENCH_MIX_WEIGHT_MAX) {
		albm_seterr(err, errlen, "mix entry '%s:%s': weight must be 1..%u", item, colon + 1,
			    BENCH_MIX_WEIGHT_MAX);
		return -EINVAL;
	}
	e->weight = (unsigned)w;
	return 0;
}

int bench_mix_parse(const char *text, struct bench_mix *mix, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *item;
	struct bench_mix m = { 0 };

	if (!text || !*text || strlen(text) >= sizeof(buf)) {
		albm_seterr(err, errlen, "mix '%s': empty or too long", text ? text : "");
		return -EINVAL;
	}
	strcpy(buf, text);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (m.n == BENCH_MIX_MAX) {
			albm_seterr(err, errlen, "mix '%s': more than %d entries", text,
				    BENCH_MIX_MAX);
			return -EINVAL;
		}
		int rc = mix_item(item, &m.e[m.n], err, errlen);
		if (rc)
			return rc;
		for (size_t i = 0; i < m.n; i++) {
			if (m.e[i].size == m.e[m.n].size) {
				albm_seterr(err, errlen, "mix '%s': size %llu listed twice", text,
					    (unsigned long long)m.e[i].size);
				return -EINVAL;
			}
		}
		m.total += m.e[m.n++].weight;
	}
	if (!m.n || text[strlen(text) - 1] == ',' || text[0] == ',' || strstr(text, ",,")) {
		albm_seterr(err, errlen, "mix '%s': empty entry", text);
		return -EINVAL;
	}
	*mix = m;
	return 0;
}

uint64_t bench_mix_pick(const struct bench_mix *mix, struct bench_rng *rng)
{
	uint64_t r = bench_rng_below(rng, mix->total);

	for (size_t i = 0; i < mix->n; i++) {
		if (r < mix->e[i].weight)
			return mix->e[i].size;
		r -= mix->e[i].weight;
	}
	return mix->e[mix->n - 1].size; /* unreachable: r < total */
}

char *bench_size_format(uint64_t size, char *buf, size_t len)
{
	static const char sfx[] = { 'G', 'M', 'K' };

	for (int i = 0; i < 3; i++) {
		uint64_t unit = 1ull << (10 * (3 - i));
		if (size && size % unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(size / unit), sfx[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)size);
	return buf;
}

char *bench_mix_format(const struct bench_mix *mix, char *buf, size_t len)
{
	size_t off = 0;
	char sz[32];

	buf[0] = '\0';
	for (size_t i = 0; i < mix->n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s:%u", i ? "," : "",
				 bench_size_format(mix->e[i].size, sz, sizeof(sz)),
				 mix->e[i].weight);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}
