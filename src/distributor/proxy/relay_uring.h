/* ALBM: the io_uring relay — multishot recv into provided buffers, batched sends */
#ifndef ALBM_DISTRIBUTOR_PROXY_RELAY_URING_H
#define ALBM_DISTRIBUTOR_PROXY_RELAY_URING_H

#include <stddef.h>

#include "distributor/proxy/proxy-t.h"

/* Can this kernel give the relay what it needs (a ring, a provided-buffer ring,
 * multishot recv)?  0, or -errno with err. */
int uring_probe(char *err, size_t errlen);
/* The worker is going away: its ring and buffers. */
void uring_worker_free(struct albmd_pworker *pw);

/* Called when a connection leaves the ring (EOF, error): the fast path gives it back. */
typedef void (*uring_back_cb)(struct albmd_conn *c);
/* Hand c's relay to the worker's ring (created in this thread at the first call).  Its
 * sockets stay registered in epoll with no events.  0, or -errno (c unchanged). */
int uring_pair(struct albmd_conn *c, uring_back_cb back);
/* c is closing: its operations are cancelled and its buffers return to the ring; any
 * completion still on its way is ignored. */
void uring_forget(struct albmd_conn *c);
/* After a batch: submit the operations the batch prepared, in one system call. */
void uring_flush(struct albmd_pworker *pw);

#endif
