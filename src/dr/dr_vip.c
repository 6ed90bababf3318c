/* ALBM: Direct Routing VIPs and their reals — indices, the real map, lookup table switches */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "dr/dr.h"
#include "dr/dr_priv.h"
#include "dr/dr_table.h"

/*
 * Real indices are per (VIP, real): the same server behind two VIPs has two
 * indices and two sets of counters, which is what a per-service scheduler needs.
 * Each (re)assignment of an index bumps its generation; a pinned flow carries the
 * generation it was pinned with, so a flow of a removed real never reaches a new
 * real that happens to get the same index.
 */

static void vip_key_of(const struct albm_addr *a, struct albm_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	if (albm_addr_family(a) == AF_INET) {
		k->addr[0] = a->u.sin.sin_addr.s_addr;
		k->family = ALBM_AF_INET;
	} else {
		memcpy(k->addr, &a->u.sin6.sin6_addr, 16);
		k->family = ALBM_AF_INET6;
	}
	k->port = htons(albm_addr_port(a));
	k->proto = IPPROTO_TCP;
}

/* 16 address bytes: the key a real's Maglev permutation is derived from. */
static void real_key_of(const struct albm_addr *a, uint8_t key[16])
{
	memset(key, 0, 16);
	if (albm_addr_family(a) == AF_INET)
		memcpy(key, &a->u.sin.sin_addr, 4);
	else
		memcpy(key, &a->u.sin6.sin6_addr, 16);
}

static bool same_host(const struct albm_addr *a, const struct albm_addr *b)
{
	uint8_t ka[16], kb[16];

	real_key_of(a, ka);
	real_key_of(b, kb);
	return albm_addr_family(a) == albm_addr_family(b) && memcmp(ka, kb, 16) == 0;
}

static struct dr_vip *vip_find(struct albm_dr *dr, const struct albm_addr *vip)
{
	struct albm_vip_key k;

	vip_key_of(vip, &k);
	for (size_t i = 0; i < ALBM_MAX_VIPS; i++)
		if (dr->vips[i].used && memcmp(&dr->vips[i].key, &k, sizeof(k)) == 0)
			return &dr->vips[i];
	return NULL;
}

/* Write table number t (ALBM_TABLE_SIZE slots) in one batch syscall. */
static int table_write(struct albm_dr *dr, uint32_t t, const uint32_t *slots)
{
	uint32_t keys[ALBM_TABLE_SIZE];
	int fd = bpf_map__fd(dr->skel->maps.albm_tables);
	__u32 count = ALBM_TABLE_SIZE;
	int rc;

	for (uint32_t s = 0; s < ALBM_TABLE_SIZE; s++)
		keys[s] = t * ALBM_TABLE_SIZE + s;
	rc = bpf_map_update_batch(fd, keys, slots, &count, NULL);
	if (rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOTSUP) /* old kernel: one by one */
		for (uint32_t s = rc = 0; s < ALBM_TABLE_SIZE && !rc; s++)
			rc = bpf_map_update_elem(fd, &keys[s], &slots[s], BPF_ANY);
	return rc;
}

/* Point the VIP at table t (fully written): one atomic map update. */
static int vip_switch(struct albm_dr *dr, struct dr_vip *v, uint32_t t)
{
	struct albm_vip val = { .table = t };
	int rc = bpf_map_update_elem(bpf_map__fd(dr->skel->maps.albm_vips), &v->key, &val, BPF_ANY);

	if (!rc)
		v->active = t;
	return rc;
}

int dr_add_vip(struct albm_dr *dr, const struct albm_addr *vip, char *err, size_t errlen)
{
	char buf[ALBM_ADDRSTRLEN];
	struct dr_vip *v = NULL;
	int rc;

	albm_addr_format(vip, buf, sizeof(buf));
	if (albm_addr_port(vip) == 0) {
		albm_seterr(err, errlen, "VIP %s: a port is required", buf);
		return -EINVAL;
	}
	if (vip_find(dr, vip)) {
		albm_seterr(err, errlen, "VIP %s: already added", buf);
		return -EEXIST;
	}
	for (size_t i = 0; i < ALBM_MAX_VIPS && !v; i++)
		if (!dr->vips[i].used)
			v = &dr->vips[i];
	if (!v) {
		albm_seterr(err, errlen, "VIP %s: at most %d VIPs per interface", buf,
			    ALBM_MAX_VIPS);
		return -ENOSPC;
	}
	memset(v, 0, sizeof(*v));
	v->addr = *vip;
	vip_key_of(vip, &v->key);
	/* An empty table (every slot 0): the VIP drops until it has reals. */
	rc = table_write(dr, (uint32_t)(v - dr->vips) * 2, v->table);
	if (!rc)
		rc = vip_switch(dr, v, (uint32_t)(v - dr->vips) * 2);
	if (rc) {
		albm_seterr(err, errlen, "VIP %s: map update: %s", buf, strerror(-rc));
		return rc;
	}
	v->used = true;
	return 0;
}

