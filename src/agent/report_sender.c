/* ALBM agent: signed UDP reports to one or more distributors */
#include "agent/report_sender.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define LOG_COMPONENT "report"
#include "common/log.h"
#include "common/util.h"

/* A distributor counts as back after this many sends without an error: with a
 * connected UDP socket the ICMP error of one send fails the next, so a dead port
 * alternates ok/error and never reaches two in a row. */
#define SENDER_BACK_AFTER 2

int albm_sender_parse_list(const char *list, struct albm_addr *addrs, unsigned max, char *err,
			   size_t errlen)
{
	char item[ALBM_ADDRSTRLEN + 8], msg[160];
	unsigned n = 0;

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");

		if (n == max) {
			albm_seterr(err, errlen, "--distributor: more than %u addresses", max);
			return -EINVAL;
		}
		if (len == 0 || len >= sizeof(item)) {
			albm_seterr(err, errlen, "--distributor '%s': empty or overlong entry",
				    list);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (albm_addr_parse(item, &addrs[n], msg, sizeof(msg))) {
			albm_seterr(err, errlen, "--distributor '%s': %s", item, msg);
			return -EINVAL;
		}
		n++;
		p += len;
		if (!*p)
			return (int)n;
	}
}

static int sender_open(struct albm_sender_dest *d, char *err, size_t errlen)
{
	int rc;

	d->fd = socket(albm_addr_family(&d->addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, &d->addr.u.sa, d->addr.len)) {
		rc = -errno;
		albm_seterr(err, errlen, "distributor %s: %s(): %s", d->text,
			    d->fd < 0 ? "socket" : "connect", strerror(errno));
		return rc;
	}
	return 0;
}

int albm_sender_init(struct albm_sender *s, const char *list, const uint8_t key[ALBM_KEY_LEN],
		     uint32_t interval_ms, char *err, size_t errlen)
{
	struct albm_addr addrs[ALBM_SENDER_MAX_DEST];
	int n, rc;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < ALBM_SENDER_MAX_DEST; i++)
		s->dest[i].fd = -1;
	n = albm_sender_parse_list(list, addrs, ALBM_SENDER_MAX_DEST, err, errlen);
	if (n < 0)
		return n;
	if (RAND_bytes((unsigned char *)&s->boot_id, sizeof(s->boot_id)) != 1) {
		albm_seterr(err, errlen, "boot id: no random bytes from libcrypto");
		return -EIO;
	}
	memcpy(s->key, key, ALBM_KEY_LEN);
	s->interval_ms = interval_ms;
	for (int i = 0; i < n; i++, s->ndest++) {
		s->dest[i].addr = addrs[i];
		albm_addr_format(&addrs[i], s->dest[i].text, sizeof(s->dest[i].text));
		rc = sender_open(&s->dest[i], err, errlen);
		if (rc) {
			s->ndest++;
			albm_sender_free(s);
			return rc;
		}
	}
	return 0;
}

void albm_sender_free(struct albm_sender *s)
{
	for (unsigned i = 0; i < s->ndest; i++)
		if (s->dest[i].fd >= 0)
			close(s->dest[i].fd);
	s->ndest = 0;
	OPENSSL_cleanse(s->key, sizeof(s->key));
}

/* Send one datagram; track and log outages and recoveries of this distributor. */
static bool sender_send_one(struct albm_sender_dest *d, const uint8_t *buf, size_t len)
{
	ssize_t n = send(d->fd, buf, len, MSG_DONTWAIT);

	if (n == (ssize_t)len) {
		d->sent++;
		if (d->failing && ++d->ok_run >= SENDER_BACK_AFTER) {
			d->failing = false;
			LOG_INFO("distributor %s reachable again, reports resumed", d->text);
		}
		return true;
	}
	d->errors++;
	d->ok_run = 0;
	if (!d->failing)
		LOG_WARN("distributor %s unreachable (%s); still reporting every interval", d->text,
			 n < 0 ? strerror(errno) : "short send");
	d->failing = true;
	return false;
}

int albm_sender_send(struct albm_sender *s, const struct albm_metrics *m)
{
	struct albm_report r = {
		.version = s->version ? s->version : ALBM_REPORT_VERSION,
		.boot_id = s->boot_id,
		.seq = s->seq + 1,
		.timestamp_ms = albm_wall_ms(),
		.interval_ms = s->interval_ms,
		.m = *m,
	};
	uint8_t buf[ALBM_REPORT_MAX];
	int len, sent = 0;

	len = albm_report_encode(&r, s->key, buf, sizeof(buf));
	if (len < 0)
		return len;
	s->seq = r.seq;
	for (unsigned i = 0; i < s->ndest; i++)
		sent += sender_send_one(&s->dest[i], buf, (size_t)len);
	return sent;
}
