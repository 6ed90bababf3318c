/* ALBM: albm-httpd's view of its memory environment — cgroup limit, swap, RSS */
#ifndef ALBM_LAB_HTTPD_ENV_H
#define ALBM_LAB_HTTPD_ENV_H

#include <stdint.h>

/*
 * Best effort, for the startup log and /stats: the lab decides whether overload
 * really pages by putting the server in a memory-limited cgroup with swap, and
 * this is how the server can tell (and say) which situation it is in.
 */
struct httpd_env {
	uint64_t mem_limit;  /* cgroup memory limit in bytes, 0 = none found */
	uint64_t swap_total; /* SwapTotal of the host, bytes */
	uint64_t rss;        /* this process's resident set, bytes */
};

void httpd_env_read(struct httpd_env *e);

#endif
