/* ALBM: albmd, the load distributor — command line, start-up, signals, shutdown */
#define LOG_COMPONENT NULL
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "distributor/access_log.h"
#include "distributor/admin_http.h"
#include "distributor/agents.h"
#include "distributor/control.h"
#include "distributor/fdlimit.h"
#include "distributor/ha.h"
#include "distributor/history.h"
#include "distributor/memguard.h"
#include "distributor/privs.h"
#include "distributor/reload.h"
#include "distributor/service.h"
#include "distributor/state_log.h"
#include "distributor/proxy/proxy.h"
#include "distributor/worker.h"
#include "proto/report.h"
#include "sched/sched.h"

struct opts {
	const char *config;
	bool check, daemon, syslog;
	enum albm_log_level level;
	const char *pid_file;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: albmd -f FILE [--daemon] [--syslog] [--log-level LEVEL] [--pid-file PATH]\n"
		"       albmd --check -f FILE     validate a config: exit 0, or print file:line errors\n"
		"       albmd --list-schedulers | --version\n"
		"Runs in the foreground and logs to stderr unless --daemon (which logs to syslog).\n"
		"Signals: SIGHUP reloads FILE; SIGTERM/SIGINT stop accepting and drain connections.\n"
		"Under systemd (Type=notify) albmd reports ready once its listeners are up.\n"
		"Docs: albmd(8), albmd.conf(5), docs/albmd.md, docs/config.md.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "syslog", no_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "list-schedulers", no_argument, NULL, 'L' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:cdl:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->config = optarg;
			break;
		case 'c':
			o->check = true;
			break;
		case 'd':
			o->daemon = true;
			break;
		case 's':
			o->syslog = true;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'l':
			if (albm_log_parse_level(optarg, &o->level) < 0) {
				fprintf(stderr,
					"albmd: bad log level '%s' (error|warn|info|debug)\n",
					optarg);
				return 2;
			}
			break;
		case 'L':
			for (size_t i = 0; i < albm_sched_count(); i++)
				printf("%s\n", albm_sched_at(i)->name);
			return 0;
		case 'V':
			albm_version_print("albmd");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !o->config) {
		usage(stderr);
		return 2;
	}
	return -1; /* go on */
}

