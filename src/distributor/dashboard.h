/* ALBM: albmd's dashboard page (dashboard.html, embedded at build time) */
#ifndef ALBM_DISTRIBUTOR_DASHBOARD_H
#define ALBM_DISTRIBUTOR_DASHBOARD_H

#include <stddef.h>

extern const char albmd_dashboard_html[];
extern const size_t albmd_dashboard_html_len;

#endif
