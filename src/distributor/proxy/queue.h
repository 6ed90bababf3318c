/* ALBM: the proxy's queue — clients waiting for a server (HAProxy's `timeout queue`) */
#ifndef ALBM_DISTRIBUTOR_PROXY_QUEUE_H
#define ALBM_DISTRIBUTOR_PROXY_QUEUE_H

#include "distributor/proxy/proxy-t.h"

/* Append c (admitted by conn_may_queue()) and arm the queue timer. */
void queue_push(struct albmd_conn *c);
/* Take c out of the queue (it continues as CONN_CONNECTING or is being closed). */
void queue_unlink(struct albmd_conn *c);
/* The waiting client hung up (revents of its socket). */
bool queue_client_gone(struct albmd_conn *c, uint32_t revents);
/* Unlink the clients that waited queue-timeout and return them, chained by qnext: with
 * the scheduler's overflow server (c->srv set: connect) or without (close).  Takes the
 * service locks itself. */
struct albmd_conn *queue_take_expired(struct albmd_pworker *pw, uint64_t now);
/* Pick servers for waiting clients, oldest first; unlink and return those that got
 * one (c->srv set: connect) or that can no longer get one (c->srv NULL: close),
 * chained by qnext.  Takes the service locks itself. */
struct albmd_conn *queue_dispatch(struct albmd_pworker *pw);

#endif