/* --check: the config and the files it names. */
static int check_config(const struct albmd_config *cfg)
{
	uint8_t key[ALBM_KEY_LEN];
	char token[ALBMD_HTTP_TOKEN_MAX];
	char e[512];

	if (cfg->has_agents && albm_key_load(cfg->key_file, key, e, sizeof(e)) < 0) {
		fprintf(stderr, "%s:%d: key-file: %s\n", cfg->path, cfg->key_file_line, e);
		return 1;
	}
	if (cfg->has_ha && albm_key_load(cfg->ha.key_file, key, e, sizeof(e)) < 0) {
		fprintf(stderr, "%s:%d: key-file: %s\n", cfg->path, cfg->ha.key_file_line, e);
		return 1;
	}
	if (cfg->has_http && cfg->http_token_file[0] &&
	    albmd_admin_token_load(cfg->http_token_file, token, sizeof(token), e, sizeof(e)) < 0) {
		fprintf(stderr, "%s:%d: %s\n", cfg->path, cfg->http_token_line, e);
		return 1;
	}
	printf("%s: configuration ok (%zu service%s)\n", cfg->path, cfg->nservices,
	       cfg->nservices == 1 ? "" : "s");
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static void write_pid_file(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		LOG_WARN("pid file %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* ---- signals and timers of the main loop ---- */

struct main_ctx {
	struct evl_io sig;
	struct evl_timer drain;
	struct evl_timer linger;
};

static struct main_ctx g_main;

static void main_tick(struct evl *loop, struct evl_timer *t)
{
	struct albmd *d = evl_data(loop);

	albmd_memguard_tick(d); /* its own state and d->hot: no lock */
	albmd_lock(d);
	albmd_services_tick(d);
	albmd_agents_tick(d);
	albmd_history_tick(d, albm_now_ms());
	albmd_state_log_tick(d, albm_now_ms());
	albmd_unlock(d);
	evl_timer_start(loop, t, ALBMD_TICK_MS, main_tick);
}

static void drain_check(struct evl *loop, struct evl_timer *t)
{
	struct albmd *d = evl_data(loop);
	uint64_t live = ALBMD_STAT_GET(d->st.conns_current);

	if (live == 0 || albm_now_ms() >= d->drain_deadline_ms) {
		if (live)
			LOG_WARN("drain timeout: closing %llu connection(s)",
				 (unsigned long long)live);
		evl_stop(loop);
		return;
	}
	evl_timer_start(loop, t, 100, drain_check);
}

/* The drain proper: the services stop taking new connections, live ones go on. */
static void stop_services(struct evl *loop, struct evl_timer *t)
{
	struct albmd *d = evl_data(loop);

	(void)t;
	d->drain_deadline_ms = albm_now_ms() + d->cfg.drain_timeout_ms;
	LOG_INFO("stopping: no new connections, draining %llu live one(s) for up to %llu ms",
		 (unsigned long long)ALBMD_STAT_GET(d->st.conns_current),
		 (unsigned long long)d->cfg.drain_timeout_ms);
	albmd_lock(d);
	for (size_t i = 0; i < d->nservices; i++)
		if (d->services[i]->dp && d->services[i]->dp->stop)
			d->services[i]->dp->stop(d, d->services[i]);
	albmd_unlock(d);
	evl_timer_start(d->loop, &g_main.drain, 0, drain_check);
}

/* Withdraw what the planes announce (the routers stop sending us new flows), serve on
 * for announce-linger while they converge, then stop (docs/ha.md). */
static void start_drain(struct albmd *d)
{
	bool withdrawn = false;

	if (d->draining) { /* a second signal: stop now */
		evl_stop(d->loop);
		return;
	}
	d->draining = true;
	albmd_lock(d);
	for (size_t i = 0; i < albmd_dataplane_count(); i++)
		if (albmd_dataplane_at(i)->withdraw && albmd_dataplane_at(i)->withdraw(d))
			withdrawn = true;
	albmd_unlock(d);
	if (withdrawn && d->cfg.announce_linger_ms)
		LOG_INFO("stopping: announced VIPs withdrawn; serving on for %llu ms while the "
			 "routers converge",
			 (unsigned long long)d->cfg.announce_linger_ms);
	evl_timer_start(d->loop, &g_main.linger, withdrawn ? d->cfg.announce_linger_ms : 0,
			stop_services);
}

/* ---- systemd (Type=notify): nothing is sent when NOTIFY_SOCKET is not set ---- */

static void notify_ready(struct albmd *d)
{
	sd_notifyf(0, "READY=1\nSTATUS=%zu service(s), %u worker(s), control %s", d->nservices,
		   d->nworkers, albmd_control_path(d->control));
}

/* While a reload runs; systemd >= 253 (Type=notify-reload) wants the time with it. */
static void notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
}

static void on_signal(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd *d = evl_data(loop);
	struct signalfd_siginfo si;
	char err[2048];

	(void)revents;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP && !d->draining) {
			notify_reloading();
			albmd_reload(d, err, sizeof(err));
			notify_ready(d);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			sd_notify(0, "STOPPING=1\nSTATUS=draining connections");
			start_drain(d);
		}
	}
}

static int setup_signals(struct albmd *d)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return evl_add(d->loop, &g_main.sig, fd, EPOLLIN, on_signal);
}

/* ---- start-up and shutdown ---- */

