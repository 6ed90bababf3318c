/* ALBM: albmd's /metrics — Prometheus text exposition format
 *
 * One family per quantity, labelled by service and server; states are exposed as
 * one gauge per possible state (1 for the current one), the Prometheus convention
 * for enums.  The families are the lines of the statistics table (stats.c) plus
 * what each data plane adds through its metrics hook (e.g. albm_dr_*).  Names and
 * labels are documented in docs/albmd.md.
 */
#include "common/version.h"
#include "distributor/ha.h"
#include "distributor/state.h"
#include "distributor/stats.h"

void albmd_metrics(struct albmd *d, struct albmd_buf *b)
{
	albmd_stats_write_metrics(d, b, albmd_stats, albmd_nstats);
	/* the version is a label, not a number: outside the table */
	albmd_buf_printf(b,
			 "# HELP albm_build_info albmd's version in the label; always 1\n"
			 "# TYPE albm_build_info gauge\nalbm_build_info{version=\"%s\"} 1\n",
			 albm_version());
	for (size_t i = 0; i < albmd_dataplane_count(); i++) {
		const struct albmd_dataplane_ops *dp = albmd_dataplane_at(i);
		if (dp->metrics)
			dp->metrics(d, b);
	}
	albmd_ha_metrics(d, b);
}
