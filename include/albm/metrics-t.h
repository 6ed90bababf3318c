/* ALBM: the agent's measurement of one server (types only, shared by agent, codec,
 * scheduler library, distributor and albmctl) */
#ifndef ALBM_METRICS_T_H
#define ALBM_METRICS_T_H

#include <stdbool.h>
#include <stdint.h>

#define ALBM_NAME_MAX 64 /* server / agent / service names, including the NUL */

enum albm_agent_state { ALBM_AGENT_OK = 0, ALBM_AGENT_OVERLOADED = 1 };

/*
 * One measurement, as albm-agent takes it and as a report carries it.  Keys of the
 * JSON form (`albm-agent --once --json`, `albmctl list --json` "agent") are the
 * field names below.
 */
struct albm_metrics {
	char name[ALBM_NAME_MAX];     /* server name the agent reports for */
	uint64_t mem_total_bytes;     /* host MemTotal, or the cgroup limit */
	uint64_t mem_available_bytes; /* MemAvailable, or limit - (usage - reclaimable) */
	double cpu_util;              /* 0.0-1.0 of the CPU capacity of host or cgroup */
	double load1;                 /* 1-minute load average */
	uint32_t run_queue;           /* runnable tasks (procs_running) */
	uint32_t tcp_established;     /* established TCP connections */
	enum albm_agent_state state;  /* the agent's overload decision (hysteresis) */
};

#endif
