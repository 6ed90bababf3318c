/* ALBM: albmd config internals — file:line errors and the directive tree (config_lex.c) */
#ifndef ALBM_DISTRIBUTOR_CONFIG_LEX_H
#define ALBM_DISTRIBUTOR_CONFIG_LEX_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_MAX_ARGS   32
#define CFG_MAX_ERRORS 20

/* Errors accumulate as "path:line: message" lines, so that `albmd --check` shows
 * all of them at once (up to CFG_MAX_ERRORS; nerr counts every one). */
struct cfg_ctx {
	const char *path;
	char *err;
	size_t errlen, used;
	int nerr;
};

void __attribute__((format(printf, 3, 4)))
cfg_error(struct cfg_ctx *ctx, int line, const char *fmt, ...);

/* One directive: its words (args[0] is the name), its line, and for a block
 * (`name args { ... }`) the directives inside. */
struct cfg_node {
	char *args[CFG_MAX_ARGS];
	int nargs, line;
	bool block;
	struct cfg_node *kids;
	size_t nkids, capkids;
};

/* Parse text into root's kids; 0, or -EINVAL after cfg_error().  Free root with
 * cfg_node_free() either way. */
int cfg_tree_parse(const char *text, size_t len, struct cfg_node *root, struct cfg_ctx *ctx);
void cfg_node_free(struct cfg_node *n);

#endif
