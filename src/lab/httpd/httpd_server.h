/* ALBM: albm-httpd's server — listener, event loop (common/ev.c), lists, counters */
#ifndef ALBM_LAB_HTTPD_SERVER_H
#define ALBM_LAB_HTTPD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/httpd/httpd-t.h"

/* Validate a --name: 1..63 of [A-Za-z0-9_.-]. */
bool httpd_name_valid(const char *name);

int httpd_server_open(struct httpd_server *s, const struct httpd_cfg *cfg, char *err,
		      size_t errlen);
/* Serve until httpd_server_stop(); returns 0 or -errno from epoll_wait(). */
int httpd_server_run(struct httpd_server *s);
/* Ask the running server to stop (async-signal-safe). */
void httpd_server_stop(void);
void httpd_server_close(struct httpd_server *s);

#endif
