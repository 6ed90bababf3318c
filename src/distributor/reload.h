/* ALBM: albmd's configuration apply — start-up and SIGHUP / `albmctl reload` */
#ifndef ALBM_DISTRIBUTOR_RELOAD_H
#define ALBM_DISTRIBUTOR_RELOAD_H

#include "distributor/daemon.h"

/*
 * Make the running daemon match cfg (which it takes over on success; on failure
 * the caller still owns it).  Two phases: everything that can fail (binding new
 * addresses, reading the key) is prepared first, and only if all of it worked is
 * the difference applied: services and servers added, removed or changed by name,
 * listening sockets kept where the address did not change, live connections left
 * alone.  Takes d->lock.  0, or -errno with err; nothing changed on error.
 */
int albmd_apply_config(struct albmd *d, struct albmd_config *cfg, char *err, size_t errlen);
/* Re-read d->cfg.path and apply it; counts the result in d->st. */
int albmd_reload(struct albmd *d, char *err, size_t errlen);

#endif
