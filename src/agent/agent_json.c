/* ALBM agent: JSON form of a received report (jansson); a measurement's is proto/metrics_json.c */
#include "agent/agent_json.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent/overload.h"
#include "common/util.h"

json_t *albm_report_json(const struct albm_report *r)
{
	json_t *o = albm_metrics_json(&r->m);
	char boot[17];

	snprintf(boot, sizeof(boot), "%016llx", (unsigned long long)r->boot_id);
	json_object_set_new(o, "boot_id", json_string(boot));
	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)r->timestamp_ms));
	json_object_set_new(o, "interval_ms", json_integer((json_int_t)r->interval_ms));
	json_object_set_new(o, "version", json_integer(r->version));
	if (r->unknown_fields)
		json_object_set_new(o, "unknown_fields", json_integer(r->unknown_fields));
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
