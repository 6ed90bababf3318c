/* ALBM test tool: attach the DR XDP program to an interface and drive it with commands on stdin */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "dr/dr.h"

/*
 * Usage: dr_attach --if IFNAME [--mode generic|native] [--conn-max N]
 * Prints "ready" once attached, then reads one command per line and answers with
 * zero or more data lines followed by "ok" or "error: MESSAGE":
 *   vip ADDR:PORT                     add a VIP
 *   delvip ADDR:PORT                  remove it
 *   reals ADDR:PORT [IP[=WEIGHT]]...  set the VIP's reals (MACs resolved on IFNAME,
 *                                     weight 1 by default); data: "real IP INDEX MAC"
 *   stats                             data: "stat NAME VALUE" for every counter
 *   real ADDR:PORT IP                 data: "real IP pkts bytes new_flows closed_flows"
 *   flush                             forget every pinned flow
 *   quit                              detach and exit (so does end of input)
 * The program stays attached for as long as this process lives (BPF link).
 */

#define MAX_REALS 64

static const char *ifname;

static int cmd_vip(struct albm_dr *dr, char *arg, int add, char *err, size_t errlen)
{
	struct albm_addr vip;

	if (!arg || albm_addr_parse(arg, &vip, err, errlen) < 0)
		return arg ? -EINVAL : (albm_seterr(err, errlen, "usage: vip ADDR:PORT"), -EINVAL);
	return add ? dr_add_vip(dr, &vip, err, errlen) : dr_del_vip(dr, &vip, err, errlen);
}

/* "IP" or "IP=WEIGHT" -> r (MAC resolved on ifname). */
static int parse_real(char *tok, struct dr_real *r, char *err, size_t errlen)
{
	char *eq = strchr(tok, '=');
	uint64_t w = 1;

	memset(r, 0, sizeof(*r));
	if (eq) {
		*eq = '\0';
		if (albm_parse_u64(eq + 1, &w) < 0 || w > UINT32_MAX) {
			albm_seterr(err, errlen, "real %s: bad weight '%s'", tok, eq + 1);
			return -EINVAL;
		}
	}
	if (albm_addr_parse_host(tok, &r->addr, err, errlen) < 0)
		return -EINVAL;
	r->weight = (uint32_t)w;
	return dr_resolve_mac(ifname, &r->addr, r->mac, 3000, err, errlen);
}

static int cmd_reals(struct albm_dr *dr, char *arg, char *err, size_t errlen)
{
	struct dr_real reals[MAX_REALS];
	char *tok, *save = NULL, host[ALBM_ADDRSTRLEN];
	struct albm_addr vip;
	size_t n = 0;
	int rc;

	tok = arg ? strtok_r(arg, " \t", &save) : NULL;
	if (!tok || albm_addr_parse(tok, &vip, err, errlen) < 0)
		return tok ? -EINVAL
			   : (albm_seterr(err, errlen, "usage: reals VIP [IP[=W]]..."), -EINVAL);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (n == MAX_REALS) {
			albm_seterr(err, errlen, "at most %d reals", MAX_REALS);
			return -E2BIG;
		}
		rc = parse_real(tok, &reals[n++], err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = dr_set_reals(dr, &vip, reals, n, err, errlen);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const uint8_t *m = reals[i].mac;

		printf("real %s %u %02x:%02x:%02x:%02x:%02x:%02x\n",
		       albm_addr_format_host(&reals[i].addr, host, sizeof(host)), reals[i].index,
		       m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	return rc;
}

static int cmd_stats(struct albm_dr *dr)
{
	uint64_t vals[64];
	size_t n = ALBM_MIN(dr_stat_count(), ARRAY_SIZE(vals));
	int rc = dr_read_stats(dr, vals, n);

	for (size_t i = 0; i < n && rc == 0; i++)
		printf("stat %s %llu\n", dr_stat_name(i), (unsigned long long)vals[i]);
	return rc;
}

static int cmd_real(struct albm_dr *dr, char *arg, char *err, size_t errlen)
{
	char *vtok, *rtok, *save = NULL;
	struct albm_addr vip, real;
	struct dr_real_stats st;
	int rc;

	vtok = arg ? strtok_r(arg, " \t", &save) : NULL;
	rtok = vtok ? strtok_r(NULL, " \t", &save) : NULL;
	if (!rtok) {
		albm_seterr(err, errlen, "usage: real VIP IP");
		return -EINVAL;
	}
	if (albm_addr_parse(vtok, &vip, err, errlen) < 0 ||
	    albm_addr_parse_host(rtok, &real, err, errlen) < 0)
		return -EINVAL;
	rc = dr_read_real_stats(dr, &vip, &real, &st);
	if (rc < 0)
		albm_seterr(err, errlen, "real %s of %s: %s", rtok, vtok, strerror(-rc));
	else
		printf("real %s %llu %llu %llu %llu\n", rtok, (unsigned long long)st.pkts,
		       (unsigned long long)st.bytes, (unsigned long long)st.new_flows,
		       (unsigned long long)st.closed_flows);
	return rc;
}

/* One command line; returns 1 for quit. */
static int run_line(struct albm_dr *dr, char *line)
{
	char err[512] = "", *save = NULL, *cmd, *arg;
	int rc;

	line[strcspn(line, "\r\n")] = '\0';
	cmd = strtok_r(line, " \t", &save);
	if (!cmd)
		return 0;
	arg = strtok_r(NULL, "", &save);
	if (strcmp(cmd, "quit") == 0)
		return 1;
	if (strcmp(cmd, "vip") == 0 || strcmp(cmd, "delvip") == 0)
		rc = cmd_vip(dr, arg, cmd[0] == 'v', err, sizeof(err));
	else if (strcmp(cmd, "reals") == 0)
		rc = cmd_reals(dr, arg, err, sizeof(err));
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(dr);
	else if (strcmp(cmd, "real") == 0)
		rc = cmd_real(dr, arg, err, sizeof(err));
	else if (strcmp(cmd, "flush") == 0)
		rc = dr_flush_conns(dr);
	else
		rc = (albm_seterr(err, sizeof(err), "unknown command '%s'", cmd), -EINVAL);
	if (rc < 0)
		printf("error: %s\n", err[0] ? err : strerror(-rc));
	else
		printf("ok\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "if", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "conn-max", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct dr_opts opts = { .mode = DR_MODE_GENERIC };
	char err[512], line[4096];
	struct albm_dr *dr;
	uint64_t v;
	int c;

	albm_log_init("dr_attach", ALBM_LOG_WARN);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'i')
			ifname = optarg;
		else if (c == 'm' && strcmp(optarg, "native") == 0)
			opts.mode = DR_MODE_NATIVE;
		else if (c == 'm' && strcmp(optarg, "generic") == 0)
			opts.mode = DR_MODE_GENERIC;
		else if (c == 'c' && albm_parse_u64(optarg, &v) == 0 && v > 0 && v <= UINT32_MAX)
			opts.conn_max = (uint32_t)v;
		else
			LOG_FATAL(
				"usage: dr_attach --if IFNAME [--mode generic|native] [--conn-max N]");
	}
	if (!ifname)
		LOG_FATAL("usage: dr_attach --if IFNAME [--mode generic|native] [--conn-max N]");
	dr = dr_open(ifname, &opts, err, sizeof(err));
	if (!dr)
		LOG_FATAL("%s", err);
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		if (run_line(dr, line))
			break;
	dr_close(dr);
	return 0;
}
