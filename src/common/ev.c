/* ALBM: the event loop (albmd, the lab tools) — epoll, a timer min-heap and an eventfd wakeup */
#define LOG_COMPONENT "ev"
#include "common/ev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define EVL_BATCH 256

struct evl {
	int epfd;
	bool stop;
	uint64_t now_ms;
	struct evl_timer **heap; /* min-heap on when_ms */
	size_t nheap, capheap;
	struct evl_io wake_io;
	evl_hook_cb wake_cb, before_sleep;
	void *wake_arg, *before_sleep_arg;
	void *data;
	void **garbage; /* evl_defer_free() */
	size_t ngarbage, capgarbage;
};

static void evl_collect(struct evl *loop);

static void evl_wake_read(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	uint64_t v;

	(void)revents;
	while (read(io->fd, &v, sizeof(v)) > 0)
		;
	if (loop->wake_cb)
		loop->wake_cb(loop, loop->wake_arg);
}

struct evl *evl_create(char *err, size_t errlen)
{
	struct evl *loop = xcalloc(1, sizeof(*loop));
	int efd;

	loop->wake_io.fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		albm_seterr(err, errlen, "epoll_create1: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || evl_add(loop, &loop->wake_io, efd, EPOLLIN, evl_wake_read) < 0) {
		albm_seterr(err, errlen, "eventfd: %s", strerror(errno));
		if (efd >= 0)
			close(efd);
		close(loop->epfd);
		free(loop);
		return NULL;
	}
	loop->now_ms = albm_now_ms();
	return loop;
}

void evl_destroy(struct evl *loop)
{
	if (!loop)
		return;
	if (loop->wake_io.fd >= 0)
		close(loop->wake_io.fd);
	close(loop->epfd);
	evl_collect(loop);
	free(loop->garbage);
	free(loop->heap);
	free(loop);
}

int evl_add(struct evl *loop, struct evl_io *io, int fd, uint32_t events, evl_io_cb cb)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	return 0;
}

int evl_mod(struct evl *loop, struct evl_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->fd < 0)
		return -EBADF;
	if (io->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void evl_del(struct evl *loop, struct evl_io *io)
{
	if (io->fd < 0)
		return;
	/* may fail harmlessly if the fd was already closed (then the kernel dropped it) */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
}

void evl_close(struct evl *loop, struct evl_io *io)
{
	int fd = io->fd;

	(void)loop;
	if (fd < 0)
		return;
	/*
	 * No EPOLL_CTL_DEL: the kernel drops the registration when the last reference
	 * to the open file goes, which close() is as long as the fd was never dup()ed
	 * nor inherited by a fork().  fd = -1 still makes the loop skip events of this
	 * io that are already in the current batch.
	 */
	io->fd = -1;
	close(fd);
}

/* ---- timers: a binary min-heap of pointers, each timer knows its index ---- */

static void heap_set(struct evl *loop, size_t i, struct evl_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct evl *loop, size_t i)
{
	struct evl_timer *t = loop->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (loop->heap[p]->when_ms <= t->when_ms)
			break;
		heap_set(loop, i, loop->heap[p]);
		i = p;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct evl *loop, size_t i)
{
	struct evl_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && loop->heap[c + 1]->when_ms < loop->heap[c]->when_ms)
			c++;
		if (loop->heap[c]->when_ms >= t->when_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void evl_timer_init(struct evl_timer *t)
{
	memset(t, 0, sizeof(*t));
	t->heap_idx = SIZE_MAX;
}

void evl_timer_stop(struct evl *loop, struct evl_timer *t)
{
	size_t i = t->heap_idx;

	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	loop->nheap--;
	if (i == loop->nheap)
		return;
	struct evl_timer *moved = loop->heap[loop->nheap];
	heap_set(loop, i, moved);
	heap_up(loop, i);
	heap_down(loop, moved->heap_idx);
}

void evl_timer_start(struct evl *loop, struct evl_timer *t, uint64_t delay_ms, evl_timer_cb cb)
{
	evl_timer_stop(loop, t);
	t->when_ms = albm_now_ms() + delay_ms;
	t->cb = cb;
	if (loop->nheap == loop->capheap) {
		loop->capheap = loop->capheap ? loop->capheap * 2 : 16;
		loop->heap = xrealloc(loop->heap, loop->capheap * sizeof(*loop->heap));
	}
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->heap_idx);
}

static void evl_run_timers(struct evl *loop)
{
	while (loop->nheap && loop->heap[0]->when_ms <= loop->now_ms) {
		struct evl_timer *t = loop->heap[0];
		evl_timer_stop(loop, t);
		t->cb(loop, t); /* may re-arm t */
	}
}

static int evl_timeout(const struct evl *loop)
{
	uint64_t when;

	if (!loop->nheap)
		return -1;
	when = loop->heap[0]->when_ms;
	if (when <= loop->now_ms)
		return 0;
	return (int)ALBM_MIN(when - loop->now_ms, 60000);
}

/* ---- hooks and the main loop ---- */

void evl_set_before_sleep(struct evl *loop, evl_hook_cb cb, void *arg)
{
	loop->before_sleep = cb;
	loop->before_sleep_arg = arg;
}

void evl_set_wake_cb(struct evl *loop, evl_hook_cb cb, void *arg)
{
	loop->wake_cb = cb;
	loop->wake_arg = arg;
}

void evl_wakeup(struct evl *loop)
{
	uint64_t one = 1;
	ssize_t rc = write(loop->wake_io.fd, &one, sizeof(one));

	(void)rc; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

void evl_stop(struct evl *loop)
{
	loop->stop = true;
}

void evl_defer_free(struct evl *loop, void *ptr)
{
	if (loop->ngarbage == loop->capgarbage) {
		loop->capgarbage = loop->capgarbage ? loop->capgarbage * 2 : 16;
		loop->garbage = xrealloc(loop->garbage, loop->capgarbage * sizeof(void *));
	}
	loop->garbage[loop->ngarbage++] = ptr;
}

static void evl_collect(struct evl *loop)
{
	for (size_t i = 0; i < loop->ngarbage; i++)
		free(loop->garbage[i]);
	loop->ngarbage = 0;
}

void evl_set_data(struct evl *loop, void *data)
{
	loop->data = data;
}

void *evl_data(const struct evl *loop)
{
	return loop->data;
}

uint64_t evl_now(const struct evl *loop)
{
	return loop->now_ms;
}

int evl_run(struct evl *loop)
{
	struct epoll_event evs[EVL_BATCH];

	loop->stop = false;
	while (!loop->stop) {
		int n, timeout;

		loop->now_ms = albm_now_ms();
		timeout = evl_timeout(loop);
		n = epoll_wait(loop->epfd, evs, EVL_BATCH, timeout);
		if (n < 0 && errno != EINTR) {
			LOG_ERR("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		loop->now_ms = albm_now_ms();
		for (int i = 0; i < n; i++) {
			struct evl_io *io = evs[i].data.ptr;
			if (io->fd >= 0) /* not deleted earlier in this batch */
				io->cb(loop, io, evs[i].events);
		}
		evl_run_timers(loop);
		if (loop->before_sleep)
			loop->before_sleep(loop, loop->before_sleep_arg);
		evl_collect(loop);
	}
	return 0;
}
