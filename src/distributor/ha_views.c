/* ALBM: albmd's ha group as it is shown — list --json "ha", the `albmctl list` lines, /metrics
 *
 * Every number is a line of the group's statistics table below, written by the
 * functions of stats.c, so that each is declared once for JSON and /metrics
 * (docs/albmd.md lists them).  Names and keys are contracts: add, never rename.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "distributor/ha.h"
#include "distributor/stats.h"

/* ---- accessors ---- */

#define HA_FN(fname, field, expr)                                                   \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *v) \
	{                                                                           \
		const struct albmd_ha *ha = at->d->ha;                              \
		if (!ha)                                                            \
			return false;                                               \
		v->field = (expr);                                                  \
		return true;                                                        \
	}
#define P (at->peer)

HA_FN(g_node_id, u, ha->cfg.node_id)
HA_FN(g_received, u, ha->received)
HA_FN(g_rejected, u, ha->rejected[at->i + 1])
HA_FN(g_queued, u, ha->flows_queued)
HA_FN(g_msgs_sent, u, ha->msgs_sent)
HA_FN(g_installed, u, ha->installs[DRD_INSTALLED])
HA_FN(g_refused, u, ha->installs[at->i + 1])

static bool g_published(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	struct dr_sync_stats st;

	if (!at->d->ha)
		return false;
	drd_group_ring_stats(at->d, &st);
	v->u = st.published;
	return true;
}

static bool g_lost(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	struct dr_sync_stats st;

	if (!at->d->ha)
		return false;
	drd_group_ring_stats(at->d, &st);
	v->u = st.lost;
	return true;
}

static bool g_followed(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	struct dr_sync_stats st;

	if (!at->d->ha)
		return false;
	drd_group_ring_stats(at->d, &st);
	v->u = st.hits;
	return true;
}

static const char *verdict_name(size_t i)
{
	return albm_sync_verdict_name((enum albm_sync_verdict)(i + 1));
}

static const char *refusal_name(size_t i)
{
	return drd_install_name((enum drd_install)(i + 1));
}

/* ms since the peer was last heard, or nothing when never */
static bool p_heard_ms(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	if (!P->last_heard_ms)
		return false;
	v->u = albm_now_ms() - P->last_heard_ms;
	return true;
}

static bool p_heard_s(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	if (!P->last_heard_ms)
		return false;
	v->f = (double)(albm_now_ms() - P->last_heard_ms) / 1000.0;
	return true;
}

#define U_PEER(fname, expr)                                                         \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *v) \
	{                                                                           \
		v->u = (uint64_t)(expr);                                            \
		return true;                                                        \
	}
U_PEER(p_node_id, P->node_id)
U_PEER(p_up, P->up)
U_PEER(p_msgs_sent, P->msgs_sent)
U_PEER(p_send_errors, P->send_errors)
U_PEER(p_flows_sent, P->flows_sent)
U_PEER(p_msgs_received, P->msgs_received)
U_PEER(p_heartbeats, P->heartbeats)
U_PEER(p_flows_received, P->flows_received)
U_PEER(p_tables_common, P->tables_common)
U_PEER(p_tables_differ, P->tables_differ)
U_PEER(p_disagree, P->disagree)
U_PEER(p_disagreements, P->disagreements)

/* ---- the table ---- */

#define C      ALBMD_STAT_COUNTER
#define G      ALBMD_STAT_GAUGE
#define GLOBAL ALBMD_SCOPE_GLOBAL
#define PEER   ALBMD_SCOPE_PEER

