/* ALBM: the version every binary prints (--version) and albmd exports (albm_build_info) */
#include "common/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Makefile passes -DALBM_VERSION="..." (scripts/version.sh) to this file only, so
 * that a new commit recompiles one file.  A build without it still says something true. */
#ifndef ALBM_VERSION
#define ALBM_VERSION "unknown"
#endif

const char *albm_version(void)
{
	return ALBM_VERSION;
}

void albm_version_print(const char *prog)
{
	printf("%s %s\n", prog, albm_version());
}

void albm_version_exit_if_asked(int argc, char **argv, const char *prog)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		albm_version_print(prog);
		exit(0);
	}
}