static int real_write(struct albm_dr *dr, uint32_t idx, const struct albm_addr *addr,
		      const uint8_t mac[6], bool valid)
{
	struct albm_real r = { .flags = valid ? ALBM_REAL_F_VALID : 0, .gen = dr->real_gen[idx] };

	memcpy(r.mac, mac, 6);
	real_key_of(addr, (uint8_t *)r.addr); /* flow events name the real by address */
	return bpf_map_update_elem(bpf_map__fd(dr->skel->maps.albm_reals), &idx, &r, BPF_ANY);
}

/* A new real starts its counters at zero (the index may have served another). */
static int real_stats_reset(struct albm_dr *dr, uint32_t idx)
{
	struct albm_real_stats *zero = xcalloc(dr->ncpus, sizeof(*zero));
	int rc = bpf_map_update_elem(bpf_map__fd(dr->skel->maps.albm_real_stats), &idx, zero,
				     BPF_ANY);

	free(zero);
	return rc;
}

static size_t reals_free_count(const struct albm_dr *dr)
{
	size_t n = 0;

	for (uint32_t i = 1; i < ALBM_MAX_REALS; i++)
		n += !dr->real_used[i];
	return n;
}

/* Take a free index and give it a new generation; the caller checked there is one. */
static uint32_t real_alloc(struct albm_dr *dr)
{
	for (uint32_t i = 1; i < ALBM_MAX_REALS; i++) {
		if (!dr->real_used[i]) {
			dr->real_used[i] = true;
			dr->real_gen[i]++;
			return i;
		}
	}
	return 0;
}

/* Mark a real invalid in the map (its flows get rescheduled) and free its index. */
static int real_remove(struct albm_dr *dr, const struct dr_vreal *r)
{
	dr->real_used[r->index] = false;
	return real_write(dr, r->index, &r->addr, r->mac, false);
}

static const struct dr_vreal *vreal_find(const struct dr_vip *v, const struct albm_addr *a)
{
	for (size_t i = 0; i < v->nreals; i++)
		if (same_host(&v->reals[i].addr, a))
			return &v->reals[i];
	return NULL;
}

/* Every real of the set usable for v, no duplicates, enough free indices. */
static int reals_check(const struct albm_dr *dr, const struct dr_vip *v,
		       const struct dr_real *reals, size_t n, const char *vname, char *err,
		       size_t errlen)
{
	static const uint8_t zero[6];
	char buf[ALBM_ADDRSTRLEN];
	size_t fresh = 0;

	if (n >= ALBM_TABLE_SIZE) {
		albm_seterr(err, errlen, "VIP %s: %zu reals is too many", vname, n);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		albm_addr_format_host(&reals[i].addr, buf, sizeof(buf));
		if (albm_addr_family(&reals[i].addr) != albm_addr_family(&v->addr)) {
			albm_seterr(err, errlen, "VIP %s: real %s: not the VIP's address family",
				    vname, buf);
			return -EINVAL;
		}
		if (memcmp(reals[i].mac, zero, 6) == 0 || (reals[i].mac[0] & 1)) {
			albm_seterr(err, errlen, "VIP %s: real %s: MAC is zero or multicast", vname,
				    buf);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (same_host(&reals[i].addr, &reals[j].addr)) {
				albm_seterr(err, errlen, "VIP %s: real %s listed twice", vname,
					    buf);
				return -EINVAL;
			}
		}
		fresh += !vreal_find(v, &reals[i].addr);
	}
	if (fresh > reals_free_count(dr)) {
		albm_seterr(err, errlen, "VIP %s: no free real index (at most %d reals in all)",
			    vname, ALBM_MAX_REALS - 1);
		return -ENOSPC;
	}
	return 0;
}

/* Give each real of the new set its index and write its map entry. */
static int reals_assign(struct albm_dr *dr, const struct dr_vip *v, struct dr_real *reals, size_t n,
			struct dr_vreal *out)
{
	const struct dr_vreal *old;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		old = vreal_find(v, &reals[i].addr);
		if (old) {
			reals[i].index = old->index;
			if (memcmp(old->mac, reals[i].mac, 6) != 0) /* same real, new MAC */
				rc = real_write(dr, old->index, &reals[i].addr, reals[i].mac, true);
		} else {
			reals[i].index = real_alloc(dr);
			rc = real_stats_reset(dr, reals[i].index);
			if (!rc)
				rc = real_write(dr, reals[i].index, &reals[i].addr, reals[i].mac,
						true);
		}
		out[i].addr = reals[i].addr;
		memcpy(out[i].mac, reals[i].mac, 6);
		out[i].weight = reals[i].weight;
		out[i].index = reals[i].index;
	}
	return rc;
}