static const struct albmd_stat ha_stats[] = {
	{ "albm_ha_node_id", NULL, "node_id", "HA: this distributor's node-id", G, GLOBAL, 0,
	  .get = g_node_id },
	{ "albm_ha_datagrams_received_total", NULL, "datagrams_received",
	  "HA: sync datagrams received (accepted or not)", C, GLOBAL, 0, .get = g_received },
	{ "albm_ha_datagrams_rejected_total", NULL, "rejected",
	  "HA: sync datagrams refused, by reason (docs/protocol.md)", C, GLOBAL, 0,
	  .get = g_rejected, .vec_label = "reason", .vec_n = ALBM_SYNC_VERDICT__COUNT - 1,
	  .vec_name = verdict_name },
	{ "albm_ha_flows_published_total", NULL, "flows_published",
	  "HA: new flows the XDP programs published for sync", C, GLOBAL, 0, .get = g_published },
	{ "albm_ha_flows_lost_total", NULL, "flows_lost",
	  "HA: new flows not published: the flow ring was full", C, GLOBAL, 0, .get = g_lost },
	{ "albm_ha_flows_queued_total", NULL, "flows_queued", "HA: new flows batched for the peers",
	  C, GLOBAL, 0, .get = g_queued },
	{ "albm_ha_messages_sent_total", NULL, "messages_sent",
	  "HA: datagrams made (flows and heartbeats), each sent to every peer", C, GLOBAL, 0,
	  .get = g_msgs_sent },
	{ "albm_ha_flows_installed_total", NULL, "flows_installed",
	  "HA: peers' flows pinned in this distributor's connection table", C, GLOBAL, 0,
	  .get = g_installed },
	{ "albm_ha_flows_followed_total", NULL, "flows_followed",
	  "HA: flows not pinned here whose packets followed a peer's entry (continued by sync)", C,
	  GLOBAL, 0, .get = g_followed },
	{ "albm_ha_flows_refused_total", NULL, "flows_refused",
	  "HA: peers' flows not pinned, by reason", C, GLOBAL, 0, .get = g_refused,
	  .vec_label = "reason", .vec_n = DRD_INSTALL__COUNT - 1, .vec_name = refusal_name },

	{ NULL, NULL, "node_id", "Its node-id", G, PEER, 0, .get = p_node_id },
	{ "albm_ha_peer_up", NULL, "up", "HA: 1 while the peer is heard (within 3 heartbeats)", G,
	  PEER, 0, .get = p_up },
	{ "albm_ha_peer_last_heard_seconds", NULL, NULL, "HA: seconds since the peer was heard", G,
	  PEER, ALBMD_STAT_F_REAL, .fmt = "%.3f", .get = p_heard_s },
	{ NULL, NULL, "last_heard_ms", "ms since the peer was heard", G, PEER, 0,
	  .get = p_heard_ms },
	{ "albm_ha_peer_messages_sent_total", NULL, "messages_sent",
	  "HA: datagrams sent to the peer", C, PEER, 0, .get = p_msgs_sent },
	{ "albm_ha_peer_send_errors_total", NULL, "send_errors",
	  "HA: datagrams that could not be sent to the peer", C, PEER, 0, .get = p_send_errors },
	{ "albm_ha_peer_flows_sent_total", NULL, "flows_sent", "HA: new flows sent to the peer", C,
	  PEER, 0, .get = p_flows_sent },
	{ "albm_ha_peer_messages_received_total", NULL, "messages_received",
	  "HA: datagrams accepted from the peer", C, PEER, 0, .get = p_msgs_received },
	{ "albm_ha_peer_heartbeats_received_total", NULL, "heartbeats",
	  "HA: heartbeats accepted from the peer", C, PEER, 0, .get = p_heartbeats },
	{ "albm_ha_peer_flows_received_total", NULL, "flows_received",
	  "HA: flows received from the peer", C, PEER, 0, .get = p_flows_received },
	{ "albm_ha_peer_tables_common", NULL, "tables_common",
	  "HA: VIPs the peer and this distributor both serve (its last heartbeat)", G, PEER, 0,
	  .get = p_tables_common },
	{ "albm_ha_peer_tables_differ", NULL, "tables_differ", "HA: ... whose table digests differ",
	  G, PEER, 0, .get = p_tables_differ },
	{ "albm_ha_peer_tables_disagree", NULL, "tables_disagree",
	  "HA: 1 while a table has differed for longer than a table interval", G, PEER, 0,
	  .get = p_disagree },
	{ "albm_ha_peer_table_disagreements_total", NULL, "table_disagreements",
	  "HA: times the tables started to disagree", C, PEER, 0, .get = p_disagreements },
};

/* ---- the views ---- */

static const char *peer_state(const struct albmd_ha_peer *p)
{
	return p->up ? "up" : p->last_heard_ms ? "down" : "unknown";
}

static const char *peer_tables(const struct albmd_ha_peer *p)
{
	if (!p->heartbeats || !p->tables_common)
		return "-";
	return p->disagree ? "DISAGREE" : p->tables_differ ? "differ" : "agree";
}

static json_t *peer_json(struct albmd *d, const struct albmd_ha_peer *p)
{
	struct albmd_stat_at at = { .d = d, .peer = p };
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s}", "name", p->name, "address",
		      albm_addr_format(&p->addr, abuf, sizeof(abuf)), "state", peer_state(p),
		      "tables", peer_tables(p));
	albmd_stats_write_json(o, ha_stats, ARRAY_SIZE(ha_stats), PEER, &at);
	return o;
}

