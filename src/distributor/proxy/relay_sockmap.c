/* ALBM: the in-kernel relay (BPF sockmap) — pair a connection's sockets, watch, unpair
 *
 * The owner of the albm_sockmap skeleton (src/bpf/albm_sockmap.bpf.c): the only file
 * that touches its maps.  A connection whose relay is established and idle in user
 * space is *paired*: its sockets are entered into the peer map (each socket's cookie
 * -> the other socket), then into the relay map, whose verdict program redirects every
 * skb either socket receives to the egress of the other.  From then on no byte crosses
 * user space; the worker keeps both sockets in epoll for EPOLLRDHUP, EPOLLHUP and
 * EPOLLERR only (fastpath.c).
 *
 * What the kernel does not do for us, and how it is done here:
 *  - Data that reached a socket before it entered the relay map waits in its receive
 *    queue until the next skb wakes the verdict.  setsockopt(SO_RCVLOWAT) runs the
 *    socket's data_ready once more (tcp_set_rcvlowat), which passes it on at once.
 *  - A redirected skb is written into the peer by a kernel work item, later.  Before
 *    the sockets go back to user space (EOF, reset: relay.c does half-close and resets)
 *    or a FIN is sent, every byte the verdict took must have reached the other
 *    socket's send queue: the program counts the bytes it passed on per socket
 *    (albm_sk_counts), tcp_info counts what the other socket was given (bytes_sent -
 *    bytes_retrans + notsent_bytes: data only, read atomically), and the pair is
 *    drained when the second has grown by the first since the hand-off.
 *  - Removing the socket that a peer's backlog still writes into would drop that
 *    backlog (sk_psock_drop), so the relay map (verdicts) is left first, and the peer
 *    map (the backlogs) only once drained.
 *  - The counters give the byte counts for the statistics and the time of the last
 *    byte for the idle timeout.
 */
#define LOG_COMPONENT "sockmap"
#include "distributor/proxy/relay_sockmap.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tcp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/albm_sockmap.h"
#include "albm_sockmap.skel.h"
#include "common/log.h"
#include "common/util.h"

struct sockmap_relay {
	struct albm_sockmap *skel;
	int peer_fd, relay_fd, counts_fd, stats_fd;
};

/* ---- loading ---- */

static int sockmap_load(struct sockmap_relay *r, uint32_t max_socks, char *err, size_t errlen)
{
	struct albm_sockmap *s = albm_sockmap__open();
	int rc;

	if (!s) {
		albm_seterr(err, errlen, "open the BPF object: %s", strerror(errno));
		return -errno ?: -EINVAL;
	}
	r->skel = s;
	bpf_map__set_max_entries(s->maps.albm_sk_peer, max_socks);
	bpf_map__set_max_entries(s->maps.albm_sk_relay, max_socks);
	bpf_map__set_max_entries(s->maps.albm_sk_counts, max_socks);
	if ((rc = albm_sockmap__load(s)) < 0) {
		albm_seterr(err, errlen, "load the sockmap program: %s", strerror(-rc));
		return rc;
	}
	r->peer_fd = bpf_map__fd(s->maps.albm_sk_peer);
	r->relay_fd = bpf_map__fd(s->maps.albm_sk_relay);
	r->counts_fd = bpf_map__fd(s->maps.albm_sk_counts);
	r->stats_fd = bpf_map__fd(s->maps.albm_sk_stats);
	if (bpf_prog_attach(bpf_program__fd(s->progs.albm_sk_verdict), r->relay_fd,
			    BPF_SK_SKB_STREAM_VERDICT, 0) < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "attach the verdict to the sockhash: %s", strerror(errno));
		return rc;
	}
	return 0;
}

