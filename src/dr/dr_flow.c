/* ALBM: flow-state sync in the DR library — new flows out of the ring buffer, peers' flows in */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/util.h"
#include "dr/dr.h"
#include "dr/dr_priv.h"

/*
 * The XDP program publishes every flow it schedules (struct albm_flow_event) when it
 * was loaded with flow_sync; the daemon drains them, batches them to its peers
 * (src/proto/sync.c), and each peer pins them in its own connection table with
 * dr_flow_install.  Reals travel by address: an index means nothing to a peer.
 */

static void addr_of(int family, const __be32 *a, uint16_t port_be, struct albm_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == ALBM_AF_INET) {
		out->u.sin.sin_family = AF_INET;
		out->u.sin.sin_addr.s_addr = a[0];
		out->u.sin.sin_port = port_be;
		out->len = sizeof(out->u.sin);
	} else {
		out->u.sin6.sin6_family = AF_INET6;
		memcpy(&out->u.sin6.sin6_addr, a, 16);
		out->u.sin6.sin6_port = port_be;
		out->len = sizeof(out->u.sin6);
	}
}

/* libbpf's callback: one record -> struct dr_flow -> the drain caller's callback. */
static int flow_event(void *ctx, void *data, size_t size)
{
	struct albm_dr *dr = ctx;
	const struct albm_flow_event *ev = data;
	struct dr_flow f;
	int fam;

	if (size < sizeof(*ev) || !dr->flow_cb)
		return 0;
	fam = ev->key.family;
	if (fam != ALBM_AF_INET && fam != ALBM_AF_INET6)
		return 0; /* the program writes no other value */
	addr_of(fam, ev->key.saddr, ev->key.sport, &f.client);
	addr_of(fam, ev->key.daddr, ev->key.dport, &f.vip);
	addr_of(fam, ev->real_addr, 0, &f.real);
	dr->sync.published++;
	dr->flow_cb(&f, dr->flow_ctx);
	return 0;
}

int dr_flow_open(struct albm_dr *dr)
{
	dr->flow_rb = ring_buffer__new(bpf_map__fd(dr->skel->maps.albm_flow_events), flow_event, dr,
				       NULL);
	return dr->flow_rb ? 0 : (errno ? -errno : -ENOMEM);
}

int dr_flow_fd(const struct albm_dr *dr)
{
	return dr->flow_rb ? ring_buffer__epoll_fd(dr->flow_rb) : -1;
}

static int flow_run(struct albm_dr *dr, dr_flow_cb cb, void *ctx, int timeout_ms)
{
	uint64_t before = dr->sync.published;
	int rc;

	if (!dr->flow_rb)
		return 0;
	dr->flow_cb = cb;
	dr->flow_ctx = ctx;
	rc = timeout_ms < 0 ? ring_buffer__consume(dr->flow_rb)
			    : ring_buffer__poll(dr->flow_rb, timeout_ms);
	dr->flow_cb = NULL;
	dr->flow_ctx = NULL;
	if (rc < 0 && rc != -EINTR)
		return rc;
	return (int)(dr->sync.published - before);
}

int dr_flow_drain(struct albm_dr *dr, dr_flow_cb cb, void *ctx)
{
	return flow_run(dr, cb, ctx, -1);
}

int dr_flow_poll(struct albm_dr *dr, dr_flow_cb cb, void *ctx, int timeout_ms)
{
	return flow_run(dr, cb, ctx, timeout_ms < 0 ? 0 : timeout_ms);
}

