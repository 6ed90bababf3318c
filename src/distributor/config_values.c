/* ALBM: albmd config values — the slot setters of the directive table
 *
 * Each setter parses one word into the slot cmd->off of the block's struct, which
 * it writes only when the word is valid, and otherwise reports the error with
 * file:line.  cmd->lo/hi give the range, cmd->what the value's name in messages.
 * They are nginx's ngx_conf_set_*_slot: a directive of a known kind needs no code.
 */
#include "distributor/config_directives.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/duration.h"
#include "common/util.h"

static void *slot(void *conf, const struct cfg_cmd *cmd)
{
	return (char *)conf + cmd->off;
}

static const char *what(const struct cfg_cmd *cmd)
{
	return cmd->what ? cmd->what : cmd->name;
}

/* An unsigned integer of any width (the slot's size says which). */
static void store_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = v;
		break;
	}
}

int cfg_set_uint(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd)
{
	uint64_t v, min = (uint64_t)cmd->lo, max = (uint64_t)cmd->hi;

	if (albm_parse_u64(val, &v) < 0 || v < min || v > max) {
		cfg_error(ctx, n->line, "bad %s '%s' (expected an integer %llu-%llu)", what(cmd),
			  val, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	store_uint(slot(conf, cmd), cmd->size, v);
	return 0;
}

/* A duration in ms (uint64_t); lo is its minimum.  CFG_OFF: `off` or `0` is 0. */
int cfg_set_duration(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		     const struct cfg_cmd *cmd)
{
	uint64_t v;
	char e[128];

	if ((cmd->flags & CFG_OFF) && (!strcmp(val, "off") || !strcmp(val, "0"))) {
		*(uint64_t *)slot(conf, cmd) = 0;
		return 0;
	}
	if (albm_duration_parse_ms(val, &v, e, sizeof(e)) < 0) {
		cfg_error(ctx, n->line, "bad %s: %s", what(cmd), e);
		return -EINVAL;
	}
	if (v < (uint64_t)cmd->lo) {
		cfg_error(ctx, n->line, "%s must be at least %llums", what(cmd),
			  (unsigned long long)cmd->lo);
		return -EINVAL;
	}
	*(uint64_t *)slot(conf, cmd) = v;
	return 0;
}

int cfg_set_double(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		   const struct cfg_cmd *cmd)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (errno || end == val || *end || !(v >= cmd->lo && v <= cmd->hi)) {
		cfg_error(ctx, n->line, "bad %s '%s' (expected a number %g-%g)", what(cmd), val,
			  cmd->lo, cmd->hi);
		return -EINVAL;
	}
	*(double *)slot(conf, cmd) = v;
	return 0;
}

/* "10%" or "2.5%" -> 0.10 / 0.025 (a double); hi is the largest percentage.  The sign
 * is required so that "10" cannot mean 10 % to one reader and 1000 % (a fraction of
 * 10) to another. */
int cfg_set_percent(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	size_t len = strlen(val);
	char *end = NULL;
	double v;

	errno = 0;
	v = len >= 2 && strspn(val, "0123456789.") == len - 1 && val[len - 1] == '%'
		    ? strtod(val, &end)
		    : -1;
	if (v < 0 || errno || end != val + len - 1 || !(v <= cmd->hi)) {
		cfg_error(ctx, n->line, "bad %s '%s' (expected a percentage 0%%-%g%%, e.g. 10%%)",
			  what(cmd), val, cmd->hi);
		return -EINVAL;
	}
	*(double *)slot(conf, cmd) = v / 100.0;
	return 0;
}

/* A path into a char array of cmd->size bytes (hi, when set, is a lower limit:
 * a Unix socket's sun_path). */
int cfg_set_path(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd)
{
	size_t size = cmd->hi > 0 && (size_t)cmd->hi < cmd->size ? (size_t)cmd->hi : cmd->size;

	if (!val[0] || strlen(val) >= size) {
		cfg_error(ctx, n->line, "'%s': path empty or longer than %zu characters", cmd->name,
			  size - 1);
		return -EINVAL;
	}
	snprintf(slot(conf, cmd), size, "%s", val);
	return 0;
}

/* A numeric address with port (struct albm_addr). */
int cfg_set_addr(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd)
{
	struct albm_addr a;
	char e[160];

	if (albm_addr_parse(val, &a, e, sizeof(e)) < 0) {
		cfg_error(ctx, n->line, "bad %s: %s", what(cmd), e);
		return -EINVAL;
	}
	*(struct albm_addr *)slot(conf, cmd) = a;
	return 0;
}

/* One of cmd->keywords, stored as its (non-negative) value in an enum or int slot. */
int cfg_set_keyword(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		    const struct cfg_cmd *cmd)
{
	const struct cfg_keyword *k;
	char list[128] = "";
	size_t len = 0;

	for (k = cmd->keywords; k->word; k++) {
		if (!strcmp(val, k->word)) {
			store_uint(slot(conf, cmd), cmd->size, (uint64_t)k->value);
			return 0;
		}
	}
	for (k = cmd->keywords; k->word && len < sizeof(list); k++) {
		const char *sep = k == cmd->keywords ? "" : k[1].word ? ", " : " or ";
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", sep, k->word);
	}
	cfg_error(ctx, n->line, "%s takes %s", cmd->name, list);
	return -EINVAL;
}

/* `on` or `off` into a bool. */
int cfg_set_onoff(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		  const struct cfg_cmd *cmd)
{
	if (strcmp(val, "on") && strcmp(val, "off")) {
		cfg_error(ctx, n->line, "'%s' takes 'on' or 'off', not '%s'", cmd->name, val);
		return -EINVAL;
	}
	*(bool *)slot(conf, cmd) = !strcmp(val, "on");
	return 0;
}

/* An option without a value (`down`): sets a bool. */
int cfg_set_flag(struct cfg_ctx *ctx, const struct cfg_node *n, const char *val, void *conf,
		 const struct cfg_cmd *cmd)
{
	(void)ctx, (void)n, (void)val;
	*(bool *)slot(conf, cmd) = true;
	return 0;
}
