/* ALBM: the per-connection log's target — a file or a syslog socket, shared by the workers */
#ifndef ALBM_DISTRIBUTOR_ACCESS_LOG_H
#define ALBM_DISTRIBUTOR_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "distributor/config.h"

struct albmd;

/*
 * One opened target of `access-log` (docs/albmd.md, "Connection log"), reference
 * counted: the daemon holds one reference, and each worker that writes to it one more,
 * so that a reload (which reopens the file: log rotation) never closes a descriptor a
 * worker is writing to.  The workers format and buffer the lines themselves
 * (proxy/alog.c) and follow the daemon's current target on their sweep.
 */
struct albmd_alog {
	int refs;                  /* atomic */
	enum albmd_alog_kind kind; /* FILE or SYSLOG */
	int fd;                    /* FILE: opened O_APPEND; SYSLOG: -1 */
	char path[ALBMD_PATH_MAX]; /* the file, or the syslog socket */
};

/* Open the config's target (NULL in *out when `access-log` is off); 0, or -errno with
 * a message.  Reload's prepare phase: nothing changes on error. */
int albmd_alog_open(const struct albmd_config *cfg, struct albmd_alog **out, char *err,
		    size_t errlen);
/* Make a the daemon's target (NULL: off); the previous one is released. */
void albmd_alog_install(struct albmd *d, struct albmd_alog *a);
/* The target's generation: it changes with every install (read without a lock). */
uint64_t albmd_alog_generation(const struct albmd *d);
/* The current target with a reference for the caller (NULL: off), and its generation. */
struct albmd_alog *albmd_alog_get(struct albmd *d, uint64_t *gen);
void albmd_alog_put(struct albmd_alog *a);

#endif
