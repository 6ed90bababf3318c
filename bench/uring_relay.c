/* ALBM: an io_uring TCP relay prototype — the io_uring data path measured for issue 14
 *
 * Not part of albmd: the smallest relay that uses what io_uring offers on this kernel,
 * so that bench/peers.sh (balancer "uring") can measure the mechanism against albmd's
 * epoll+splice and sockmap paths before any of it goes into albmd.  Per worker thread:
 * one ring (SINGLE_ISSUER + DEFER_TASKRUN when the kernel has them), a SO_REUSEPORT
 * listener with a multishot accept, a provided-buffer ring shared by all connections,
 * a multishot recv per socket, sends serialised per direction (a queue of buffers:
 * two sends in flight on one socket could be reordered), SHUT_WR passed on after the
 * queue has drained, round-robin over the servers, every submission batched into the
 * next io_uring_submit_and_wait().
 *
 * usage: uring_relay LISTEN_PORT WORKERS SERVER_PORT...   (all on 127.0.0.1)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define NBUF  1024        /* provided buffers per worker (a power of 2) */
#define BUFSZ (16 * 1024) /* bytes each */
#define NONE  0xffff
#define BGID  1

enum op {
	OP_ACCEPT = 1,
	OP_CONNECT,
	OP_RECV,
	OP_SEND,
	OP_SHUT,
	OP_CLOSE
};

struct dir {                 /* from side `i` to side `1 - i` */
	uint16_t head, tail; /* buffers waiting to be sent, oldest first (worker's next[]) */
	uint32_t off;        /* sent of the head buffer */
	int sending, eof, shut, recv_armed;
};

struct conn {
	int fd[2];
	struct dir d[2];
	int refs; /* operations in flight */
	int dead;
	int closing;
};

struct worker {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	int lfd;
	unsigned rr;
	struct conn **starved;
	unsigned nstarved;
	uint16_t next[NBUF]; /* the queues of buffers: a buffer is in one queue at most */
	uint32_t len[NBUF];
};

static int g_port, g_nservers, g_debug;
static struct sockaddr_in g_servers[16];

static uint64_t tag(enum op op, struct conn *c, unsigned side)
{
	return (uint64_t)(uintptr_t)c | (uint64_t)op << 56 | (uint64_t)side << 55;
}
static enum op tag_op(uint64_t t)
{
	return (enum op)(t >> 56);
}
static unsigned tag_side(uint64_t t)
{
	return (unsigned)(t >> 55) & 1;
}
static struct conn *tag_conn(uint64_t t)
{
	return (struct conn *)(uintptr_t)(t & ((1ull << 55) - 1));
}

static struct io_uring_sqe *sqe_get(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static void buf_return(struct worker *w, uint16_t bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * BUFSZ, BUFSZ, bid,
			      io_uring_buf_ring_mask(NBUF), 0);
	io_uring_buf_ring_advance(w->br, 1);
}

static void arm_recv(struct worker *w, struct conn *c, unsigned side)
{
	struct io_uring_sqe *sqe = sqe_get(w);

	io_uring_prep_recv_multishot(sqe, c->fd[side], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, tag(OP_RECV, c, side));
	c->d[side].recv_armed = 1;
	c->refs++;
}

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	for (int i = 0; i < 2; i++) {
		if (c->fd[i] < 0)
			continue;
		/* cancels the multishot recv of this fd (its CQE drops the reference) */
		struct io_uring_sqe *sqe = sqe_get(w);
		io_uring_prep_cancel_fd(sqe, c->fd[i], IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, 0);
	}
	for (int i = 0; i < 2; i++)
		while (c->d[i].head != NONE) {
			uint16_t b = c->d[i].head;
			c->d[i].head = w->next[b];
			buf_return(w, b);
		}
}

static void conn_put(struct worker *w, struct conn *c)
{
	(void)w;
	if (--c->refs > 0 || !c->closing)
		return;
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

/* Send the head of direction i's queue, or pass its EOF on. */
static void dir_kick(struct worker *w, struct conn *c, unsigned i)
{
	struct dir *d = &c->d[i];
	struct io_uring_sqe *sqe;

	if (d->sending || c->closing)
		return;
	if (d->head != NONE) {
		uint16_t bid = d->head;
		sqe = sqe_get(w);
		io_uring_prep_send(sqe, c->fd[1 - i], w->bufs + (size_t)bid * BUFSZ + d->off,
				   w->len[bid] - d->off, MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, tag(OP_SEND, c, i));
		d->sending = 1;
		c->refs++;
	} else if (d->eof && !d->shut) {
		d->shut = 1;
		if (c->d[1 - i].shut) {
			conn_close(w, c); /* both ways ended */
			return;
		}
		sqe = sqe_get(w);
		io_uring_prep_shutdown(sqe, c->fd[1 - i], SHUT_WR);
		io_uring_sqe_set_data64(sqe, 0);
	}
}

static void on_accept(struct worker *w, struct io_uring_cqe *cqe)
{
	struct conn *c;
	struct io_uring_sqe *sqe;
	int one = 1, fd = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE)) { /* re-arm the multishot accept */
		sqe = sqe_get(w);
		io_uring_prep_multishot_accept(sqe, w->lfd, NULL, NULL, 0);
		io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, NULL, 0));
	}
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	c->d[0].head = c->d[1].head = NONE;
	c->fd[0] = fd;
	c->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sqe = sqe_get(w);
	io_uring_prep_connect(sqe, c->fd[1], (struct sockaddr *)&g_servers[w->rr++ % g_nservers],
			      sizeof(struct sockaddr_in));
	io_uring_sqe_set_data64(sqe, tag(OP_CONNECT, c, 1));
	c->refs = 1;
}

