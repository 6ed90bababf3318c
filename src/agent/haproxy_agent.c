/* ALBM agent: HAProxy agent-check responder — one status line per TCP connection */
#include "agent/haproxy_agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_COMPONENT "haproxy-agent"
#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"

void albm_haproxy_format(const struct albm_overload *o, const struct albm_metrics *m, char *buf,
			 size_t len)
{
	if (o->hard)
		snprintf(buf, len, "drain down #memory below hard limit\n");
	else if (o->state == ALBM_AGENT_OVERLOADED)
		snprintf(buf, len, "drain up\n");
	else
		snprintf(buf, len, "ready up %u%%\n", albm_overload_weight(&o->cfg, m));
}

void albm_haproxy_format_blind(char *buf, size_t len)
{
	snprintf(buf, len, "drain down #no measurement\n");
}

int albm_haproxy_listen(const char *text, char *err, size_t errlen)
{
	struct albm_addr a;
	char msg[160];
	int fd, one = 1, rc;

	if (albm_addr_parse(text, &a, msg, sizeof(msg))) {
		albm_seterr(err, errlen, "--haproxy-listen '%s': %s", text, msg);
		return -EINVAL;
	}
	fd = socket(albm_addr_family(&a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "--haproxy-listen %s: socket(): %s", text,
			    strerror(errno));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.u.sa, a.len) || listen(fd, 64)) {
		rc = -errno;
		albm_seterr(err, errlen, "--haproxy-listen %s: %s", text, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* Answer one connection.  Whatever HAProxy sent (agent-send) is read first, so that
 * closing does not turn into a reset that could discard the reply. */
static void haproxy_answer(int fd, const char *line)
{
	char junk[512];

	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	if (send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		LOG_RL(ALBM_LOG_WARN, "agent-check reply: send(): %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	close(fd);
}

void albm_haproxy_serve(int lfd, const char *line)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			haproxy_answer(fd, line);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			LOG_RL(ALBM_LOG_WARN, "agent-check: accept(): %s", strerror(errno));
		return;
	}
}
