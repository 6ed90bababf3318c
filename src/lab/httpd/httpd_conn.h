/* ALBM: one albm-httpd connection — request parsing, admission, producing and
 * sending the response without blocking the others */
#ifndef ALBM_LAB_HTTPD_CONN_H
#define ALBM_LAB_HTTPD_CONN_H

#include <stdint.h>

#include "lab/httpd/httpd-t.h"

/* Take over an accepted, non-blocking socket. */
void httpd_conn_new(struct httpd_server *s, int fd);
void httpd_conn_event(struct httpd_conn *c, uint32_t events);
/* One turn of work for a connection on the run list. */
void httpd_conn_run(struct httpd_conn *c);
/* Its sleep (paging delay) is over. */
void httpd_conn_wake(struct httpd_conn *c);
/* Admit queued requests while they fit (FIFO). */
void httpd_conn_pump_queue(struct httpd_server *s);
/* Drop the connection and everything it holds. */
void httpd_conn_close(struct httpd_conn *c);

/* Register `events` for c in s's loop (0 removes interest); returns 0 or -errno. */
int httpd_conn_watch(struct httpd_server *s, struct httpd_conn *c, uint32_t events);
/* Move c between s's queue / run / sleep lists. */
void httpd_conn_move(struct httpd_server *s, struct httpd_conn *c, enum httpd_conn_list to);

#endif
