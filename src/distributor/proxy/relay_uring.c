/* ALBM: the io_uring relay — multishot recv into provided buffers, batched sends
 *
 * data-path uring: an established relay is handed to its worker's io_uring instead of
 * being pumped with read()/write() on epoll events.  Each socket has one multishot
 * recv that takes buffers from the worker's provided-buffer ring; a received buffer is
 * queued on its direction and sent to the other socket, one send in flight per
 * direction (two could be reordered), and goes back to the ring when sent.  All
 * submissions of an event batch go in one io_uring_enter() (uring_flush, after the
 * batch); completions wake the worker's epoll loop through an eventfd.
 *
 * The ring's part ends at the first EOF or error, when a direction has QCAP buffers
 * waiting (bulk data: splice costs less per byte), or when the ring has no buffer
 * left: the recvs and the sends in flight are cancelled, and once nothing is in flight
 * the buffers still queued are copied into relay.c's stash and the connection goes
 * back to relay.c, like the sockmap path (EOF is read again there and passed on after
 * the data: half-close).  No connection waits for a buffer while holding others, so
 * the shared pool cannot deadlock: an echo peer that stops reading until it can write
 * would otherwise hold the pool full with what it was sent.
 *
 * Operations name their connection by a slot of the worker's table and its generation,
 * so that a completion that arrives after the connection closed (and its object was
 * recycled) is recognised and ignored.
 */
#define LOG_COMPONENT "uring"
#include "distributor/proxy/relay_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy/relay.h"

#define NBUF         256        /* provided buffers per worker (a power of two): 2 MiB */
#define BUFSZ        (8 * 1024) /* bytes each (bulk data goes back to splice: QCAP) */
#define QCAP         8          /* buffers one direction may hold: then back to relay.c */
#define RING_ENTRIES 4096
#define BGID         1
#define NONE         0xffff
#define RELAY_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

enum uop {
	UOP_NONE = 0,
	UOP_RECV,
	UOP_SEND,
	UOP_CANCEL
};

struct uring_slot {
	struct albmd_conn *c; /* NULL: free, or closed with operations still in flight */
	uint16_t gen;
};

struct uring_worker {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	uint16_t next[NBUF]; /* the per-direction queues of received buffers */
	uint32_t len[NBUF];
	struct evl_io efd; /* first member of the io passed to the loop: see efd_io */
	struct albmd_pworker *pw;
	uring_back_cb back;
	struct uring_slot *slots;
	uint32_t nslots, *free_slots, nfree;
	bool dirty;   /* prepared operations not yet submitted */
	bool ring_ok; /* u->ring was set up */
};

/* ---- user_data: op (3 bits) | side (1) | buffer (16) | generation (12) | slot (32) ---- */

static uint64_t tag(enum uop op, unsigned side, uint16_t bid, uint32_t slot, uint16_t gen)
{
	return (uint64_t)op << 61 | (uint64_t)side << 60 | (uint64_t)bid << 44 |
	       (uint64_t)(gen & 0xfff) << 32 | slot;
}

/* ---- the ring ---- */

int uring_probe(char *err, size_t errlen)
{
	struct io_uring ring;
	struct io_uring_probe *p;
	int rc;

	if ((rc = io_uring_queue_init(8, &ring, 0)) < 0) {
		albm_seterr(err, errlen, "io_uring_setup: %s", strerror(-rc));
		return rc;
	}
	p = io_uring_get_probe_ring(&ring);
	rc = p && io_uring_opcode_supported(p, IORING_OP_RECV) &&
			     io_uring_opcode_supported(p, IORING_OP_SEND) &&
			     io_uring_opcode_supported(
				     p, IORING_OP_SOCKET) /* 5.19: multishot, buffer rings */
		     ? 0
		     : -EOPNOTSUPP;
	if (rc)
		albm_seterr(err, errlen, "io_uring lacks multishot recv or provided buffer rings");
	io_uring_free_probe(p);
	io_uring_queue_exit(&ring);
	return rc;
}

static void efd_io(struct evl *loop, struct evl_io *io, uint32_t revents);

