/* ALBM: albm-httpd's /stats document */
#ifndef ALBM_LAB_HTTPD_STATS_H
#define ALBM_LAB_HTTPD_STATS_H

struct httpd_server;

/* The /stats document (malloc()ed JSON text). */
char *httpd_stats_json(const struct httpd_server *s);

#endif
