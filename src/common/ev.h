/* ALBM: the event loop (albmd, the lab tools) — epoll (level or edge triggered), a timer heap, a
 * wakeup */
#ifndef ALBM_COMMON_EV_H
#define ALBM_COMMON_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

/*
 * Sized like Redis's ae.c: one loop per thread, file events dispatched through a
 * struct embedded in the owner's object (container_of style), timers in a binary
 * min-heap, and an eventfd so that other threads can wake the loop.  Not
 * thread-safe except evl_wakeup().
 *
 * Objects whose evl_io may still appear later in the current batch of epoll events
 * must not be freed from a callback: evl_del() marks the io dead (fd = -1, the
 * loop skips it) and the owner frees the object from the before-sleep hook, which
 * runs after the batch.
 */
struct evl;
struct evl_io;
struct evl_timer;

typedef void (*evl_io_cb)(struct evl *loop, struct evl_io *io, uint32_t revents);
typedef void (*evl_timer_cb)(struct evl *loop, struct evl_timer *t);
typedef void (*evl_hook_cb)(struct evl *loop, void *arg);

struct evl_io {
	int fd;          /* -1 when not registered */
	uint32_t events; /* EPOLLIN | EPOLLOUT | EPOLLET ... */
	evl_io_cb cb;
};

struct evl_timer {
	uint64_t when_ms; /* monotonic deadline */
	evl_timer_cb cb;
	size_t heap_idx; /* position in the heap, or SIZE_MAX when not armed */
};

#define EVL_TIMER_INIT               \
	{                            \
		.heap_idx = SIZE_MAX \
	}

struct evl *evl_create(char *err, size_t errlen);
void evl_destroy(struct evl *loop);

/* Register fd with the given events; 0 or -errno. */
int evl_add(struct evl *loop, struct evl_io *io, int fd, uint32_t events, evl_io_cb cb);
/* Change the events of a registered io; 0 or -errno. */
int evl_mod(struct evl *loop, struct evl_io *io, uint32_t events);
/* Unregister (the fd is not closed); io->fd becomes -1.  Safe on an unregistered io. */
void evl_del(struct evl *loop, struct evl_io *io);
/*
 * Unregister and close the fd in one system call (close() alone, no EPOLL_CTL_DEL).
 * Only for fds that were never dup()ed and are not shared with a forked child:
 * otherwise the open file outlives the close and keeps reporting events.
 */
void evl_close(struct evl *loop, struct evl_io *io);

void evl_timer_init(struct evl_timer *t);
/* (Re)arm t to fire once after delay_ms. */
void evl_timer_start(struct evl *loop, struct evl_timer *t, uint64_t delay_ms, evl_timer_cb cb);
void evl_timer_stop(struct evl *loop, struct evl_timer *t);
static inline bool evl_timer_armed(const struct evl_timer *t)
{
	return t->heap_idx != (size_t)-1;
}

/* Called in the loop's thread after each batch of events and timers. */
void evl_set_before_sleep(struct evl *loop, evl_hook_cb cb, void *arg);
/* Called in the loop's thread after another thread called evl_wakeup(). */
void evl_set_wake_cb(struct evl *loop, evl_hook_cb cb, void *arg);
/* Thread-safe, async-signal-safe: make the loop run its wake callback soon. */
void evl_wakeup(struct evl *loop);

/* Run until evl_stop(); returns 0, or -errno if epoll_wait failed. */
int evl_run(struct evl *loop);
void evl_stop(struct evl *loop);
/* free(ptr) after the current batch of events (for objects holding an evl_io). */
void evl_defer_free(struct evl *loop, void *ptr);

/* The owner's pointer, for callbacks that need their context. */
void evl_set_data(struct evl *loop, void *data);
void *evl_data(const struct evl *loop);
/* Monotonic time in ms, cached once per loop iteration. */
uint64_t evl_now(const struct evl *loop);

#endif
