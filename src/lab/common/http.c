/* ALBM: minimal HTTP/1.x head parsing (request and response) for the lab tools */
#include "lab/common/http.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#define HTTP_FIELD_NAME_MAX 64
#define HTTP_LENGTH_MAX     (1ull << 60) /* any larger Content-Length is nonsense */

/* What the header fields say; shared by both parsers. */
struct http_fields {
	bool conn_close, conn_keepalive;
	bool has_length, chunked;
	uint64_t length;
	char server[ALBM_NAME_MAX];
};

/* RFC 9110 tchar: the characters of a token (method, field name). */
static bool http_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of the head (through CRLF CRLF), or 0 when not complete. */
static size_t http_head_len(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);

	return end ? (size_t)(end - buf) + 4 : 0;
}

/* Split off the next CRLF-terminated line of [*p, end); -EINVAL on a bare CR/LF or NUL. */
static int http_next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *s = *p;

	for (const char *q = s; q + 1 < end; q++) {
		if (*q == '\r' && q[1] == '\n') {
			*line = s;
			*n = (size_t)(q - s);
			*p = q + 2;
			return 0;
		}
		if (*q == '\r' || *q == '\n' || *q == '\0')
			return -EINVAL;
	}
	return -EINVAL;
}

/* Parse "HTTP/1.<d>" at the start of s (exactly 8 characters). */
static int http_version(const char *s, size_t n, int *minor)
{
	if (n < 8 || memcmp(s, "HTTP/1.", 7) || !isdigit((unsigned char)s[7]))
		return -EINVAL;
	*minor = s[7] - '0';
	return 0;
}

/* Mark the Connection tokens we understand (a comma-separated list). */
static void http_connection(const char *v, size_t n, struct http_fields *f)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == 5 && !strncasecmp(v + s, "close", 5))
			f->conn_close = true;
		else if (e - s == 10 && !strncasecmp(v + s, "keep-alive", 10))
			f->conn_keepalive = true;
	}
}

/* Content-Length: digits only; a repeated field must repeat the same value. */
static int http_content_length(const char *v, size_t n, struct http_fields *f)
{
	uint64_t x = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > HTTP_LENGTH_MAX)
			return -EINVAL;
	}
	if (f->has_length && f->length != x)
		return -EINVAL;
	f->has_length = true;
	f->length = x;
	return 0;
}

/* One "name: value" line; records the fields we care about, validates all. */
static int http_field(const char *line, size_t n, struct http_fields *f)
{
	const char *colon = memchr(line, ':', n);
	const char *v;
	size_t name_len, vn;

	if (!colon || colon == line || (size_t)(colon - line) > HTTP_FIELD_NAME_MAX)
		return -EINVAL;
	name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++)
		if (!http_tchar((unsigned char)line[i]))
			return -EINVAL;
	v = colon + 1;
	vn = n - name_len - 1;
	for (size_t i = 0; i < vn; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return -EINVAL;
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;

	if (name_len == 10 && !strncasecmp(line, "Connection", 10))
		http_connection(v, vn, f);
	else if (name_len == 14 && !strncasecmp(line, "Content-Length", 14))
		return http_content_length(v, vn, f);
	else if (name_len == 17 && !strncasecmp(line, "Transfer-Encoding", 17))
		f->chunked = true;
	else if (name_len == 8 && !strncasecmp(line, "X-Server", 8)) {
		vn = vn < sizeof(f->server) - 1 ? vn : sizeof(f->server) - 1;
		memcpy(f->server, v, vn);
		f->server[vn] = '\0';
	}
	return 0;
}

/* Parse every field line after the start line up to the blank line. */
static int http_fields_parse(const char *p, const char *end, struct http_fields *f)
{
	const char *line;
	size_t n;

	memset(f, 0, sizeof(*f));
	for (;;) {
		if (http_next_line(&p, end, &line, &n))
			return -EINVAL;
		if (!n)
			return 0;
		if (http_field(line, n, f))
			return -EINVAL;
	}
}

/* "GET /path HTTP/1.1" */
static int http_request_line(const char *line, size_t n, struct albm_http_req *req)
{
	const char *sp1 = memchr(line, ' ', n), *sp2;
	size_t mlen, tlen;

	if (!sp1)
		return -EINVAL;
	mlen = (size_t)(sp1 - line);
	if (!mlen || mlen >= sizeof(req->method))
		return -EINVAL;
	for (size_t i = 0; i < mlen; i++)
		if (!http_tchar((unsigned char)line[i]))
			return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2)
		return -EINVAL;
	tlen = (size_t)(sp2 - sp1 - 1);
	if (!tlen || tlen >= sizeof(req->target))
		return -EINVAL;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)sp1[1 + i] <= 0x20 || (unsigned char)sp1[1 + i] >= 0x7f)
			return -EINVAL;
	if ((size_t)(line + n - sp2 - 1) != 8 || http_version(sp2 + 1, 8, &req->minor))
		return -EINVAL;
	memcpy(req->method, line, mlen);
	req->method[mlen] = '\0';
	memcpy(req->target, sp1 + 1, tlen);
	req->target[tlen] = '\0';
	return 0;
}

/* HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 only with
 * "Connection: keep-alive" (RFC 9112 section 9.3).  Requests and responses alike. */
static bool http_keepalive(int minor, const struct http_fields *f)
{
	return minor >= 1 ? !f->conn_close : (f->conn_keepalive && !f->conn_close);
}

int albm_http_parse_request(const char *buf, size_t len, struct albm_http_req *req)
{
	size_t head = http_head_len(buf, len);
	const char *p = buf, *line;
	struct http_fields f;
	size_t n;

	if (!head)
		return 0;
	memset(req, 0, sizeof(*req));
	if (http_next_line(&p, buf + head, &line, &n) || http_request_line(line, n, req))
		return -EINVAL;
	if (http_fields_parse(p, buf + head, &f))
		return -EINVAL;
	req->keepalive = http_keepalive(req->minor, &f);
	req->has_body = f.chunked || (f.has_length && f.length > 0);
	return (int)head;
}

/* "HTTP/1.1 200 OK" (the reason phrase may be empty or absent) */
static int http_status_line(const char *line, size_t n, struct albm_http_resp *resp)
{
	if (n < 12 || http_version(line, n, &resp->minor) || line[8] != ' ')
		return -EINVAL;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return -EINVAL;
	if (n > 12 && line[12] != ' ')
		return -EINVAL;
	resp->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return resp->status >= 100 ? 0 : -EINVAL;
}

int albm_http_parse_response(const char *buf, size_t len, struct albm_http_resp *resp)
{
	size_t head = http_head_len(buf, len);
	const char *p = buf, *line;
	struct http_fields f;
	size_t n;

	if (!head)
		return 0;
	memset(resp, 0, sizeof(*resp));
	if (http_next_line(&p, buf + head, &line, &n) || http_status_line(line, n, resp))
		return -EINVAL;
	if (http_fields_parse(p, buf + head, &f))
		return -EINVAL;
	resp->keepalive = http_keepalive(resp->minor, &f);
	resp->has_length = f.has_length;
	resp->content_length = f.length;
	resp->chunked = f.chunked;
	memcpy(resp->server, f.server, sizeof(resp->server));
	return (int)head;
}

const char *albm_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}