static int ring_setup(struct uring_worker *u)
{
	struct io_uring_buf_reg reg = { .ring_entries = NBUF, .bgid = BGID };
	int rc, fd;

	if ((rc = io_uring_queue_init(RING_ENTRIES, &u->ring, 0)) < 0)
		return rc;
	u->ring_ok = true;
	if (posix_memalign((void **)&u->br, 4096, NBUF * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	u->bufs = xmalloc((size_t)NBUF * BUFSZ);
	reg.ring_addr = (uintptr_t)u->br;
	io_uring_buf_ring_init(u->br);
	if ((rc = io_uring_register_buf_ring(&u->ring, &reg, 0)) < 0)
		return rc;
	for (uint16_t b = 0; b < NBUF; b++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)b * BUFSZ, BUFSZ, b,
				      io_uring_buf_ring_mask(NBUF), b);
	io_uring_buf_ring_advance(u->br, NBUF);
	if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	if ((rc = io_uring_register_eventfd(&u->ring, fd)) < 0 ||
	    (rc = evl_add(u->pw->loop, &u->efd, fd, EPOLLIN | EPOLLET, efd_io)) < 0) {
		close(fd);
		return rc < 0 ? rc : -errno;
	}
	return 0;
}

static struct uring_worker *ring_get(struct albmd_pworker *pw, uring_back_cb back)
{
	struct uring_worker *u = pw->uring;
	int rc;

	if (u)
		return u;
	u = xcalloc(1, sizeof(*u));
	u->pw = pw;
	u->back = back;
	u->efd.fd = -1;
	pw->uring = u;
	if ((rc = ring_setup(u)) < 0) {
		LOG_RL(ALBM_LOG_WARN, "worker's io_uring: %s: relaying with epoll", strerror(-rc));
		uring_worker_free(pw);
		return NULL;
	}
	return u;
}

void uring_worker_free(struct albmd_pworker *pw)
{
	struct uring_worker *u = pw->uring;

	if (!u)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	evl_close(pw->loop, &u->efd);
	free(u->br);
	free(u->bufs);
	free(u->slots);
	free(u->free_slots);
	free(u);
	pw->uring = NULL;
}

/* ---- slots ---- */

static uint32_t slot_get(struct uring_worker *u, struct albmd_conn *c)
{
	uint32_t s;

	if (u->nfree) {
		s = u->free_slots[--u->nfree];
	} else {
		if (u->nslots % 256 == 0) {
			u->slots = xrealloc(u->slots, (u->nslots + 256) * sizeof(*u->slots));
			u->free_slots =
				xrealloc(u->free_slots, (u->nslots + 256) * sizeof(uint32_t));
		}
		s = u->nslots++;
		u->slots[s].gen = 0;
	}
	u->slots[s].c = c;
	u->slots[s].gen++;
	return s;
}

static void slot_put(struct uring_worker *u, uint32_t s)
{
	u->slots[s].c = NULL;
	u->free_slots[u->nfree++] = s;
}

/* ---- operations ---- */

static struct io_uring_sqe *sqe_get(struct uring_worker *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) { /* the submission queue is full: submit what is there */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	u->dirty = true;
	return sqe;
}

static uint64_t conn_tag(struct uring_worker *u, struct albmd_conn *c, enum uop op, unsigned side,
			 uint16_t bid)
{
	uint32_t s = c->k.uslot - 1;

	return tag(op, side, bid, s, u->slots[s].gen);
}

static void buf_return(struct uring_worker *u, uint16_t bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * BUFSZ, BUFSZ, bid,
			      io_uring_buf_ring_mask(NBUF), 0);
	io_uring_buf_ring_advance(u->br, 1);
}

static void arm_recv(struct uring_worker *u, struct albmd_conn *c, unsigned i)
{
	struct io_uring_sqe *sqe = sqe_get(u);

	io_uring_prep_recv_multishot(sqe, c->end[i].io.fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, conn_tag(u, c, UOP_RECV, i, NONE));
	c->k.uarmed[i] = true;
	c->k.urefs++;
}

/* Send the first buffer of direction i, if any and none is in flight. */
static void dir_kick(struct uring_worker *u, struct albmd_conn *c, unsigned i)
{
	uint16_t bid = c->k.uhead[i];
	struct io_uring_sqe *sqe;

	if (c->k.usending[i] || bid == NONE || c->k.uleaving)
		return;
	sqe = sqe_get(u);
	io_uring_prep_send(sqe, c->end[1 - i].io.fd, u->bufs + (size_t)bid * BUFSZ + c->k.uoff[i],
			   u->len[bid] - c->k.uoff[i], MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, conn_tag(u, c, UOP_SEND, i, bid));
	c->k.usending[i] = true;
	c->k.urefs++;
}

static void dir_queue(struct uring_worker *u, struct albmd_conn *c, unsigned i, uint16_t bid,
		      uint32_t len)
{
	u->len[bid] = len;
	u->next[bid] = NONE;
	if (c->k.uhead[i] == NONE)
		c->k.uhead[i] = bid;
	else
		u->next[c->k.utail[i]] = bid;
	c->k.utail[i] = bid;
	c->k.uqlen[i]++;
}

