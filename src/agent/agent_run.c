/* ALBM agent: the daemon loop (timerfd + poll) and the one-shot measurement */
#include "agent/agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/agent_json.h"
#include "agent/haproxy_agent.h"
#include "agent/metrics.h"
#include "agent/report_sender.h"
#include "common/log.h"
#include "common/util.h"

struct agent {
	const struct albm_agent_opts *opts;
	struct albm_cg cg;
	struct albm_sampler smp;
	struct albm_overload ov;
	struct albm_sender snd;
	bool have_sender;
	struct albm_metrics m;
	char line[ALBM_HAPROXY_LINE_MAX];
	unsigned failed_run; /* consecutive intervals without a measurement */
	int hfd, tfd, sfd;
};

/* Resolve --cgroup through /proc/self/mountinfo; 0 or -errno with err. */
static int agent_resolve_cgroup(const char *spec, struct albm_cg *cg, char *err, size_t errlen)
{
	struct albm_filebuf fb = { 0 };
	struct albm_cg_mounts *mnt = xcalloc(1, sizeof(*mnt));
	long n;
	int rc;

	n = albm_file_read("/proc/self/mountinfo", &fb, err, errlen);
	rc = n < 0 ? (int)n : albm_cg_parse_mountinfo(fb.p, mnt, err, errlen);
	if (!rc)
		rc = albm_cg_resolve(mnt, spec, cg, err, errlen);
	free(mnt);
	albm_filebuf_free(&fb);
	return rc;
}

/* Measurement set-up shared by the daemon and --once. */
static int agent_setup_sampler(struct agent *a, char *err, size_t errlen)
{
	const struct albm_agent_opts *o = a->opts;
	int rc;

	if (o->cgroup) {
		rc = agent_resolve_cgroup(o->cgroup, &a->cg, err, errlen);
		if (rc)
			return rc;
		if (!a->cg.mem_dir[0])
			LOG_WARN("cgroup %s has no memory controller: memory is measured host-wide",
				 a->cg.path);
		if (!a->cg.acct_dir[0])
			LOG_WARN("cgroup %s has no CPU accounting: CPU is measured host-wide",
				 a->cg.path);
		LOG_DEBUG("cgroup v%d: memory '%s', cpu '%s', cpuacct '%s'", a->cg.version,
			  a->cg.mem_dir, a->cg.cpu_dir, a->cg.acct_dir);
	}
	albm_sampler_init(&a->smp, o->name, o->proc_dir, o->cgroup ? &a->cg : NULL);
	a->smp.tcp_every_ns = o->tcp_every_ms * 1000000ull;
	return albm_sampler_take(&a->smp, albm_now_ns(), &a->m, err, errlen);
}

/* The JSON printed by --once --json and by --json in the daemon. */
static json_t *agent_json(const struct agent *a)
{
	json_t *j = albm_metrics_json(&a->m);

	json_object_set_new(j, "hard_limit", json_boolean(a->ov.hard));
	if (a->ov.why != ALBM_OVL_NONE)
		json_object_set_new(j, "overload_reason",
				    json_string(albm_overload_why_name(a->ov.why)));
	json_object_set_new(j, "weight_pct", json_integer(albm_overload_weight(&a->ov.cfg, &a->m)));
	json_object_set_new(j, "scope",
			    json_string(!a->opts->cgroup              ? "host"
					: a->cg.version == ALBM_CG_V1 ? "cgroup-v1"
								      : "cgroup-v2"));
	if (a->opts->cgroup)
		json_object_set_new(j, "cgroup", json_string(a->cg.path));
	json_object_set_new(j, "timestamp_ms", json_integer((json_int_t)albm_wall_ms()));
	return j;
}

