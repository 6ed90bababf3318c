/* ALBM: the version every binary prints (--version) and albmd exports (albm_build_info) */
#ifndef ALBM_COMMON_VERSION_H
#define ALBM_COMMON_VERSION_H

#include <stdbool.h>

/* "0.1.0", "0.1.0+git.1a2b3c4d5e6f": scripts/version.sh, fixed at build time. */
const char *albm_version(void);

/* Print "PROG VERSION" to stdout. */
void albm_version_print(const char *prog);

/*
 * For mains with their own option parsing: when argv[1] is "--version", print the
 * version and exit(0).  One line at the top of main(), before anything else runs.
 */
void albm_version_exit_if_asked(int argc, char **argv, const char *prog);

#endif
