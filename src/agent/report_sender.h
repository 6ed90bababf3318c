/* ALBM agent: signed UDP reports to one or more distributors */
#ifndef ALBM_AGENT_REPORT_SENDER_H
#define ALBM_AGENT_REPORT_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "common/addr.h"
#include "proto/report.h"

#define ALBM_SENDER_MAX_DEST 16

struct albm_sender_dest {
	struct albm_addr addr;
	char text[ALBM_ADDRSTRLEN];
	int fd;          /* connected UDP socket: ICMP errors come back on it */
	bool failing;    /* the last send failed; logged once, and once when back */
	unsigned ok_run; /* sends without error since the last failure */
	uint64_t sent, errors;
};

struct albm_sender {
	struct albm_sender_dest dest[ALBM_SENDER_MAX_DEST];
	unsigned ndest;
	uint8_t key[ALBM_KEY_LEN];
	uint64_t boot_id; /* random per start, so a restart is not a replay */
	uint64_t seq;     /* of the last report sent */
	uint32_t interval_ms;
	uint8_t version; /* report version sent (ALBM_REPORT_VERSION unless set lower) */
};

/*
 * Parse "HOST:PORT[,HOST:PORT...]" (numeric IPv4 or [IPv6]) into addrs;
 * returns the count or -EINVAL with err naming the bad entry.
 */
int albm_sender_parse_list(const char *list, struct albm_addr *addrs, unsigned max, char *err,
			   size_t errlen);

/* Open one socket per distributor in list; 0 or -errno with err. */
int albm_sender_init(struct albm_sender *s, const char *list, const uint8_t key[ALBM_KEY_LEN],
		     uint32_t interval_ms, char *err, size_t errlen);
void albm_sender_free(struct albm_sender *s);

/*
 * Sign m as the next report (seq + 1, wall-clock timestamp) and send it to every
 * distributor.  An unreachable distributor is logged (once per outage) and skipped.
 * Returns the number of distributors the datagram went to, or -errno when it could
 * not be encoded.
 */
int albm_sender_send(struct albm_sender *s, const struct albm_metrics *m);

#endif
