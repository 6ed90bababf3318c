/* ALBM: albmd's object names (services, servers, peers) — the one rule they follow */
#ifndef ALBM_DISTRIBUTOR_NAMES_H
#define ALBM_DISTRIBUTOR_NAMES_H

#include <stdbool.h>

/* Names: 1-63 characters of [A-Za-z0-9._-], not starting with '-'. */
bool albmd_name_valid(const char *s);

#endif
