/* ALBM: albmd's growable text buffer (replies, /metrics, tables) */
#ifndef ALBM_DISTRIBUTOR_BUF_H
#define ALBM_DISTRIBUTOR_BUF_H

#include <stddef.h>

struct albmd_buf {
	char *p; /* NUL-terminated when len > 0 */
	size_t len, cap;
};

void albmd_buf_printf(struct albmd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void albmd_buf_append(struct albmd_buf *b, const void *data, size_t n);
/* Drop the first n bytes (sent). */
void albmd_buf_consume(struct albmd_buf *b, size_t n);
void albmd_buf_free(struct albmd_buf *b);

#endif