int albm_agent_once(const struct albm_agent_opts *o)
{
	struct agent a = { .opts = o };
	struct albm_overload_cfg one = o->ov;
	struct timespec ts = { .tv_sec = (time_t)(o->interval_ms / 1000),
			       .tv_nsec = (long)(o->interval_ms % 1000) * 1000000L };
	char err[512];
	int rc;

	rc = agent_setup_sampler(&a, err, sizeof(err));
	if (!rc) {
		nanosleep(&ts, NULL);
		rc = albm_sampler_take(&a.smp, albm_now_ns(), &a.m, err, sizeof(err));
	}
	albm_sampler_free(&a.smp);
	if (rc) {
		LOG_ERR("%s", err);
		return 1;
	}
	/* One measurement has no history: it is judged on its own (K = 1). */
	one.samples = 1;
	one.cgroup_scope = o->cgroup != NULL;
	albm_overload_init(&a.ov, &one);
	albm_overload_update(&a.ov, &a.m);
	a.m.state = a.ov.state;
	if (o->json) {
		albm_json_print_line(agent_json(&a));
		return 0;
	}
	printf("%s: %s, memory %.1f%% available (%llu of %llu bytes), cpu %.1f%%, load1 %.2f, "
	       "run queue %u, tcp established %u\n",
	       a.m.name, albm_agent_state_name(a.m.state), albm_mem_available_pct(&a.m),
	       (unsigned long long)a.m.mem_available_bytes, (unsigned long long)a.m.mem_total_bytes,
	       100.0 * a.m.cpu_util, a.m.load1, a.m.run_queue, a.m.tcp_established);
	return 0;
}

static void agent_warn_key_mode(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & 077))
		LOG_WARN("key file %s is accessible by group or others (mode %03o); 0600 is "
			 "expected",
			 path, st.st_mode & 0777);
}

/* Sender, HAProxy listener, timer and signals; 0 or 1 with the error logged. */
static int agent_open(struct agent *a)
{
	const struct albm_agent_opts *o = a->opts;
	struct itimerspec its = { 0 };
	uint8_t key[ALBM_KEY_LEN];
	char err[512];
	sigset_t sigs;

	if (o->distributors) {
		if (albm_key_load(o->key_file, key, err, sizeof(err)) ||
		    albm_sender_init(&a->snd, o->distributors, key, (uint32_t)o->interval_ms, err,
				     sizeof(err)))
			goto fail;
		OPENSSL_cleanse(key, sizeof(key));
		a->snd.version = (uint8_t)o->report_version;
		a->have_sender = true;
		agent_warn_key_mode(o->key_file);
	}
	if (o->haproxy_listen) {
		a->hfd = albm_haproxy_listen(o->haproxy_listen, err, sizeof(err));
		if (a->hfd < 0)
			goto fail;
	}
	its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(o->interval_ms / 1000);
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(o->interval_ms % 1000) * 1000000L;
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->tfd < 0 || timerfd_settime(a->tfd, 0, &its, NULL)) {
		snprintf(err, sizeof(err), "timerfd: %s", strerror(errno));
		goto fail;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sfd >= 0)
		return 0;
	snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
fail:
	LOG_ERR("%s", err);
	return 1;
}

/* The overload decision changed: say why, with the signals it saw. */
static void agent_log_change(enum albm_agent_state before, const struct albm_overload *ov,
			     const struct albm_metrics *m)
{
	const struct albm_psi *psi = (m->present & ALBM_MET_CG_PSI(ALBM_PSI_MEMORY))
					     ? &m->cg_psi[ALBM_PSI_MEMORY]
					     : &m->host_psi[ALBM_PSI_MEMORY];
	bool have_psi = m->present &
			(ALBM_MET_CG_PSI(ALBM_PSI_MEMORY) | ALBM_MET_HOST_PSI(ALBM_PSI_MEMORY));

	LOG_INFO(
		"state %s -> %s%s%s%s: memory %.1f%% available, cpu %.1f%%, memory stall %s%.1f%%, "
		"major faults %.0f/s, OOM kills %llu",
		albm_agent_state_name(before), albm_agent_state_name(ov->state),
		ov->why ? " (" : "", albm_overload_why_name(ov->why), ov->why ? ")" : "",
		albm_mem_available_pct(m), 100.0 * m->cpu_util, have_psi ? "" : "n/a ",
		have_psi ? psi->full_pct : 0.0, m->majfault_rate, (unsigned long long)m->oom_kills);
}

