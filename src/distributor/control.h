/* ALBM: albmd's control socket — line commands from albmctl */
#ifndef ALBM_DISTRIBUTOR_CONTROL_H
#define ALBM_DISTRIBUTOR_CONTROL_H

#include <stdbool.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"

#define ALBMD_CTL_LINE_MAX 4096 /* longest command line, newline included */
#define ALBMD_CTL_MAX_ARGS 16

/*
 * Run one command line (without its newline) and append the reply to out: "OK" or
 * "ERR message" on the first line, then body lines (never empty), then one empty
 * line.  Takes d->lock itself.  Returns true for OK.
 */
bool albmd_control_exec(struct albmd *d, const char *line, size_t len, struct albmd_buf *out);

/* The Unix socket server (mode 0600).  open: bind (stale socket files are replaced,
 * a live albmd's is not); NULL with err. */
struct albmd_control *albmd_control_open(const char *path, char *err, size_t errlen);
void albmd_control_start(struct albmd *d, struct albmd_control *ctl);
void albmd_control_close(struct albmd *d, struct albmd_control *ctl);
const char *albmd_control_path(const struct albmd_control *ctl);

#endif