int sockmap_open(struct sockmap_relay **out, uint32_t max_socks, char *err, size_t errlen)
{
	struct sockmap_relay *r = xcalloc(1, sizeof(*r));
	int rc;

	libbpf_set_print(NULL); /* the caller logs one line; libbpf's own would be noise */
	if ((rc = sockmap_load(r, max_socks, err, errlen)) < 0) {
		sockmap_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void sockmap_close(struct sockmap_relay *r)
{
	if (!r)
		return;
	albm_sockmap__destroy(r->skel); /* the maps go, and with them any paired socket */
	free(r);
}

int sockmap_stats(const struct sockmap_relay *r, uint64_t *out, unsigned n)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return -EINVAL;
	uint64_t v[ncpu];
	for (uint32_t i = 0; i < n && i < ALBM_SK_STAT__COUNT; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(r->stats_fd, &i, v) < 0)
			return -errno;
		for (int c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	return 0;
}

/* ---- one socket ---- */

/* The data bytes ever put into fd's send queue, from one tcp_info (consistent). */
static int sock_written(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	if (len < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof(ti.tcpi_bytes_retrans))
		return -EOPNOTSUPP; /* before 4.19 */
	if (ti.tcpi_state == 7 /* TCP_CLOSE: reset; nothing will be sent any more */)
		return -EPIPE;
	*out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
	return 0;
}

static int sock_cookie(int fd, uint64_t *out)
{
	socklen_t len = sizeof(*out);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, out, &len) < 0 ? -errno : 0;
}

/* What the verdict passed on from the socket called cookie: bytes, last (ms). */
static int sock_count(struct sockmap_relay *r, uint64_t cookie, uint64_t *bytes, uint64_t *last_ms)
{
	struct albm_sk_count v;

	if (bpf_map_lookup_elem(r->counts_fd, &cookie, &v) < 0)
		return -errno;
	*bytes = v.bytes;
	*last_ms = v.last_ns / 1000000;
	return 0;
}

/* ---- a connection ---- */

static void unpair_maps(struct sockmap_relay *r, struct albmd_conn *c, bool relay, bool peer)
{
	for (int i = 0; i < 2; i++) {
		if (relay)
			bpf_map_delete_elem(r->relay_fd, &c->k.cookie[i]);
		if (peer)
			bpf_map_delete_elem(r->peer_fd, &c->k.cookie[i]);
	}
}

/* The first part of pairing: cookies, baselines, counters, the peer map. */
static int pair_prepare(struct sockmap_relay *r, struct albmd_conn *c)
{
	struct albm_sk_count zero = { 0, 0 };
	int rc = 0;

	for (int i = 0; i < 2 && !rc; i++) {
		int fd = c->end[i].io.fd;
		if ((rc = sock_cookie(fd, &c->k.cookie[i])) < 0 ||
		    (rc = sock_written(fd, &c->k.base_wr[i])) < 0)
			return rc;
		c->k.base_rd[i] = c->dir[i].bytes;
		c->k.fwd[i] = 0;
		if (bpf_map_update_elem(r->counts_fd, &c->k.cookie[i], &zero, BPF_ANY) < 0)
			rc = -errno;
	}
	for (int i = 0; i < 2 && !rc; i++) {
		int peer = c->end[1 - i].io.fd;
		if (bpf_map_update_elem(r->peer_fd, &c->k.cookie[i], &peer, BPF_ANY) < 0)
			rc = -errno;
	}
	return rc;
}

int sockmap_pair(struct sockmap_relay *r, struct albmd_conn *c)
{
	int one = 1, rc;

	if ((rc = pair_prepare(r, c)) < 0)
		goto undo;
	for (int i = 0; i < 2; i++) {
		int fd = c->end[i].io.fd;
		if (bpf_map_update_elem(r->relay_fd, &c->k.cookie[i], &fd, BPF_ANY) < 0) {
			rc = -errno;
			if (i == 0)
				goto undo;
			/* socket 0's data may already be on its way: leave the orderly way */
			c->k.state = KERNEL_ON;
			return rc;
		}
	}
	c->k.state = KERNEL_ON;
	c->k.checked_ms = c->last_ms;
	/* what arrived before the verdict was attached: pass it on now */
	for (int i = 0; i < 2; i++)
		setsockopt(c->end[i].io.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return 0;
undo:
	unpair_maps(r, c, false, true);
	for (int i = 0; i < 2; i++)
		bpf_map_delete_elem(r->counts_fd, &c->k.cookie[i]);
	return rc;
}

void sockmap_stop(struct sockmap_relay *r, struct albmd_conn *c)
{
	uint64_t w;

	unpair_maps(r, c, true, false);
	/* a verdict running on another CPU holds the socket's lock; tcp_info takes it, so
	 * after these the counts are final */
	for (int i = 0; i < 2; i++)
		sock_written(c->end[i].io.fd, &w);
	c->k.state = KERNEL_DRAIN;
}

void sockmap_refresh(struct sockmap_relay *r, struct albmd_conn *c)
{
	uint64_t bytes = 0, last = 0, now = evl_now(c->pw->loop);

	for (int i = 0; i < 2; i++) {
		if (sock_count(r, c->k.cookie[i], &bytes, &last) < 0)
			continue;
		c->k.fwd[i] = bytes;
		c->dir[i].bytes = c->k.base_rd[i] + bytes;
		/* the loop's clock was read at the start of its batch: a byte may be newer */
		if (last > now)
			last = now;
		if (bytes && last > c->last_ms)
			c->last_ms = last;
	}
}

bool sockmap_drained(struct sockmap_relay *r, struct albmd_conn *c)
{
	bool drained = true;
	uint64_t w;

	sockmap_refresh(r, c);
	for (int i = 0; i < 2; i++) {
		int dst = 1 - i;
		/* a socket that cannot send any more (reset) has nothing left to wait for */
		if (sock_written(c->end[dst].io.fd, &w) < 0)
			continue;
		if (w - c->k.base_wr[dst] < c->k.fwd[i])
			drained = false;
	}
	return drained;
}

void sockmap_unpair(struct sockmap_relay *r, struct albmd_conn *c)
{
	unpair_maps(r, c, false, true);
	sockmap_forget(r, c);
	c->k.state = KERNEL_OFF;
}

void sockmap_forget(struct sockmap_relay *r, struct albmd_conn *c)
{
	sockmap_refresh(r, c);
	for (int i = 0; i < 2; i++)
		bpf_map_delete_elem(r->counts_fd, &c->k.cookie[i]);
}