/* Drop direction i's queue; a buffer being sent is returned by its completion. */
static void dir_free(struct uring_worker *u, struct albmd_conn *c, unsigned i)
{
	uint16_t b = c->k.uhead[i];

	if (b != NONE && c->k.usending[i])
		b = u->next[b];
	while (b != NONE) {
		uint16_t n = u->next[b];
		buf_return(u, b);
		b = n;
	}
	c->k.uhead[i] = NONE;
	c->k.uqlen[i] = 0;
}

static void cancel_op(struct uring_worker *u, uint64_t op_tag)
{
	struct io_uring_sqe *sqe = sqe_get(u);

	io_uring_prep_cancel64(sqe, op_tag, 0);
	io_uring_sqe_set_data64(sqe, tag(UOP_CANCEL, 0, NONE, 0, 0));
}

/* The ring's part ends: cancel what is in flight (see the top of the file). */
static void conn_leave(struct uring_worker *u, struct albmd_conn *c)
{
	if (c->k.uleaving)
		return;
	c->k.uleaving = true;
	for (unsigned i = 0; i < 2; i++) {
		if (c->k.uarmed[i])
			cancel_op(u, conn_tag(u, c, UOP_RECV, i, NONE));
		if (c->k.usending[i])
			cancel_op(u, conn_tag(u, c, UOP_SEND, i, c->k.uhead[i]));
	}
}

/* Move direction i's queued bytes into relay.c's stash (one copy); false: no memory. */
static bool dir_stash(struct uring_worker *u, struct albmd_conn *c, unsigned i)
{
	size_t n = 0, off = c->k.uoff[i];
	char *data;

	if (c->k.uhead[i] == NONE)
		return true;
	/* at most QCAP buffers and the few that came in while leaving */
	data = malloc((size_t)c->k.uqlen[i] * BUFSZ);
	for (uint16_t b = c->k.uhead[i]; data && b != NONE; b = u->next[b], off = 0) {
		memcpy(data + n, u->bufs + (size_t)b * BUFSZ + off, u->len[b] - off);
		n += u->len[b] - off;
	}
	dir_free(u, c, i);
	c->k.uoff[i] = 0;
	if (!data)
		return false;
	relay_stash_own(c, (int)i, data, n);
	return true;
}

/* Nothing in flight any more: what is queued goes to relay.c's stash, then relay.c
 * takes over. */
static void conn_back(struct uring_worker *u, struct albmd_conn *c)
{
	for (unsigned i = 0; i < 2; i++)
		if (!dir_stash(u, c, i) && !c->k.ufailed) {
			LOG_RL(ALBM_LOG_WARN, "out of memory handing a connection back: closed");
			c->k.ufailed = (int8_t)(i + 1);
		}
	slot_put(u, c->k.uslot - 1);
	c->k.uslot = 0;
	for (int i = 0; i < 2; i++) {
		int fd = c->end[i].io.fd;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		evl_mod(u->pw->loop, &c->end[i].io, RELAY_EVENTS);
		c->rd_ready[i] = c->wr_ready[i] = true;
	}
	c->k.state = KERNEL_OFF;
	u->back(c);
}

/* ---- completions ---- */

static void on_recv(struct uring_worker *u, struct albmd_conn *c, unsigned i,
		    const struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->k.uarmed[i] = false;
		c->k.urefs--;
	}
	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
		dir_queue(u, c, i, (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT),
			  (uint32_t)cqe->res);
		c->dir[i].bytes += (uint64_t)cqe->res;
		c->last_ms = evl_now(u->pw->loop);
		dir_kick(u, c, i);
		if (c->k.uqlen[i] >= QCAP)
			conn_leave(u, c); /* bulk data: relay.c splices it */
	} else if (cqe->res == -ENOBUFS) {
		conn_leave(u, c); /* the ring's buffers are out: relay.c reads the rest */
	} else if (cqe->res <= 0 && cqe->res != -ECANCELED) {
		if (cqe->res < 0 && !c->k.ufailed)
			c->k.ufailed = (int8_t)(i + 1); /* a reset: consumed here, passed on */
		conn_leave(u, c);                       /* EOF: relay.c meets it again */
	}
	if (!c->k.uarmed[i] && !c->k.uleaving)
		arm_recv(u, c, i);
}