/* One interval: measure, decide, report (so a state change leaves at once). */
static void agent_tick(struct agent *a)
{
	enum albm_agent_state before = a->ov.state;
	struct albm_metrics m = a->m;
	char err[512];
	uint64_t ticks, kills;

	if (read(a->tfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	if (albm_sampler_take(&a->smp, albm_now_ns(), &m, err, sizeof(err))) {
		LOG_RL(ALBM_LOG_ERR, "measurement failed, no report this interval: %s", err);
		/* K intervals blind (the cgroup is gone?): HAProxy must not keep the last
		 * "ready up"; the distributor sees the reports stop. */
		if (++a->failed_run >= a->ov.cfg.samples)
			albm_haproxy_format_blind(a->line, sizeof(a->line));
		return;
	}
	a->failed_run = 0;
	kills = a->ov.oom_kills;
	/* A change of state is logged; so is an OOM kill in a server already overloaded
	 * (for another reason): it starts the hold and an operator wants to see it. */
	if (albm_overload_update(&a->ov, &m) ||
	    (a->ov.why == ALBM_OVL_OOM_KILL && a->ov.oom_kills != kills))
		agent_log_change(before, &a->ov, &m);
	m.state = a->ov.state;
	a->m = m;
	if (a->have_sender && albm_sender_send(&a->snd, &a->m) < 0)
		LOG_RL(ALBM_LOG_ERR, "report for '%s' could not be encoded", a->m.name);
	albm_haproxy_format(&a->ov, &a->m, a->line, sizeof(a->line));
	if (a->opts->json)
		albm_json_print_line(agent_json(a));
}

static void agent_close(struct agent *a)
{
	if (a->have_sender)
		albm_sender_free(&a->snd);
	if (a->hfd >= 0)
		close(a->hfd);
	if (a->tfd >= 0)
		close(a->tfd);
	if (a->sfd >= 0)
		close(a->sfd);
	albm_sampler_free(&a->smp);
}

int albm_agent_run(const struct albm_agent_opts *o)
{
	struct agent a = { .opts = o, .hfd = -1, .tfd = -1, .sfd = -1 };
	struct albm_overload_cfg cfg = o->ov;
	struct pollfd pfd[3];
	char err[512];
	int rc = 1;

	cfg.cgroup_scope = o->cgroup != NULL;
	albm_overload_init(&a.ov, &cfg);
	if (agent_setup_sampler(&a, err, sizeof(err))) {
		LOG_ERR("%s", err);
		goto out;
	}
	if (agent_open(&a))
		goto out;
	a.m.state = a.ov.state;
	albm_haproxy_format(&a.ov, &a.m, a.line, sizeof(a.line));
	LOG_INFO("'%s' measuring %s every %llu ms, reporting to %s%s%s", o->name,
		 o->cgroup ? a.cg.path : "the host", (unsigned long long)o->interval_ms,
		 o->distributors ? o->distributors : "no distributor",
		 o->haproxy_listen ? ", HAProxy agent-check on " : "",
		 o->haproxy_listen ? o->haproxy_listen : "");
	pfd[0] = (struct pollfd){ .fd = a.sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = a.tfd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = a.hfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, a.hfd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR) {
			LOG_ERR("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents) {
			LOG_INFO("signal received, exiting");
			rc = 0;
			break;
		}
		if (pfd[1].revents)
			agent_tick(&a);
		if (a.hfd >= 0 && pfd[2].revents)
			albm_haproxy_serve(a.hfd, a.line);
	}
out:
	agent_close(&a);
	return rc;
}