/* The connection-table key of a flow (as the program builds it from a packet). */
static int flow_key_of(const struct dr_flow *f, struct albm_flow_key *k)
{
	int fam = albm_addr_family(&f->vip);

	memset(k, 0, sizeof(*k));
	if (fam != albm_addr_family(&f->client) || fam != albm_addr_family(&f->real))
		return -EINVAL;
	if (fam == AF_INET) {
		k->saddr[0] = f->client.u.sin.sin_addr.s_addr;
		k->daddr[0] = f->vip.u.sin.sin_addr.s_addr;
		k->family = ALBM_AF_INET;
	} else if (fam == AF_INET6) {
		memcpy(k->saddr, &f->client.u.sin6.sin6_addr, 16);
		memcpy(k->daddr, &f->vip.u.sin6.sin6_addr, 16);
		k->family = ALBM_AF_INET6;
	} else {
		return -EINVAL;
	}
	k->sport = htons(albm_addr_port(&f->client));
	k->dport = htons(albm_addr_port(&f->vip));
	k->proto = IPPROTO_TCP;
	return 0;
}

/* The peers' map entry of a flow; 0, or -ENOENT (counted) when its VIP or real is not
 * ours, -EINVAL for a bad flow. */
static int flow_entry(struct albm_dr *dr, const struct dr_flow *f, struct albm_flow_key *key,
		      struct albm_conn *c, char *err, size_t errlen)
{
	char buf[ALBM_ADDRSTRLEN];

	memset(c, 0, sizeof(*c));
	if (flow_key_of(f, key) < 0) {
		albm_seterr(err, errlen, "flow: mixed or unknown address families");
		return -EINVAL;
	}
	if (!dr_vip_known(dr, &f->vip)) {
		dr->sync.unknown_vip++;
		albm_seterr(err, errlen, "flow to %s: not a VIP here",
			    albm_addr_format(&f->vip, buf, sizeof(buf)));
		return -ENOENT;
	}
	c->real = dr_vip_real_index(dr, &f->vip, &f->real);
	if (!c->real) {
		dr->sync.unknown_real++;
		albm_seterr(err, errlen, "flow to real %s: not a real of this VIP here",
			    albm_addr_format_host(&f->real, buf, sizeof(buf)));
		return -ENOENT;
	}
	c->gen = dr->real_gen[c->real];
	return 0;
}

int dr_flow_install(struct albm_dr *dr, const struct dr_flow *f, char *err, size_t errlen)
{
	int fd = bpf_map__fd(dr->skel->maps.albm_peer_conns), rc;
	struct albm_flow_key key;
	struct albm_conn c;

	rc = flow_entry(dr, f, &key, &c, err, errlen);
	if (rc)
		return rc;
	rc = bpf_map_update_elem(fd, &key, &c, BPF_ANY);
	if (rc) {
		albm_seterr(err, errlen, "flow: map update: %s", strerror(-rc));
		return rc;
	}
	dr->sync.installed++;
	return 0;
}

int dr_flow_install_many(struct albm_dr *dr, const struct dr_flow *f, size_t n, int *rcs)
{
	struct albm_flow_key *keys = xcalloc(n + 1, sizeof(*keys));
	struct albm_conn *vals = xcalloc(n + 1, sizeof(*vals));
	size_t *at = xcalloc(n + 1, sizeof(*at)), m = 0, done = 0;
	int fd = bpf_map__fd(dr->skel->maps.albm_peer_conns);
	char err[8];

	for (size_t i = 0; i < n; i++) {
		rcs[i] = flow_entry(dr, &f[i], &keys[m], &vals[m], err, sizeof(err));
		if (!rcs[i])
			at[m++] = i;
	}
	/* one system call for the lot, several times cheaper per flow than one each; a
	 * failing element (not expected: an LRU map makes room) is that flow's error */
	while (done < m) {
		__u32 count = (__u32)(m - done);
		int rc = bpf_map_update_batch(fd, keys + done, vals + done, &count, NULL);
		if (rc && count > m - done) /* the kernel refused the call itself */
			count = 0;
		dr->sync.installed += count;
		done += count;
		if (!rc || done >= m)
			continue;
		rcs[at[done++]] = rc;
	}
	free(keys);
	free(vals);
	free(at);
	return 0;
}

int dr_sync_stats(struct albm_dr *dr, struct dr_sync_stats *out)
{
	int rc;

	*out = dr->sync;
	rc = dr_read_stat(dr, "sync_lost", &out->lost);
	return rc ? rc : dr_read_stat(dr, "sync_hit", &out->hits);
}