static void on_recv(struct worker *w, struct conn *c, unsigned i, struct io_uring_cqe *cqe)
{
	struct dir *d = &c->d[i];

	if (!(cqe->flags & IORING_CQE_F_MORE))
		d->recv_armed = 0;
	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
		uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (c->closing) {
			buf_return(w, bid);
		} else {
			w->len[bid] = (uint32_t)cqe->res;
			w->next[bid] = NONE;
			if (d->head == NONE)
				d->head = bid;
			else
				w->next[d->tail] = bid;
			d->tail = bid;
			dir_kick(w, c, i);
		}
	} else if (cqe->res == 0) {
		d->eof = 1;
		dir_kick(w, c, i);
	} else if (cqe->res == -ENOBUFS && !c->closing) {
		w->starved[w->nstarved++] = c; /* re-armed once buffers are back */
		c->refs++;
	} else if (cqe->res < 0 && cqe->res != -ECANCELED) {
		conn_close(w, c);
	}
	if (!d->recv_armed && !d->eof && !c->closing && cqe->res != -ENOBUFS)
		arm_recv(w, c, i);
}

static void on_send(struct worker *w, struct conn *c, unsigned i, int res)
{
	struct dir *d = &c->d[i];

	d->sending = 0;
	if (res < 0 || c->closing) {
		conn_close(w, c);
		return;
	}
	d->off += (uint32_t)res;
	if (d->off >= w->len[d->head]) {
		uint16_t b = d->head;
		d->head = w->next[b];
		buf_return(w, b);
		d->off = 0;
	}
	dir_kick(w, c, i);
}

static void on_cqe(struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t t = io_uring_cqe_get_data64(cqe);
	struct conn *c = tag_conn(t);
	unsigned side = tag_side(t);

	if (g_debug)
		fprintf(stderr, "cqe op %d side %u res %d flags 0x%x\n", tag_op(t), side, cqe->res,
			cqe->flags);
	switch (tag_op(t)) {
	case OP_ACCEPT:
		on_accept(w, cqe);
		return;
	case OP_CONNECT:
		if (cqe->res < 0)
			conn_close(w, c);
		else
			for (int i = 0; i < 2; i++)
				arm_recv(w, c, (unsigned)i);
		break;
	case OP_RECV:
		on_recv(w, c, side, cqe);
		if (cqe->flags & IORING_CQE_F_MORE)
			return; /* the multishot recv still holds its reference */
		break;
	case OP_SEND:
		on_send(w, c, side, cqe->res);
		break;
	default:
		return;
	}
	conn_put(w, c);
}

static void rearm_starved(struct worker *w)
{
	unsigned n = w->nstarved;

	w->nstarved = 0;
	for (unsigned k = 0; k < n; k++) {
		struct conn *c = w->starved[k];
		for (unsigned i = 0; i < 2 && !c->closing; i++)
			if (!c->d[i].recv_armed && !c->d[i].eof)
				arm_recv(w, c, i);
		conn_put(w, c);
	}
}

static int worker_setup(struct worker *w)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN };
	struct io_uring_buf_reg reg = { .ring_entries = NBUF, .bgid = BGID };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(g_port) };
	int one = 1, rc;

	if ((rc = io_uring_queue_init_params(4096, &w->ring, &p)) < 0) {
		memset(&p, 0, sizeof(p)); /* before 6.1 */
		if ((rc = io_uring_queue_init_params(4096, &w->ring, &p)) < 0)
			return rc;
	}
	w->br = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	w->bufs = malloc((size_t)NBUF * BUFSZ);
	w->starved = calloc(1 << 20, sizeof(*w->starved));
	reg.ring_addr = (uintptr_t)w->br;
	io_uring_buf_ring_init(w->br);
	if ((rc = io_uring_register_buf_ring(&w->ring, &reg, 0)) < 0)
		return rc;
	for (uint16_t b = 0; b < NBUF; b++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)b * BUFSZ, BUFSZ, b,
				      io_uring_buf_ring_mask(NBUF), b);
	io_uring_buf_ring_advance(w->br, NBUF);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(w->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(w->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(w->lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(w->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(w->lfd, 4096) < 0)
		return -errno;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	io_uring_prep_multishot_accept(sqe, w->lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, NULL, 0));
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct io_uring_cqe *cqe;
	unsigned head, n;

	for (;;) {
		if (io_uring_submit_and_wait(&w->ring, 1) < 0 && errno != EINTR)
			break;
		n = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe)
		{
			on_cqe(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		if (w->nstarved)
			rearm_starved(w);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nw;

	if (argc < 4) {
		fprintf(stderr, "usage: uring_relay LISTEN_PORT WORKERS SERVER_PORT...\n");
		return 2;
	}
	g_debug = getenv("URING_DEBUG") != NULL; /* one line per completion on stderr */
	g_port = atoi(argv[1]);
	nw = atoi(argv[2]);
	for (int i = 3; i < argc && g_nservers < 16; i++) {
		g_servers[g_nservers].sin_family = AF_INET;
		g_servers[g_nservers].sin_port = htons((uint16_t)atoi(argv[i]));
		g_servers[g_nservers].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		g_nservers++;
	}
	pthread_t th[64];
	struct worker *ws = calloc((size_t)nw, sizeof(*ws));
	for (int i = 0; i < nw && i < 64; i++) {
		int rc = worker_setup(&ws[i]);
		if (rc < 0) {
			fprintf(stderr, "uring_relay: io_uring setup: %s\n", strerror(-rc));
			return 1;
		}
	}
	for (int i = 1; i < nw && i < 64; i++)
		pthread_create(&th[i], NULL, worker_main, &ws[i]);
	worker_main(&ws[0]);
	return 0;
}