json_t *albmd_ha_json(struct albmd *d)
{
	struct albmd_stat_at at = { .d = d };
	const struct albmd_ha *ha = d->ha;
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o, *peers;

	if (!ha)
		return json_null();
	peers = json_array();
	for (size_t i = 0; i < ha->npeers; i++)
		json_array_append_new(peers, peer_json(d, &ha->peers[i]));
	o = json_pack("{s:s, s:b, s:I, s:I, s:I}", "listen",
		      albm_addr_format(&ha->cfg.listen, abuf, sizeof(abuf)), "flow_sync",
		      ha->cfg.flow_sync, "table_interval_ms", (json_int_t)ha->cfg.table_interval_ms,
		      "heartbeat_ms", (json_int_t)ha->cfg.heartbeat_ms, "flush_ms",
		      (json_int_t)ha->cfg.flush_ms);
	albmd_stats_write_json(o, ha_stats, ARRAY_SIZE(ha_stats), GLOBAL, &at);
	json_object_set_new(o, "peers", peers);
	return o;
}

/* "  sync: 3 refused (forged 1, replay 2)" */
static void rejected_text(const struct albmd_ha *ha, struct albmd_buf *out)
{
	uint64_t total = 0;
	const char *sep = "";

	for (int v = 1; v < ALBM_SYNC_VERDICT__COUNT; v++)
		total += ha->rejected[v];
	albmd_buf_printf(out, "; %llu datagram%s refused", (unsigned long long)total,
			 total == 1 ? "" : "s");
	if (!total)
		return;
	albmd_buf_printf(out, " (");
	for (int v = 1; v < ALBM_SYNC_VERDICT__COUNT; v++) {
		if (!ha->rejected[v])
			continue;
		albmd_buf_printf(out, "%s%s %llu", sep, albm_sync_verdict_name(v),
				 (unsigned long long)ha->rejected[v]);
		sep = ", ";
	}
	albmd_buf_printf(out, ")");
}

static void peer_text(const struct albmd_ha_peer *p, struct albmd_buf *out)
{
	char abuf[ALBM_ADDRSTRLEN], heard[32] = "-";
	uint64_t ms;

	if (p->last_heard_ms) {
		ms = albm_now_ms() - p->last_heard_ms;
		snprintf(heard, sizeof(heard), ms < 10000 ? "%llums" : "%llus",
			 (unsigned long long)(ms < 10000 ? ms : ms / 1000));
	}
	albmd_buf_printf(out, "  -> %-12s %-23s %-5u %-8s %-8s %-9llu %-9llu %-9llu %-9llu %s\n",
			 p->name, albm_addr_format(&p->addr, abuf, sizeof(abuf)), p->node_id,
			 peer_state(p), heard, (unsigned long long)p->msgs_sent,
			 (unsigned long long)p->msgs_received, (unsigned long long)p->flows_sent,
			 (unsigned long long)p->flows_received, peer_tables(p));
}

void albmd_ha_text(struct albmd *d, struct albmd_buf *out)
{
	const struct albmd_ha *ha = d->ha;
	struct dr_sync_stats st;
	char abuf[ALBM_ADDRSTRLEN];
	uint64_t refused = 0;

	if (!ha)
		return;
	drd_group_ring_stats(d, &st);
	for (int r = 1; r < DRD_INSTALL__COUNT; r++)
		refused += ha->installs[r];
	albmd_buf_printf(out, "HA group: node %u, listen %s, flow sync %s, table interval %llums\n",
			 ha->cfg.node_id, albm_addr_format(&ha->cfg.listen, abuf, sizeof(abuf)),
			 ha->cfg.flow_sync ? "on" : "off",
			 (unsigned long long)ha->cfg.table_interval_ms);
	albmd_buf_printf(out,
			 "  sync: flows published %llu, lost %llu, sent in %llu datagrams; "
			 "peers' flows installed %llu, refused %llu, followed %llu",
			 (unsigned long long)st.published, (unsigned long long)st.lost,
			 (unsigned long long)ha->msgs_sent,
			 (unsigned long long)ha->installs[DRD_INSTALLED],
			 (unsigned long long)refused, (unsigned long long)st.hits);
	rejected_text(ha, out);
	albmd_buf_printf(out, "\n  -> Peer         Address                 Node  State    Heard    "
			      "MsgsOut   MsgsIn    FlowsOut  FlowsIn   Tables\n");
	for (size_t i = 0; i < ha->npeers; i++)
		peer_text(&ha->peers[i], out);
}

void albmd_ha_metrics(struct albmd *d, struct albmd_buf *out)
{
	if (d->ha)
		albmd_stats_write_metrics(d, out, ha_stats, ARRAY_SIZE(ha_stats));
}
