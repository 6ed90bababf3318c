/* ALBM: the agent's measurement of one server (types only, shared by agent, codec,
 * scheduler library, distributor and albmctl) */
#ifndef ALBM_METRICS_T_H
#define ALBM_METRICS_T_H

#include <stdbool.h>
#include <stdint.h>

#define ALBM_NAME_MAX 64 /* server / agent / service names, including the NUL */

enum albm_agent_state {
	ALBM_AGENT_OK = 0,
	ALBM_AGENT_OVERLOADED = 1
};

/* ---- optional stall signals (report version 2; docs/agent.md, docs/protocol.md) ---- */

/* Linux pressure stall information (PSI) for one resource, in percent of wall time. */
struct albm_psi {
	double some_avg10; /* the kernel's 10 s average: at least one task stalled */
	double full_avg10; /* ... all non-idle tasks stalled at once (no progress at all) */
	double some_pct;   /* the same two over the agent's last interval, from the */
	double full_pct;   /* cumulative "total" stall time (0 on the first sample) */
};

enum albm_psi_res {
	ALBM_PSI_MEMORY = 0,
	ALBM_PSI_CPU = 1,
	ALBM_PSI_IO = 2,
	ALBM_PSI_NRES = 3
};

/* Bits of struct albm_metrics.present: which optional fields were measured. */
#define ALBM_MET_HOST_PSI(res) (1u << (res))       /* host_psi[res]: /proc/pressure/<res> */
#define ALBM_MET_CG_PSI(res)   (1u << (3 + (res))) /* cg_psi[res]: the cgroup's <res>.pressure */
#define ALBM_MET_MAJFAULT      (1u << 6)           /* majfault_rate */
#define ALBM_MET_OOM_KILLS     (1u << 7)           /* oom_kills */
#define ALBM_MET_ALL           0xffu

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

	/* Optional stall signals: only the fields whose ALBM_MET_* bit is set in present
	 * were measured (a kernel without PSI, a cgroup without the file; and reports of
	 * version 1 carry none).  The scope is the agent's: its cgroup, or the host. */
	uint32_t present;
	struct albm_psi host_psi[ALBM_PSI_NRES]; /* /proc/pressure/{memory,cpu,io} */
	struct albm_psi cg_psi[ALBM_PSI_NRES];   /* the cgroup's {memory,cpu,io}.pressure (v2) */
	double majfault_rate; /* major page faults per second over the last interval: pages
			       * read back from swap or from files evicted under pressure */
	uint64_t oom_kills;   /* processes the OOM killer has killed in the scope (cumulative) */
};

#endif
