/* ALBM test tool: hold a VIP on a non-persistent tun device (dr_announce), driven from stdin */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "dr/dr_announce.h"

/*
 * Usage: vip_announce IFNAME [ADDR...]
 * Creates IFNAME with the addresses, prints "ready", then reads commands, one a line,
 * each answered by "ok" or "error: MESSAGE":
 *   add ADDR | del ADDR    put an address on the device / take it off
 *   close                  close the device (withdraw everything) and keep running
 *   quit                   exit (so does end of input; so does any signal)
 * The stand-in for albmd's announcement in the HA testbed (lab/hanet, tests 6xx).
 */

static int change(struct dr_announce *a, const char *text, int add, char *err, size_t len)
{
	struct albm_addr vip;

	if (albm_addr_parse_host(text, &vip, err, len) < 0)
		return -1;
	return add ? dr_announce_add(a, &vip, err, len) : dr_announce_del(a, &vip, err, len);
}

int main(int argc, char **argv)
{
	char line[256], err[256];
	struct dr_announce *a;

	if (argc < 2) {
		fprintf(stderr, "usage: vip_announce IFNAME [ADDR...]\n");
		return 2;
	}
	a = dr_announce_open(argv[1], err, sizeof(err));
	if (!a) {
		fprintf(stderr, "vip_announce: %s\n", err);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (change(a, argv[i], 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "vip_announce: %s\n", err);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char *arg = strchr(line, ' ');
		int rc = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if (arg)
			*arg++ = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		if (strcmp(line, "close") == 0) {
			dr_announce_close(a);
			a = NULL;
		} else if (a && arg && (!strcmp(line, "add") || !strcmp(line, "del"))) {
			rc = change(a, arg, line[0] == 'a', err, sizeof(err));
		} else {
			snprintf(err, sizeof(err), "unknown command or device closed");
			rc = -1;
		}
		printf(rc < 0 ? "error: %s\n" : "ok\n", err);
		fflush(stdout);
	}
	dr_announce_close(a);
	return 0;
}
