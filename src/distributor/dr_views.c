/* ALBM: albmd's DR plane — what it shows: JSON, the `albmctl list` line, /metrics
 *
 * The view hooks of albmd_dp_dr (dataplane.h).  Per-server numbers are lines of the
 * plane's own statistics table, written by the same functions as albmd's table
 * (stats.h), so each is declared once for the JSON and /metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "distributor/dataplane_dr.h"
#include "distributor/service.h"
#include "distributor/stats.h"

/* One server as the plane sees it. */
struct drd_view {
	bool in_table; /* in the XDP real set (available and its MAC known) */
	bool mac_resolved;
	uint8_t mac[6];
	uint32_t table_weight;   /* its weight in the lookup table (0: no new flows) */
	struct dr_real_stats st; /* XDP counters, summed over its times in the table */
};

static struct drd_real *real_of(const struct albmd_server *srv, struct drd_svc **dsp)
{
	const struct albmd_service *svc = srv->svc;
	struct drd_svc *ds = svc && svc->dp == &albmd_dp_dr ? svc->dp_data : NULL;

	if (!ds)
		return NULL;
	*dsp = ds;
	for (size_t i = 0; i < ds->nreals; i++)
		if (ds->reals[i].srv == srv)
			return &ds->reals[i];
	return NULL;
}

/* srv's DR state; -ENOENT when srv's service is not a running DR service. */
static int server_view(const struct albmd_server *srv, struct drd_view *v)
{
	struct drd_svc *ds;
	struct drd_real *e = real_of(srv, &ds);
	struct dr_real_stats st;

	memset(v, 0, sizeof(*v));
	if (!e)
		return -ENOENT;
	v->in_table = e->applied.in;
	v->mac_resolved = e->resolved;
	memcpy(v->mac, e->mac, 6);
	v->table_weight = e->applied.in ? e->applied.w : 0;
	v->st = e->acc;
	if (drd_real_read(ds, e, &st) == 0)
		drd_stats_add(&v->st, &st, &e->base);
	return 0;
}

/* ---- the plane's statistics ---- */

#define VIEW_FN(fname, expr)                                                          \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *val) \
	{                                                                             \
		struct drd_view v;                                                    \
		if (server_view(at->srv, &v) < 0)                                     \
			return false;                                                 \
		val->u = (expr);                                                      \
		return true;                                                          \
	}
VIEW_FN(v_pkts, v.st.pkts)
VIEW_FN(v_bytes, v.st.bytes)
VIEW_FN(v_new_flows, v.st.new_flows)
VIEW_FN(v_closed_flows, v.st.closed_flows)
VIEW_FN(v_table_weight, v.table_weight)

/* The service's DR state, or false (another plane, not running). */
#define SVC_FN(fname, expr)                                                                       \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *val)             \
	{                                                                                         \
		const struct drd_svc *ds = at->svc->dp == &albmd_dp_dr ? at->svc->dp_data : NULL; \
		if (!ds)                                                                          \
			return false;                                                             \
		val->u = (expr);                                                                  \
		return true;                                                                      \
	}
SVC_FN(s_announced, ds->announced)
SVC_FN(s_table_reals, ds->has_table ? ds->table_reals : 0)

/* Only where there is one: a group service's boundary. */
static bool s_table_version(const struct albmd_stat_at *at, struct albmd_stat_val *val)
{
	const struct drd_svc *ds = at->svc->dp == &albmd_dp_dr ? at->svc->dp_data : NULL;

	if (!ds || !at->svc->cfg.in_group)
		return false;
	val->u = ds->version;
	return true;
}

static const struct albmd_stat drd_stats[] = {
	{ "albm_dr_vip_announced", NULL, "announced",
	  "DR: 1 while the service's VIP is on the announce device (BGP announces it)",
	  ALBMD_STAT_GAUGE, ALBMD_SCOPE_SERVICE, 0, .get = s_announced },
	{ "albm_dr_table_servers", NULL, "table_servers",
	  "DR: servers with a positive weight in the lookup table", ALBMD_STAT_GAUGE,
	  ALBMD_SCOPE_SERVICE, 0, .get = s_table_reals },
	{ "albm_dr_table_version", NULL, "table_version",
	  "DR, ha group: the boundary (Unix ms) the table's weights were taken at (0: before "
	  "the first)",
	  ALBMD_STAT_GAUGE, ALBMD_SCOPE_SERVICE, 0, .get = s_table_version },
	{ "albm_dr_server_packets_total", NULL, "packets",
	  "DR: frames the XDP program forwarded to the server", ALBMD_STAT_COUNTER,
	  ALBMD_SCOPE_SERVER, 0, .get = v_pkts },
	{ "albm_dr_server_bytes_total", NULL, "bytes",
	  "DR: bytes of those frames (Ethernet header included)", ALBMD_STAT_COUNTER,
	  ALBMD_SCOPE_SERVER, 0, .get = v_bytes },
	{ "albm_dr_server_new_flows_total", NULL, "new_flows",
	  "DR: flows the XDP program scheduled to the server", ALBMD_STAT_COUNTER,
	  ALBMD_SCOPE_SERVER, 0, .get = v_new_flows },
	{ "albm_dr_server_closed_flows_total", NULL, "closed_flows",
	  "DR: of those, flows whose client sent FIN or RST", ALBMD_STAT_COUNTER,
	  ALBMD_SCOPE_SERVER, 0, .get = v_closed_flows },
	{ "albm_dr_server_table_weight", NULL, "table_weight",
	  "DR: the server's weight in the lookup table", ALBMD_STAT_GAUGE, ALBMD_SCOPE_SERVER, 0,
	  .get = v_table_weight },
};

