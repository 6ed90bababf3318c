/* ALBM agent: JSON forms of a measurement and of a received report (jansson) */
#include "agent/agent_json.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent/overload.h"
#include "common/util.h"

const char *albm_agent_state_name(enum albm_agent_state st)
{
	return st == ALBM_AGENT_OVERLOADED ? "overloaded" : "ok";
}

json_t *albm_metrics_json(const struct albm_metrics *m)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:s}",
			      "name", m->name,
			      "mem_total_bytes", (json_int_t)m->mem_total_bytes,
			      "mem_available_bytes", (json_int_t)m->mem_available_bytes,
			      "mem_available_pct", albm_mem_available_pct(m),
			      "cpu_util", m->cpu_util,
			      "load1", m->load1,
			      "run_queue", (json_int_t)m->run_queue,
			      "tcp_established", (json_int_t)m->tcp_established,
			      "state", albm_agent_state_name(m->state));

	if (!o) { /* only on out-of-memory */
		fprintf(stderr, "albm: out of memory building JSON\n");
		abort();
	}
	return o;
}

json_t *albm_report_json(const struct albm_report *r)
{
	json_t *o = albm_metrics_json(&r->m);
	char boot[17];

	snprintf(boot, sizeof(boot), "%016llx", (unsigned long long)r->boot_id);
	json_object_set_new(o, "boot_id", json_string(boot));
	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)r->timestamp_ms));
	json_object_set_new(o, "interval_ms", json_integer((json_int_t)r->interval_ms));
	return o;
}

void albm_json_print_line(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s) {
		puts(s);
		free(s);
	}
	fflush(stdout);
	json_decref(obj);
}