/* Rebuild the table from the new set; when it changed, fill the idle table and flip. */
static int vip_rebuild(struct albm_dr *dr, struct dr_vip *v, const struct dr_vreal *set, size_t n)
{
	struct dr_table_entry *e = xcalloc(n ? n : 1, sizeof(*e));
	uint32_t *slots = xcalloc(ALBM_TABLE_SIZE, sizeof(*slots));
	uint32_t idle = v->active ^ 1;
	int rc;

	for (size_t i = 0; i < n; i++) {
		real_key_of(&set[i].addr, e[i].key);
		e[i].id = set[i].index;
		e[i].weight = set[i].weight;
	}
	rc = dr_table_fill(e, n, slots, ALBM_TABLE_SIZE);
	if (!rc && memcmp(slots, v->table, sizeof(v->table)) != 0) {
		rc = table_write(dr, idle, slots);
		if (!rc)
			rc = vip_switch(dr, v, idle);
		if (!rc)
			memcpy(v->table, slots, sizeof(v->table));
	}
	free(e);
	free(slots);
	return rc;
}

int dr_set_reals(struct albm_dr *dr, const struct albm_addr *vip, struct dr_real *reals, size_t n,
		 char *err, size_t errlen)
{
	char vname[ALBM_ADDRSTRLEN];
	struct dr_vip *v = vip_find(dr, vip);
	struct dr_vreal *set;
	int rc;

	albm_addr_format(vip, vname, sizeof(vname));
	if (!v) {
		albm_seterr(err, errlen, "VIP %s: not added", vname);
		return -ENOENT;
	}
	rc = reals_check(dr, v, reals, n, vname, err, errlen);
	if (rc)
		return rc;
	set = xcalloc(n ? n : 1, sizeof(*set));
	rc = reals_assign(dr, v, reals, n, set);
	if (!rc)
		rc = vip_rebuild(dr, v, set, n);
	/* Removed reals go last: until the flip, the old table still names them. */
	for (size_t i = 0; i < v->nreals && !rc; i++) {
		bool kept = false;

		for (size_t j = 0; j < n && !kept; j++)
			kept = same_host(&v->reals[i].addr, &set[j].addr);
		if (!kept)
			rc = real_remove(dr, &v->reals[i]);
	}
	if (rc) {
		albm_seterr(err, errlen, "VIP %s: map update: %s", vname, strerror(-rc));
		free(set);
		return rc;
	}
	free(v->reals);
	v->reals = set;
	v->nreals = n;
	return 0;
}

int dr_del_vip(struct albm_dr *dr, const struct albm_addr *vip, char *err, size_t errlen)
{
	char vname[ALBM_ADDRSTRLEN];
	struct dr_vip *v = vip_find(dr, vip);
	int rc;

	albm_addr_format(vip, vname, sizeof(vname));
	if (!v) {
		albm_seterr(err, errlen, "VIP %s: not added", vname);
		return -ENOENT;
	}
	rc = bpf_map_delete_elem(bpf_map__fd(dr->skel->maps.albm_vips), &v->key);
	for (size_t i = 0; i < v->nreals && !rc; i++)
		rc = real_remove(dr, &v->reals[i]);
	if (rc) {
		albm_seterr(err, errlen, "VIP %s: map update: %s", vname, strerror(-rc));
		return rc;
	}
	free(v->reals);
	memset(v, 0, sizeof(*v));
	return 0;
}

/* Index of a real of a VIP, or 0. */
uint32_t dr_vip_real_index(struct albm_dr *dr, const struct albm_addr *vip,
			   const struct albm_addr *real)
{
	struct dr_vip *v = vip_find(dr, vip);
	const struct dr_vreal *r = v ? vreal_find(v, real) : NULL;

	return r ? r->index : 0;
}

bool dr_vip_known(struct albm_dr *dr, const struct albm_addr *vip)
{
	return vip_find(dr, vip) != NULL;
}

int dr_table_digest(struct albm_dr *dr, const struct albm_addr *vip, uint8_t digest[32])
{
	struct dr_vip *v = vip_find(dr, vip);
	uint8_t(*keys)[16]; /* real index -> address bytes; index 0 (empty slot): zeros */
	unsigned int dlen = 32;
	EVP_MD_CTX *md;
	int ok;

	if (!v)
		return -ENOENT;
	keys = xcalloc(ALBM_MAX_REALS, sizeof(*keys));
	for (size_t i = 0; i < v->nreals; i++)
		real_key_of(&v->reals[i].addr, keys[v->reals[i].index]);
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (uint32_t s = 0; s < ALBM_TABLE_SIZE && ok; s++)
		ok = EVP_DigestUpdate(md, keys[v->table[s] % ALBM_MAX_REALS], 16);
	ok = ok && EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	free(keys);
	return ok ? 0 : -EIO;
}
