/* ALBM agent: options shared by the command line and the three modes of albm-agent */
#ifndef ALBM_AGENT_AGENT_H
#define ALBM_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/overload.h"
#include "albm/metrics-t.h"

struct albm_agent_opts {
	char name[ALBM_NAME_MAX];
	const char *distributors; /* "HOST:PORT[,...]" or NULL */
	const char *key_file;
	const char *cgroup; /* NULL: host-wide */
	const char *haproxy_listen;
	const char *proc_dir; /* "/proc" (tests point it at fixtures) */
	uint64_t interval_ms;
	uint64_t tcp_every_ms; /* recount TCP connections this often */
	struct albm_overload_cfg ov;
	uint64_t oom_hold_ms;    /* --oom-hold; ov.oom_hold is it in samples */
	unsigned report_version; /* --report-version: 2, or 1 for distributors that
				  * predate the optional fields */
	bool json;               /* print measurements as JSON lines */
	/* --decode-from (test decoder) */
	const char *decode_from;
	uint64_t max_age_ms;
	uint64_t count; /* exit after this many accepted reports; 0 = never */
};

/* The daemon: sample every interval, decide, report, answer HAProxy. Exit code. */
int albm_agent_run(const struct albm_agent_opts *o);
/* --once: one measurement over one interval, printed (JSON with --json). Exit code. */
int albm_agent_once(const struct albm_agent_opts *o);
/* --decode-from: print every report received as a JSON line. Exit code. */
int albm_agent_decode(const struct albm_agent_opts *o);

#endif
