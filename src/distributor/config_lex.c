/* ALBM: albmd config text -> directive tree: the tokenizer, the tree, file:line errors
 *
 * nginx-style: words ending in ';', blocks in '{ }' (one level), '#' comments,
 * quoted words with \" and \\ escapes.  What the directives mean is
 * config_directives.c's business.
 */
#include "distributor/config_lex.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CFG_MAX_TOKEN 1024

/* ---- errors ---- */

void cfg_error(struct cfg_ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	ctx->nerr++;
	if (!ctx->err || ctx->nerr > CFG_MAX_ERRORS || ctx->used + 1 >= ctx->errlen)
		return;
	n = snprintf(ctx->err + ctx->used, ctx->errlen - ctx->used,
		     "%s%s:%d: ", ctx->used ? "\n" : "", ctx->path, line);
	if (n > 0)
		ctx->used = ALBM_MIN(ctx->used + (size_t)n, ctx->errlen - 1);
	va_start(ap, fmt);
	n = vsnprintf(ctx->err + ctx->used, ctx->errlen - ctx->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		ctx->used = ALBM_MIN(ctx->used + (size_t)n, ctx->errlen - 1);
}

/* ---- tokenizer and directive tree ---- */

struct cfg_lexer {
	const char *p, *end;
	int line;
};

enum tok {
	TOK_EOF,
	TOK_WORD,
	TOK_SEMI,
	TOK_OPEN,
	TOK_CLOSE,
	TOK_ERROR
};

static void lex_skip_space(struct cfg_lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)*lx->p)) {
			lx->p++;
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
}

static enum tok lex_quoted(struct cfg_lexer *lx, char *buf, struct cfg_ctx *ctx)
{
	size_t n = 0;
	int line = lx->line;

	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		if (c == '\n')
			lx->line++;
		if (c == '\0' || n + 1 >= CFG_MAX_TOKEN) {
			cfg_error(ctx, line, c ? "quoted string too long" : "NUL byte in string");
			return TOK_ERROR;
		}
		buf[n++] = c;
	}
	if (lx->p >= lx->end) {
		cfg_error(ctx, line, "unterminated quoted string");
		return TOK_ERROR;
	}
	lx->p++;
	buf[n] = '\0';
	return TOK_WORD;
}

/* Next token; a word is copied into buf (CFG_MAX_TOKEN bytes). */
static enum tok lex_next(struct cfg_lexer *lx, char *buf, struct cfg_ctx *ctx)
{
	size_t n = 0;

	lex_skip_space(lx);
	if (lx->p >= lx->end)
		return TOK_EOF;
	switch (*lx->p) {
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '{':
		lx->p++;
		return TOK_OPEN;
	case '}':
		lx->p++;
		return TOK_CLOSE;
	case '"':
		return lex_quoted(lx, buf, ctx);
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
	       !(*lx->p && strchr(";{}#\"", *lx->p))) {
		if ((unsigned char)*lx->p < 0x20) {
			cfg_error(ctx, lx->line, "control character 0x%02x in config",
				  (unsigned char)*lx->p);
			return TOK_ERROR;
		}
		if (n + 1 >= CFG_MAX_TOKEN) {
			cfg_error(ctx, lx->line, "word too long");
			return TOK_ERROR;
		}
		buf[n++] = *lx->p++;
	}
	buf[n] = '\0';
	return TOK_WORD;
}

void cfg_node_free(struct cfg_node *n)
{
	for (int i = 0; i < n->nargs; i++)
		free(n->args[i]);
	for (size_t i = 0; i < n->nkids; i++)
		cfg_node_free(&n->kids[i]);
	free(n->kids);
}

static struct cfg_node *cfg_node_push(struct cfg_node *parent)
{
	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 8;
		parent->kids = xrealloc(parent->kids, parent->capkids * sizeof(*parent->kids));
	}
	memset(&parent->kids[parent->nkids], 0, sizeof(parent->kids[0]));
	return &parent->kids[parent->nkids++];
}

/* Parse statements into parent until '}' (depth > 0) or EOF (depth 0). */
static int tree_parse(struct cfg_lexer *lx, struct cfg_node *parent, int depth, struct cfg_ctx *ctx)
{
	char *buf = xmalloc(CFG_MAX_TOKEN);
	struct cfg_node *cur = NULL;
	int rc = -EINVAL;

	for (;;) {
		enum tok t = lex_next(lx, buf, ctx);
		if (t == TOK_ERROR)
			goto out;
		if (t == TOK_WORD) {
			if (!cur) {
				cur = cfg_node_push(parent);
				cur->line = lx->line;
			}
			if (cur->nargs == CFG_MAX_ARGS) {
				cfg_error(ctx, lx->line, "too many arguments to '%s'",
					  cur->args[0]);
				goto out;
			}
			cur->args[cur->nargs++] = xstrdup(buf);
			continue;
		}
		if (t == TOK_SEMI) {
			if (!cur) {
				cfg_error(ctx, lx->line, "unexpected ';'");
				goto out;
			}
			cur = NULL;
			continue;
		}
		if (t == TOK_OPEN) {
			if (!cur) {
				cfg_error(ctx, lx->line, "unexpected '{'");
				goto out;
			}
			if (depth >= 1) {
				cfg_error(ctx, cur->line, "block '%s' cannot be nested here",
					  cur->args[0]);
				goto out;
			}
			cur->block = true;
			if (tree_parse(lx, cur, depth + 1, ctx) < 0)
				goto out;
			cur = NULL;
			continue;
		}
		if (cur) { /* '}' or EOF right after words */
			cfg_error(ctx, cur->line, "directive '%s' is not terminated by ';'",
				  cur->args[0]);
			goto out;
		}
		if (t == TOK_CLOSE && depth == 0) {
			cfg_error(ctx, lx->line, "unexpected '}'");
			goto out;
		}
		if (t == TOK_EOF && depth > 0) {
			cfg_error(ctx, parent->line, "block '%s' is not closed by '}'",
				  parent->args[0]);
			goto out;
		}
		rc = 0;
		goto out;
	}
out:
	free(buf);
	return rc;
}

int cfg_tree_parse(const char *text, size_t len, struct cfg_node *root, struct cfg_ctx *ctx)
{
	struct cfg_lexer lx = { .p = text, .end = text + len, .line = 1 };

	memset(root, 0, sizeof(*root));
	return tree_parse(&lx, root, 0, ctx);
}
