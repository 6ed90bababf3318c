/* ALBM: albmctl — talk to albmd over its control socket */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/version.h"

#define CTL_DEFAULT_SOCKET "/run/albm/albmd.sock"
#define CTL_LINE_MAX       4096
#define CTL_REPLY_MAX      (64u << 20) /* a reply larger than this is not a reply */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: albmctl [-s SOCKET] [-t SECONDS] COMMAND [ARGS...]\n"
		"commands:\n"
		"  list [--json]                          services and servers (ipvsadm -L -n like)\n"
		"  stats [--json]                         daemon counters\n"
		"  weight SERVICE SERVER N                set a server's weight\n"
		"  drain|disable|enable SERVICE SERVER    administrative state\n"
		"  add SERVICE SERVER ADDR:PORT [weight N] [maxconn N]\n"
		"  remove SERVICE SERVER\n"
		"  scheduler SERVICE NAME                 change the scheduler at run time\n"
		"  reload                                 re-read the config (like SIGHUP)\n"
		"  ping | help\n"
		"The socket is %s unless -s or $ALBM_SOCKET says otherwise.\n"
		"Exit status: 0 ok, 1 the daemon answered ERR, 2 usage, 3 no connection.\n",
		CTL_DEFAULT_SOCKET);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "albmctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "albmctl: cannot connect to %s: %s (is albmd running? -s SOCKET)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until the reply's terminating empty line; returns the reply (malloc'd) or NULL. */
static char *read_reply(int fd, int timeout_ms)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		buf[len] = '\0';
		if ((len == 1 && buf[0] == '\n') || (len >= 2 && !strcmp(buf + len - 2, "\n\n")))
			return buf;
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			fprintf(stderr, "albmctl: no complete reply within %d ms\n", timeout_ms);
			break;
		}
		if (len + 1 >= cap) {
			char *nb;
			if (cap >= CTL_REPLY_MAX || !(nb = realloc(buf, cap * 2)))
				break;
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "albmctl: connection closed before the reply ended\n");
			break;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

/* Print a reply body; JSON bodies are pretty-printed. */
static void print_body(const char *body, bool json)
{
	if (json) {
		json_error_t e;
		json_t *j = json_loads(body, 0, &e);
		if (j) {
			json_dumpf(j, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(j);
			return;
		}
	}
	fputs(body, stdout);
}

static int build_line(int argc, char **argv, char *line, size_t len, bool *json)
{
	size_t used = 0;

	*json = false;
	for (int i = 0; i < argc; i++) {
		int n;
		if (strchr(argv[i], '\n') || strchr(argv[i], ' ') || !argv[i][0]) {
			fprintf(stderr,
				"albmctl: bad argument '%s' (empty, or contains a space or newline)\n",
				argv[i]);
			return -1;
		}
		if (!strcmp(argv[i], "--json"))
			*json = true;
		n = snprintf(line + used, len - used, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= len - used) {
			fprintf(stderr, "albmctl: command longer than %zu bytes\n", len - 2);
			return -1;
		}
		used += (size_t)n;
	}
	if (used + 2 > len)
		return -1;
	line[used++] = '\n';
	line[used] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("ALBM_SOCKET");
	char line[CTL_LINE_MAX + 2], *reply, *nl;
	int c, fd, timeout_ms = 10000, rc;
	bool json;

	albm_version_exit_if_asked(argc, argv, "albmctl");
	if (!sock || !*sock)
		sock = CTL_DEFAULT_SOCKET;
	/* '+': stop at the command, so that its own options (list --json) pass through */
	while ((c = getopt_long(argc, argv, "+s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 't': {
			char *end;
			double s = strtod(optarg, &end);
			if (*end || !(s > 0 && s <= 3600)) {
				fprintf(stderr, "albmctl: bad timeout '%s'\n", optarg);
				return 2;
			}
			timeout_ms = (int)(s * 1000);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (build_line(argc - optind, argv + optind, line, sizeof(line), &json) < 0)
		return 2;
	if ((fd = ctl_connect(sock)) < 0)
		return 3;
	if (send_all(fd, line, strlen(line)) < 0 || !(reply = read_reply(fd, timeout_ms))) {
		if (errno)
			fprintf(stderr, "albmctl: %s: %s\n", sock, strerror(errno));
		close(fd);
		return 3;
	}
	close(fd);
	nl = strchr(reply, '\n');
	*nl = '\0';
	rc = !strncmp(reply, "OK", 2) ? 0 : 1;
	if (rc) {
		fprintf(stderr, "albmctl: %s\n", !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
		fputs(nl + 1, stderr); /* details, e.g. the config errors of a failed reload */
	} else {
		nl[strlen(nl + 1)] = '\0'; /* drop the terminating empty line */
		print_body(nl + 1, json);
	}
	free(reply);
	return rc;
}
