/* ALBM: albmd config internals — the directive table (config_directives.c), its slot
 * setters (config_values.c) and the loop that applies it (config_apply.c) */
#ifndef ALBM_DISTRIBUTOR_CONFIG_DIRECTIVES_H
#define ALBM_DISTRIBUTOR_CONFIG_DIRECTIVES_H

#include <stddef.h>
#include <stdint.h>

#include "distributor/config-t.h"
#include "distributor/config_lex.h"

/*
 * Where a directive may appear, and so which struct its slot is in:
 *   CFG_MAIN, CFG_AGENTS, CFG_CONTROL   struct albmd_config
 *   CFG_HA                              struct albmd_cfg_ha (albmd_config.ha)
 *   CFG_SERVICE                         struct albmd_cfg_service
 * and the options that follow a directive's fixed words, NAME VALUE or a flag:
 *   CFG_SERVER     `server NAME ADDR [opts]`            struct albmd_cfg_server
 *   CFG_HEALTH     `health-check tcp [opts]`            struct albmd_cfg_health
 *   CFG_SLOW_START `slow-start DUR [opts]`              struct albm_adaptive_params
 *   CFG_PEER       `peer NAME ADDR [opts]` (ha block)   struct albmd_cfg_peer
 */
enum {
	CFG_MAIN = 1u << 0,
	CFG_AGENTS = 1u << 1,
	CFG_CONTROL = 1u << 2,
	CFG_SERVICE = 1u << 3,
	CFG_SERVER = 1u << 4,
	CFG_HEALTH = 1u << 5,
	CFG_SLOW_START = 1u << 6,
	CFG_HA = 1u << 7,
	CFG_PEER = 1u << 8,
};

/* Flags of a directive (struct cfg_cmd.flags).  Without CFG_NOARGS / CFG_ANYARGS a
 * directive takes exactly one word after its name. */
enum {
	CFG_BLOCK = 1u << 0,   /* `name ... { }`: the handler applies the block */
	CFG_MULTI = 1u << 1,   /* may appear more than once in a block (server, sched-flags) */
	CFG_NOARGS = 1u << 2,  /* no value: an option that is a flag (`down`) */
	CFG_ANYARGS = 1u << 3, /* the handler checks its words itself */
	CFG_OFF = 1u << 4,     /* duration: `off` or `0` mean 0 */
};

struct cfg_cmd;

/* Set one directive (val is args[1], or an option's value; NULL for a flag option)
 * into conf, the struct of its context; 0 or -EINVAL after cfg_error(). */
typedef int (*cfg_set_fn)(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val,
			  void *conf, const struct cfg_cmd *cmd);

/* A keyword of an enum directive (lists end with { NULL, 0 }). */
struct cfg_keyword {
	const char *word;
	int value;
};

/* One directive: nginx's ngx_command_t. */
struct cfg_cmd {
	const char *name;
	unsigned where;   /* CFG_MAIN | CFG_SERVICE | ... */
	cfg_set_fn set;   /* a slot setter below, or the directive's own handler */
	unsigned flags;   /* CFG_BLOCK | CFG_MULTI | ... */
	size_t off, size; /* the slot: offsetof() and sizeof() in conf */
	double lo, hi;    /* the value's range (integer, number, duration minimum
			   * in ms, percent maximum; path: a length limit) */
	const char *what; /* the value's name in messages (NULL: the directive's) */
	const struct cfg_keyword *keywords; /* cfg_set_keyword's words */
};

/* Slot setters (config_values.c): parse val into the slot at cmd->off (written only when valid). */
int cfg_set_uint(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd);
int cfg_set_duration(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		     const struct cfg_cmd *cmd);
int cfg_set_double(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		   const struct cfg_cmd *cmd);
int cfg_set_percent(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd);
int cfg_set_path(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd);
int cfg_set_addr(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd);
int cfg_set_keyword(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd);
int cfg_set_onoff(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		  const struct cfg_cmd *cmd);
int cfg_set_flag(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd);

/* (config_apply.c) Apply the directives of blk (a block, or the root for CFG_MAIN)
 * in context where to conf: each is looked up in the table, its argument count
 * checked, a repeat of a single-value directive refused, then its setter called.
 * inside names the block in messages ("agents", "service"; NULL at the top level). */
void cfg_apply_block(struct cfg_ctx *ctx, const struct cfg_node *blk, unsigned where, void *conf,
		     const char *inside);
/* Apply `NAME VALUE` pairs and flags from n->args[first..] in context where to
 * conf; messages start with who ("server 's1'", "health-check"). */
int cfg_apply_options(struct cfg_ctx *ctx, const struct cfg_node *n, int first, unsigned where,
		      void *conf, const char *who);

/* The table (config_directives.c) and its handlers of whole blocks (config.c's
 * entry point applies the root with cfg_apply_block). */
extern const struct cfg_cmd cfg_cmds[];
extern const size_t cfg_ncmds;

#endif
