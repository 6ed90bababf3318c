/* ALBM: albmd configuration — the parsed form of the nginx-style config file */
#ifndef ALBM_DISTRIBUTOR_CONFIG_H
#define ALBM_DISTRIBUTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "distributor/config-t.h"
#include "distributor/names.h" /* albmd_name_valid */

/*
 * Parse a whole config text.  path is used in messages only.  Returns 0, or -EINVAL
 * with err holding one or more lines "path:line: message".  On success *out owns
 * memory: release it with albmd_config_free().  On error *out is left empty.
 */
int albmd_config_parse(const char *path, const char *text, size_t len, struct albmd_config *out,
		       char *err, size_t errlen);
/* Read path and parse it; -errno with a message if it cannot be read. */
int albmd_config_load(const char *path, struct albmd_config *out, char *err, size_t errlen);
void albmd_config_free(struct albmd_config *cfg);

const struct albmd_cfg_service *albmd_config_find_service(const struct albmd_config *cfg,
							  const char *name);

#endif
