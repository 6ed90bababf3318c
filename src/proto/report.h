/* ALBM: the agent -> distributor report codec (encode, decode+verify, replay check).
 * Shared by albm-agent and albmd.  Wire format: docs/protocol.md. */
#ifndef ALBM_PROTO_REPORT_H
#define ALBM_PROTO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"

#define ALBM_REPORT_VERSION     2   /* what this build sends by default */
#define ALBM_REPORT_VERSION_MIN 1   /* the oldest version it accepts and can still send */
#define ALBM_REPORT_MAX         512 /* largest datagram we ever send or accept */
#define ALBM_KEY_LEN            32  /* HMAC-SHA256 key bytes */

/* One report as carried on the wire. */
struct albm_report {
	uint8_t version;        /* ALBM_REPORT_VERSION_MIN .. ALBM_REPORT_VERSION */
	uint64_t boot_id;       /* random, drawn once per agent start */
	uint64_t seq;           /* +1 per report within one boot_id */
	uint64_t timestamp_ms;  /* agent's wall clock (CLOCK_REALTIME), ms */
	uint32_t interval_ms;   /* the agent's report interval */
	struct albm_metrics m;  /* the measurement; m.name names the server.  Version 1 carries
				 * none of the optional fields (m.present = 0 on decode,
				 * ignored on encode) */
	uint8_t unknown_fields; /* decode: extension fields of types this build does not
				 * know (a newer agent's), skipped */
};

/* A server name a report can carry: 1..ALBM_NAME_MAX-1 printable ASCII, no spaces. */
bool albm_report_name_valid(const char *name);

/* Encode and sign r into buf; returns the datagram length or -errno (-ENOSPC;
 * -EINVAL when r->version is not one this build speaks or a field is out of range,
 * so that nothing is sent that albm_report_decode() would reject).  Version 2 carries
 * the optional fields whose bits are set in r->m.present. */
int albm_report_encode(const struct albm_report *r, const uint8_t key[ALBM_KEY_LEN], uint8_t *buf,
		       size_t len);

/* Verify the HMAC and decode; 0, or -errno with err naming the reason:
 * -EBADMSG (truncated / malformed / bad field), -EPROTO (a version outside
 * ALBM_REPORT_VERSION_MIN..ALBM_REPORT_VERSION),
 * -EPERM (bad HMAC: wrong key or tampered). */
int albm_report_decode(const uint8_t *buf, size_t len, const uint8_t key[ALBM_KEY_LEN],
		       struct albm_report *out, char *err, size_t errlen);

/* Replay / staleness state the distributor keeps per server. */
struct albm_replay {
	uint64_t boot_id;
	uint64_t last_seq;
	uint64_t last_ts_ms;
	int seen; /* 0 until the first accepted report */
};

/* Accept r for this server, or reject it as a replay or stale:
 * returns 0 and updates st, or -EALREADY (sequence not newer: replay),
 * -ETIME (timestamp older than max_age_ms, or from the future beyond the same
 * margin).  A new boot_id is accepted when its timestamp is newer than the last one
 * accepted, so a restarted agent is not taken for a replayer. */
int albm_replay_check(struct albm_replay *st, const struct albm_report *r, uint64_t now_wall_ms,
		      uint64_t max_age_ms, char *err, size_t errlen);

/* Read a key file (exactly ALBM_KEY_LEN bytes as 64 hex characters, optional
 * trailing newline or CRLF); 0 or -errno with err naming the file and the problem.
 * Refused: a file group or others may access (-EPERM, with the chmod to run), one
 * that is not a regular file, and an all-zero key. */
int albm_key_load(const char *path, uint8_t key[ALBM_KEY_LEN], char *err, size_t errlen);
/* Write a new random key to path, mode 0600, refusing to overwrite; 0 or -errno. */
int albm_key_generate(const char *path, char *err, size_t errlen);

#endif
