/* ALBM: albmd's data planes — the registry (which plane serves a `mode`) */
#include "distributor/dataplane.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* Every data plane, by mode.  Adding a plane is one file and one line here (a mode
 * without a named constant in config.h is simply the next number). */
static const struct albmd_dataplane_ops *const dp_table[] = {
	[ALBMD_MODE_PROXY] = &albmd_dp_proxy,
	[ALBMD_MODE_DR] = &albmd_dp_dr,
};

_Static_assert(ARRAY_SIZE(dp_table) <= ALBMD_DATAPLANES_MAX, "raise ALBMD_DATAPLANES_MAX");

size_t albmd_dataplane_count(void)
{
	return ARRAY_SIZE(dp_table);
}

const struct albmd_dataplane_ops *albmd_dataplane_at(size_t i)
{
	return i < ARRAY_SIZE(dp_table) ? dp_table[i] : NULL;
}

const struct albmd_dataplane_ops *albmd_dataplane_for(enum albmd_mode mode)
{
	return albmd_dataplane_at((size_t)mode);
}

int albmd_dataplane_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(dp_table); i++)
		if (!strcmp(dp_table[i]->name, name))
			return (int)i;
	return -ENOENT;
}

void albmd_dataplane_names(char *buf, size_t len)
{
	size_t n = ARRAY_SIZE(dp_table), at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
				       !i          ? ""
				       : i + 1 < n ? ", "
						   : " or ",
				       dp_table[i]->name);
}

const char *albmd_mode_name(enum albmd_mode mode)
{
	const struct albmd_dataplane_ops *dp = albmd_dataplane_for(mode);

	return dp ? dp->name : "?";
}
