/* ALBM agent: HAProxy agent-check responder — one status line per TCP connection */
#ifndef ALBM_AGENT_HAPROXY_AGENT_H
#define ALBM_AGENT_HAPROXY_AGENT_H

#include <stddef.h>

#include "agent/overload.h"
#include "albm/metrics-t.h"

#define ALBM_HAPROXY_LINE_MAX 96

/*
 * The agent-check reply for the current decision (HAProxy configuration.txt,
 * "agent-check"); each names both the administrative and the operational state,
 * so that a later reply always undoes an earlier one:
 *   ok                   "ready up NN%\n"   NN = albm_overload_weight()
 *   overloaded           "drain up\n"
 *   below --mem-hard     "drain down #memory below hard limit\n"
 */
void albm_haproxy_format(const struct albm_overload *o, const struct albm_metrics *m, char *buf,
			 size_t len);
/* The reply while the agent cannot measure: "drain down #no measurement\n". */
void albm_haproxy_format_blind(char *buf, size_t len);

/* Listen on "ADDR:PORT" (TCP, non-blocking); returns the fd or -errno with err. */
int albm_haproxy_listen(const char *addr, char *err, size_t errlen);

/* Accept every pending connection on lfd and answer each with line, then close it. */
void albm_haproxy_serve(int lfd, const char *line);

#endif
