/* ALBM: albmd config — the loop that applies a block's directives by the table
 *
 * Each directive of a block is looked up in cfg_cmds[] (config_directives.c) by its
 * name and context, its shape checked (block or not, how many words), a repeat of a
 * single-value directive refused with both lines named, then its setter called.
 * Options (`server NAME ADDR weight 2 down`) go through the same table.
 */
#include "distributor/config_directives.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct cfg_cmd *cmd_find(const char *name, unsigned where)
{
	for (size_t i = 0; i < cfg_ncmds; i++)
		if ((cfg_cmds[i].where & where) && !strcmp(cfg_cmds[i].name, name))
			return &cfg_cmds[i];
	return NULL;
}

static void unknown(struct cfg_ctx *ctx, const struct cfg_node *n, const char *inside)
{
	const char *d = n->args[0];

	if (cmd_find(d, CFG_MAIN | CFG_AGENTS | CFG_CONTROL | CFG_HA | CFG_SERVICE))
		cfg_error(ctx, n->line, "'%s' is not allowed %s%s%s", d, inside ? "in the " : "",
			  inside ? inside : "at the top level", inside ? " block" : "");
	else if (!inside && n->block)
		cfg_error(ctx, n->line, "unknown block '%s'", d);
	else if (!inside)
		cfg_error(ctx, n->line, "unknown directive '%s'", d);
	else
		cfg_error(ctx, n->line, "unknown directive '%s' in %s block", d, inside);
}

/* The node's shape against the table's: block or not, one word after the name. */
static bool shape_ok(struct cfg_ctx *ctx, const struct cfg_node *n, const struct cfg_cmd *c)
{
	if ((c->flags & CFG_BLOCK) && !n->block) {
		cfg_error(ctx, n->line, "'%s' needs a block { ... }", c->name);
		return false;
	}
	if (!(c->flags & CFG_BLOCK) && n->block) {
		cfg_error(ctx, n->line, "'%s' does not take a block", c->name);
		return false;
	}
	if (!(c->flags & CFG_ANYARGS) && n->nargs != 2) {
		cfg_error(ctx, n->line, "'%s' takes 1 argument", c->name);
		return false;
	}
	return true;
}

/* A single-value directive given again in the same block: both lines named. */
static bool repeated(struct cfg_ctx *ctx, const struct cfg_node *n, const struct cfg_cmd *c,
		     int *seen)
{
	int *first = &seen[c - cfg_cmds];

	if (c->flags & CFG_MULTI)
		return false;
	if (!*first) {
		*first = n->line;
		return false;
	}
	if (c->flags & CFG_BLOCK)
		cfg_error(ctx, n->line, "'%s' block defined twice (first at line %d)", c->name,
			  *first);
	else
		cfg_error(ctx, n->line, "duplicate '%s' (first at line %d)", c->name, *first);
	return true;
}

void cfg_apply_block(struct cfg_ctx *ctx, const struct cfg_node *blk, unsigned where, void *conf,
		     const char *inside)
{
	int *seen = xcalloc(cfg_ncmds, sizeof(*seen));

	for (size_t i = 0; i < blk->nkids; i++) {
		const struct cfg_node *n = &blk->kids[i];
		const struct cfg_cmd *c = cmd_find(n->args[0], where);
		if (!c)
			unknown(ctx, n, inside);
		else if (shape_ok(ctx, n, c) && !repeated(ctx, n, c, seen))
			c->set(ctx, n, n->nargs > 1 ? n->args[1] : NULL, conf, c);
	}
	free(seen);
}

int cfg_apply_options(struct cfg_ctx *ctx, const struct cfg_node *n, int first, unsigned where,
		      void *conf, const char *who)
{
	int *seen = xcalloc(cfg_ncmds, sizeof(*seen)), rc = 0;

	for (int i = first; i < n->nargs && !rc; i++) {
		const char *k = n->args[i];
		const struct cfg_cmd *c = cmd_find(k, where);
		if (!c) {
			cfg_error(ctx, n->line, "%s: unknown option '%s'", who, k);
			rc = -EINVAL;
		} else if (seen[c - cfg_cmds]++) {
			cfg_error(ctx, n->line, "%s: '%s' given twice", who, k);
			rc = -EINVAL;
		} else if (!(c->flags & CFG_NOARGS) && i + 1 >= n->nargs) {
			cfg_error(ctx, n->line, "%s: '%s' needs a value", who, k);
			rc = -EINVAL;
		} else {
			rc = c->set(ctx, n, c->flags & CFG_NOARGS ? NULL : n->args[++i], conf, c);
		}
	}
	free(seen);
	return rc;
}
