/* ALBM: Direct Routing counters — per-CPU maps summed for user space */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/util.h"
#include "dr/dr.h"
#include "dr/dr_priv.h"

int dr_read_stats(struct albm_dr *dr, uint64_t *vals, size_t n)
{
	int fd = bpf_map__fd(dr->skel->maps.albm_stats);
	uint64_t *percpu = xcalloc(dr->ncpus, sizeof(*percpu));
	int rc = 0;

	if (n > ALBM_STAT__COUNT)
		n = ALBM_STAT__COUNT;
	for (uint32_t i = 0; i < n && !rc; i++) {
		rc = bpf_map_lookup_elem(fd, &i, percpu);
		vals[i] = 0;
		for (int c = 0; c < dr->ncpus && !rc; c++)
			vals[i] += percpu[c];
	}
	free(percpu);
	return rc;
}

int dr_read_stat(struct albm_dr *dr, const char *name, uint64_t *val)
{
	uint64_t vals[ALBM_STAT__COUNT];
	int id = dr_stat_id(name), rc;

	if (id < 0)
		return id;
	rc = dr_read_stats(dr, vals, ALBM_STAT__COUNT);
	if (!rc)
		*val = vals[id];
	return rc;
}

int dr_read_real_stats(struct albm_dr *dr, const struct albm_addr *vip,
		       const struct albm_addr *real, struct dr_real_stats *out)
{
	uint32_t idx = dr_vip_real_index(dr, vip, real);
	struct albm_real_stats *percpu;
	int rc;

	if (!idx)
		return -ENOENT;
	percpu = xcalloc(dr->ncpus, sizeof(*percpu));
	rc = bpf_map_lookup_elem(bpf_map__fd(dr->skel->maps.albm_real_stats), &idx, percpu);
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < dr->ncpus && !rc; c++) {
		out->pkts += percpu[c].pkts;
		out->bytes += percpu[c].bytes;
		out->new_flows += percpu[c].new_flows;
		out->closed_flows += percpu[c].closed_flows;
	}
	free(percpu);
	return rc;
}

static int flush_map(int fd)
{
	struct albm_flow_key key, next;
	int rc;

	/* Deleting the key just read keeps get_next_key walking from the start. */
	while ((rc = bpf_map_get_next_key(fd, NULL, &next)) == 0) {
		key = next;
		rc = bpf_map_delete_elem(fd, &key);
		if (rc)
			return rc;
	}
	return rc == -ENOENT ? 0 : rc;
}

int dr_flush_conns(struct albm_dr *dr)
{
	int rc = flush_map(bpf_map__fd(dr->skel->maps.albm_conns));

	return rc ? rc : flush_map(bpf_map__fd(dr->skel->maps.albm_peer_conns));
}
