/* ALBM: the proxy's listeners — one socket per worker per service address */
#ifndef ALBM_DISTRIBUTOR_PROXY_LISTENER_H
#define ALBM_DISTRIBUTOR_PROXY_LISTENER_H

#include "distributor/proxy/proxy-t.h"

/* Stop (true) or resume (false) accepting on every listener of the worker. */
void listener_pause(struct albmd_pworker *pw, bool pause);
/* Resume accepting if paused and the global maxconn has room again (the sweep). */
void listener_resume_if_room(struct albmd_pworker *pw);

#endif