static int start(struct albmd *d, struct albmd_config *cfg, char *err, size_t errlen)
{
	/* the data planes that run in the workers */
	static const struct albmd_worker_plane *const planes[] = { &albmd_proxy_plane };
	int rc;

	evl_timer_init(&d->tick);
	evl_timer_init(&g_main.drain);
	evl_timer_init(&g_main.linger);
	if (!(d->loop = evl_create(err, errlen)))
		return -ENOMEM;
	evl_set_data(d->loop, d);
	albmd_memguard_open(d);
	if ((rc = setup_signals(d)) < 0) {
		albm_seterr(err, errlen, "signalfd: %s", strerror(-rc));
		return rc;
	}
	if ((rc = albmd_workers_create(d, cfg->workers, planes, ARRAY_SIZE(planes), err, errlen)) <
	    0)
		return rc;
	if (!(d->control = albmd_control_open(cfg->control_socket, err, errlen)))
		return -EINVAL;
	albmd_control_start(d, d->control);
	snprintf(d->cfg.control_socket, sizeof(d->cfg.control_socket), "%s", cfg->control_socket);
	d->cfg.workers = cfg->workers;
	if ((rc = albmd_apply_config(d, cfg, err, errlen)) < 0)
		return rc;
	if ((rc = albmd_workers_start(d, err, errlen)) < 0)
		return rc;
	evl_timer_start(d->loop, &d->tick, ALBMD_TICK_MS, main_tick);
	return 0;
}

static void shutdown_all(struct albmd *d)
{
	if (!d->loop)
		return;
	albmd_lock(d);
	for (size_t i = 0; i < d->nservices; i++)
		albmd_service_withdraw(d, d->services[i]);
	d->nservices = 0;
	albmd_unlock(d);
	if (d->workers)
		albmd_workers_destroy(d);
	albmd_agents_close(d, d->agents);
	d->agents = NULL;
	albmd_ha_close(d, d->ha); /* after the services: their rings' last flows go out */
	albmd_admin_close(d, d->admin);
	albmd_control_close(d, d->control);
	albmd_alog_install(d, NULL); /* the workers have let it go */
	albmd_memguard_close(d);
	if (g_main.sig.fd >= 0) {
		int fd = g_main.sig.fd;
		evl_del(d->loop, &g_main.sig);
		close(fd);
	}
	evl_timer_stop(d->loop, &d->tick);
	evl_timer_stop(d->loop, &g_main.drain);
	evl_timer_stop(d->loop, &g_main.linger);
	evl_destroy(d->loop);
	albmd_history_close(d);
	free(d->services);
	albmd_lock_done(d);
	albmd_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	struct opts o = { .level = ALBM_LOG_INFO };
	struct albmd_config cfg;
	static struct albmd d;
	char err[4096];
	int rc = parse_opts(argc, argv, &o);

	if (rc >= 0)
		return rc;
	albm_log_init("albmd", o.level);
	if (albmd_config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (o.check) {
		rc = check_config(&cfg);
		albmd_config_free(&cfg);
		return rc;
	}
	/* before anything is opened: a missing capability is named, not a bare EPERM */
	if (albmd_privs_check(&cfg, err, sizeof(err)) < 0) {
		LOG_ERR("%s", err);
		albmd_config_free(&cfg);
		return 1;
	}
	albmd_fd_limit_raise(&cfg);
	if (o.daemon && daemonize() < 0)
		LOG_FATAL("daemon: %s", strerror(errno));
	if (o.daemon || o.syslog)
		albm_log_use_syslog(true);
	pthread_mutex_init(&d.lock, NULL);
	d.start_ms = albm_now_ms();
	g_main.sig.fd = -1;
	if (start(&d, &cfg, err, sizeof(err)) < 0) {
		LOG_ERR("%s", err);
		albmd_config_free(&cfg);
		shutdown_all(&d);
		return 1;
	}
	if (o.pid_file || d.cfg.pid_file[0])
		write_pid_file(o.pid_file ? o.pid_file : d.cfg.pid_file);
	LOG_INFO("started: %zu service(s), %u worker(s), control %s", d.nservices, d.nworkers,
		 albmd_control_path(d.control));
	notify_ready(&d); /* listeners bound, data planes attached, workers running */
	evl_run(d.loop);
	LOG_INFO("stopped");
	shutdown_all(&d);
	if (o.pid_file || cfg.pid_file[0])
		unlink(o.pid_file ? o.pid_file : cfg.pid_file);
	return 0;
}
