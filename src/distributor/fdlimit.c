/* ALBM: albmd's file-descriptor budget — raise RLIMIT_NOFILE, warn when maxconn exceeds it
 *
 * HAProxy derives its descriptor limit from maxconn; albmd takes what the hard limit
 * allows (systemd's LimitNOFILE= in albmd.service) and says so when the config asks
 * for more, instead of failing later with EMFILE under load.
 */
#include "distributor/fdlimit.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"

#define FD_PER_CONN        2 /* client and server socket */
#define FD_PER_CONN_SPLICE 4 /* a pipe each way while splicing */
/* stdio, signalfd, timers, agents, control and admin
 * listeners, logs, the DR plane's maps */
#define FD_FIXED           32
#define FD_ADMIN_CLIENTS   (64 + 64) /* control_sock.c's and admin_http.c's client caps */
#define FD_PER_WORKER      8         /* epoll, eventfd, syslog socket */
#define FD_ACCEPT_SLACK    (2 * 16)  /* a worker's accept batch, admitted before it counts */
#define FD_PIPE_POOL       (2 * 128) /* relay.c's pipe pool per worker */

/* The connection limit in force: the global maxconn, else the sum of the services'
 * (when every service has one); 0 = unlimited. */
static uint64_t conn_limit(const struct albmd_config *cfg)
{
	uint64_t sum = 0;

	if (cfg->maxconn)
		return cfg->maxconn;
	for (size_t i = 0; i < cfg->nservices; i++) {
		if (cfg->services[i].mode != ALBMD_MODE_PROXY)
			continue;
		if (!cfg->services[i].maxconn)
			return 0;
		sum += cfg->services[i].maxconn;
	}
	return sum;
}

uint64_t albmd_fd_reserve(const struct albmd_config *cfg, unsigned workers)
{
	uint64_t fixed = FD_FIXED + FD_ADMIN_CLIENTS;

	if (!workers)
		workers = cfg->workers ? cfg->workers : 1;
	fixed += (uint64_t)workers * (FD_PER_WORKER + FD_ACCEPT_SLACK);
	for (size_t i = 0; i < cfg->nservices; i++)
		fixed += workers + cfg->services[i].nservers; /* listeners, health checks */
	return fixed;
}

uint64_t albmd_fd_need(const struct albmd_config *cfg)
{
	uint64_t conns = conn_limit(cfg), per_conn = FD_PER_CONN;
	unsigned workers = cfg->workers ? cfg->workers : 1;

	if (!conns)
		return 0;
	if (cfg->splice)
		per_conn += FD_PER_CONN_SPLICE;
	return conns * per_conn + albmd_fd_reserve(cfg, workers) +
	       (cfg->splice ? (uint64_t)workers * FD_PIPE_POOL : 0);
}

uint64_t albmd_fd_budget(const struct albmd_config *cfg, unsigned workers)
{
	uint64_t reserve = albmd_fd_reserve(cfg, workers);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX / 4;
	if (rl.rlim_cur < 2 * reserve) /* a tiny limit: still serve a few clients */
		return rl.rlim_cur / 4 > FD_PER_CONN ? rl.rlim_cur / 4 : FD_PER_CONN;
	return rl.rlim_cur - reserve;
}

uint64_t albmd_fd_limit_raise(const struct albmd_config *cfg)
{
	uint64_t need = albmd_fd_need(cfg);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		LOG_WARN("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return 0;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
		else
			LOG_WARN("raising RLIMIT_NOFILE to %llu: %s",
				 (unsigned long long)rl.rlim_max, strerror(errno));
	}
	if (need > rl.rlim_cur)
		LOG_WARN(
			"file descriptors: the limit is %llu but the config allows %llu connections, "
			"which may need %llu (2 per connection%s, plus listeners and pools); "
			"raise the hard limit (systemd: LimitNOFILE=; shell: ulimit -Hn) or lower "
			"maxconn",
			(unsigned long long)rl.rlim_cur, (unsigned long long)conn_limit(cfg),
			(unsigned long long)need, cfg->splice ? ", 4 more while splicing" : "");
	else
		LOG_DEBUG("file descriptors: limit %llu, the config may need %llu",
			  (unsigned long long)rl.rlim_cur, (unsigned long long)need);
	return rl.rlim_cur;
}
