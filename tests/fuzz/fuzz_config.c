/* ALBM fuzz target: albmd's config parser (any bytes -> 0 or file:line errors, no crash) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "distributor/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct albmd_config cfg;
	char err[4096];

	if (albmd_config_parse("fuzz.conf", (const char *)data, size, &cfg, err, sizeof(err)) == 0)
		albmd_config_free(&cfg);
	else if (strncmp(err, "fuzz.conf:", 10) != 0)
		__builtin_trap(); /* every error names the file */
	return 0;
}