static void on_send(struct uring_worker *u, struct albmd_conn *c, unsigned i, int res)
{
	uint16_t b = c->k.uhead[i];

	c->k.usending[i] = false;
	c->k.urefs--;
	if (res == -ECANCELED)
		return; /* leaving: the buffer stays queued, for relay.c's stash */
	if (res < 0) {  /* the other side failed: relay.c is told (ufailed) */
		if (!c->k.ufailed)
			c->k.ufailed = (int8_t)(2 - i); /* side 1 - i, + 1 */
		buf_return(u, b);
		c->k.uhead[i] = u->next[b];
		dir_free(u, c, i);
		conn_leave(u, c);
		return;
	}
	c->k.uoff[i] += (uint32_t)res;
	if (c->k.uoff[i] >= u->len[b]) {
		c->k.uhead[i] = u->next[b];
		buf_return(u, b);
		c->k.uoff[i] = 0;
		c->k.uqlen[i]--;
	}
	dir_kick(u, c, i);
}

/* A completion of a connection that closed: only its buffer matters. */
static void on_orphan(struct uring_worker *u, const struct io_uring_cqe *cqe, enum uop op,
		      uint16_t bid)
{
	if (op == UOP_RECV && (cqe->flags & IORING_CQE_F_BUFFER))
		buf_return(u, (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
	else if (op == UOP_SEND && bid != NONE)
		buf_return(u, bid);
}

static void on_cqe(struct uring_worker *u, const struct io_uring_cqe *cqe)
{
	uint64_t t = io_uring_cqe_get_data64(cqe);
	enum uop op = (enum uop)(t >> 61);
	unsigned side = (unsigned)(t >> 60) & 1;
	uint16_t bid = (uint16_t)(t >> 44), gen = (uint16_t)((t >> 32) & 0xfff);
	uint32_t s = (uint32_t)t;
	struct albmd_conn *c;

	if (op != UOP_RECV && op != UOP_SEND)
		return;
	if (s >= u->nslots || !(c = u->slots[s].c) || (u->slots[s].gen & 0xfff) != gen) {
		on_orphan(u, cqe, op, bid);
		return;
	}
	if (op == UOP_RECV)
		on_recv(u, c, side, cqe);
	else
		on_send(u, c, side, cqe->res);
	/* leaving: once nothing is in flight, back to relay.c */
	if (c->k.uleaving && !c->k.urefs)
		conn_back(u, c);
}

static void efd_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct uring_worker *u =
		(struct uring_worker *)((char *)io - offsetof(struct uring_worker, efd));
	struct io_uring_cqe *cqe;
	unsigned head, n;
	uint64_t v;

	(void)loop, (void)revents;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		LOG_RL(ALBM_LOG_WARN, "eventfd: %s", strerror(errno));
	do {
		n = 0;
		io_uring_for_each_cqe(&u->ring, head, cqe)
		{
			on_cqe(u, cqe);
			n++;
		}
		io_uring_cq_advance(&u->ring, n);
	} while (n);
}

/* ---- the hand-off points ---- */

int uring_pair(struct albmd_conn *c, uring_back_cb back)
{
	struct uring_worker *u = ring_get(c->pw, back);

	if (!u)
		return -ENOMEM;
	c->k.uslot = slot_get(u, c) + 1;
	for (unsigned i = 0; i < 2; i++) {
		int fd = c->end[i].io.fd;
		/* io_uring would answer EAGAIN on a non-blocking socket, not wait for it */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		evl_mod(c->pw->loop, &c->end[i].io, 0);
		c->k.uhead[i] = NONE;
		c->k.uoff[i] = 0;
		c->k.usending[i] = false;
		c->k.uqlen[i] = 0;
	}
	c->k.uleaving = false;
	c->k.urefs = 0;
	for (unsigned i = 0; i < 2; i++)
		arm_recv(u, c, i);
	c->k.state = KERNEL_ON;
	return 0;
}

void uring_forget(struct albmd_conn *c)
{
	struct uring_worker *u = c->pw->uring;

	if (!u || !c->k.uslot)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct io_uring_sqe *sqe = sqe_get(u);
		io_uring_prep_cancel_fd(sqe, c->end[i].io.fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, tag(UOP_CANCEL, 0, NONE, 0, 0));
		dir_free(u, c, i);
	}
	/* submitted now: the fds close right after this */
	io_uring_submit(&u->ring);
	u->dirty = false;
	slot_put(u, c->k.uslot - 1);
	c->k.uslot = 0;
	c->k.state = KERNEL_OFF;
}

void uring_flush(struct albmd_pworker *pw)
{
	struct uring_worker *u = pw->uring;

	if (u && u->dirty) {
		u->dirty = false;
		io_uring_submit(&u->ring);
	}
}