/* ---- the hooks ---- */

static void fmt_mac(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* {"in_table", "mac", "table_weight", "packets", "bytes", "new_flows", "closed_flows"} */
json_t *drd_server_json(const struct albmd_server *srv)
{
	struct albmd_stat_at at = { .svc = srv->svc, .srv = srv };
	struct drd_view v;
	char mac[24];
	json_t *o;

	if (server_view(srv, &v) < 0)
		return NULL;
	fmt_mac(v.mac, mac, sizeof(mac));
	o = json_pack("{s:b, s:s?}", "in_table", v.in_table, "mac", v.mac_resolved ? mac : NULL);
	albmd_stats_write_json(o, drd_stats, ARRAY_SIZE(drd_stats), ALBMD_SCOPE_SERVER, &at);
	return o;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* {"interface", "xdp_mode", "table_from", "table_k", "owns_vip", "group", "announce",
 *  "announced", "table_servers", "table_version", "table_digest", "attached",
 *  "flow_sync", "counters": {name: value}} */
json_t *drd_service_json(const struct albmd_service *svc)
{
	const struct drd_svc *ds = svc->dp == &albmd_dp_dr ? svc->dp_data : NULL;
	struct albmd_stat_at at = { .svc = svc };
	char digest[65];
	json_t *counters, *o;
	uint64_t v;

	if (!ds)
		return NULL;
	counters = json_object();
	for (size_t i = 0; i < dr_stat_count(); i++)
		if (dr_read_stat(ds->ifc->dr, dr_stat_name(i), &v) == 0)
			json_object_set_new(counters, dr_stat_name(i), json_integer((json_int_t)v));
	hex(ds->digest, sizeof(ds->digest), digest);
	o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:b, s:s?, s:b, s:b}", "interface",
		      ds->ifc->name, "xdp_mode", drd_xdp_mode_name(ds->ifc->mode), "table_from",
		      svc->cfg.in_group ? (ds->measured ? "ha-levels" : "ha-weights")
					: albm_table_kind_name(ds->kind),
		      "table_k", (json_int_t)ds->k, "owns_vip", ds->owns_vip, "group",
		      svc->cfg.in_group, "announce", svc->cfg.announce, "table_digest",
		      ds->has_table ? digest : NULL, "attached", !ds->ifc->detached, "flow_sync",
		      ds->ifc->flow_sync);
	albmd_stats_write_json(o, drd_stats, ARRAY_SIZE(drd_stats), ALBMD_SCOPE_SERVICE, &at);
	json_object_set_new(o, "counters", counters);
	return o;
}

/* "     dr: VIP announced; table v1800000005000 (ha-levels) 3 servers digest 3fa2c1d0..." */
void drd_service_text(const struct albmd_service *svc, struct albmd_buf *out)
{
	const struct drd_svc *ds = svc->dp == &albmd_dp_dr ? svc->dp_data : NULL;
	char digest[65];

	if (!ds || (!svc->cfg.announce && !svc->cfg.in_group))
		return;
	hex(ds->digest, sizeof(ds->digest), digest);
	digest[16] = '\0';
	albmd_buf_printf(out, "     dr: VIP %s%s; table",
			 !svc->cfg.announce ? "not announced (off)"
			 : ds->announced    ? "announced"
					    : "NOT announced (not ready)",
			 ds->ifc->detached ? ", XDP DETACHED" : "");
	if (svc->cfg.in_group)
		albmd_buf_printf(out, " v%llu (%s)", (unsigned long long)ds->version,
				 ds->measured ? "ha-levels" : "ha-weights");
	albmd_buf_printf(out, " %u server%s digest %s\n", ds->table_reals,
			 ds->table_reals == 1 ? "" : "s", ds->has_table ? digest : "-");
}

/* "     dr: in-table table-weight 3 flows 300 closed 300 packets 1800 bytes ... mac ..." */
void drd_server_text(const struct albmd_server *srv, struct albmd_buf *out)
{
	struct drd_view v;
	char mac[24];

	if (server_view(srv, &v) < 0)
		return;
	if (v.mac_resolved)
		fmt_mac(v.mac, mac, sizeof(mac));
	else
		snprintf(mac, sizeof(mac), "unresolved");
	albmd_buf_printf(out,
			 "     dr: %s table-weight %u flows %llu closed %llu packets %llu "
			 "bytes %llu mac %s\n",
			 v.in_table ? "in-table" : "out", v.table_weight,
			 (unsigned long long)v.st.new_flows, (unsigned long long)v.st.closed_flows,
			 (unsigned long long)v.st.pkts, (unsigned long long)v.st.bytes, mac);
}

/* The albm_dr_* families: per DR server, and the program's counters per interface. */
void drd_metrics(struct albmd *d, struct albmd_buf *b)
{
	uint64_t v;

	albmd_stats_write_metrics(d, b, drd_stats, ARRAY_SIZE(drd_stats));
	if (!drd_ifaces(d))
		return;
	albmd_buf_printf(b, "# HELP albm_dr_xdp_total DR: XDP program counters by interface "
			    "and reason (docs/dr.md)\n# TYPE albm_dr_xdp_total counter\n");
	for (struct drd_iface *ifc = drd_ifaces(d); ifc; ifc = ifc->next)
		for (size_t i = 0; i < dr_stat_count(); i++)
			if (dr_read_stat(ifc->dr, dr_stat_name(i), &v) == 0)
				albmd_buf_printf(
					b,
					"albm_dr_xdp_total{interface=\"%s\",counter=\"%s\"} "
					"%llu\n",
					ifc->name, dr_stat_name(i), (unsigned long long)v);
}
