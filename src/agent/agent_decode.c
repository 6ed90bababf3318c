/* ALBM agent: --decode-from, a test-only receiver that verifies and prints reports */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/agent.h"
#include "agent/agent_json.h"
#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/report.h"

#define DECODE_MAX_AGENTS 64

/* Replay state per agent name, as a distributor keeps it per server. */
struct decode_peer {
	char name[ALBM_NAME_MAX];
	struct albm_replay st;
};

static struct albm_replay *decode_peer_state(struct decode_peer *peers, const char *name)
{
	for (unsigned i = 0; i < DECODE_MAX_AGENTS; i++) {
		if (!peers[i].name[0])
			snprintf(peers[i].name, sizeof(peers[i].name), "%s", name);
		if (!strcmp(peers[i].name, name))
			return &peers[i].st;
	}
	return NULL;
}

/* Decode, verify and replay-check one datagram; prints one JSON line either way.
 * Returns true when the report was accepted. */
static bool decode_one(const uint8_t *buf, size_t len, const struct albm_addr *from,
		       const uint8_t *key, struct decode_peer *peers, uint64_t max_age_ms)
{
	char err[256], text[ALBM_ADDRSTRLEN];
	struct albm_report r;
	struct albm_replay *st;
	uint64_t now = albm_wall_ms();
	json_t *j;
	int rc;

	rc = albm_report_decode(buf, len, key, &r, err, sizeof(err));
	if (!rc) {
		st = decode_peer_state(peers, r.m.name);
		rc = st ? albm_replay_check(st, &r, now, max_age_ms, err, sizeof(err)) : -ENOSPC;
		if (!st)
			snprintf(err, sizeof(err), "too many agents");
	}
	j = rc ? json_object() : albm_report_json(&r);
	if (rc) {
		json_object_set_new(j, "error", json_string(err));
		json_object_set_new(j, "errno",
				    json_string(strerrorname_np(-rc) ? strerrorname_np(-rc) : "?"));
	}
	json_object_set_new(j, "from", json_string(albm_addr_format(from, text, sizeof(text))));
	json_object_set_new(j, "recv_wall_ms", json_integer((json_int_t)now));
	albm_json_print_line(j);
	return rc == 0;
}

int albm_agent_decode(const struct albm_agent_opts *o)
{
	static struct decode_peer peers[DECODE_MAX_AGENTS];
	uint8_t key[ALBM_KEY_LEN], buf[ALBM_REPORT_MAX + 64];
	struct albm_addr a, from;
	char err[256];
	uint64_t accepted = 0;
	int fd;

	if (albm_key_load(o->key_file, key, err, sizeof(err)) ||
	    albm_addr_parse(o->decode_from, &a, err, sizeof(err))) {
		LOG_ERR("%s", err);
		return 1;
	}
	fd = socket(albm_addr_family(&a), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &a.u.sa, a.len)) {
		LOG_ERR("--decode-from %s: %s", o->decode_from, strerror(errno));
		return 1;
	}
	while (!o->count || accepted < o->count) {
		ssize_t n;

		from.len = sizeof(from.u.ss);
		n = recvfrom(fd, buf, sizeof(buf), 0, &from.u.sa, &from.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			LOG_ERR("recvfrom: %s", strerror(errno));
			break;
		}
		accepted += decode_one(buf, (size_t)n, &from, key, peers, o->max_age_ms);
	}
	OPENSSL_cleanse(key, sizeof(key));
	close(fd);
	return 0;
}
