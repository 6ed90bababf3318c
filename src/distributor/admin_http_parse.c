/* ALBM: albmd's admin HTTP request-head parser — by length, no C-string assumptions
 *
 * The bytes come from any local (or, with a token, remote) client: they may hold NUL
 * bytes, lack line ends or never finish.  The parser looks only at buf[0..len), says
 * "bad" as soon as what arrived cannot start a valid head (a control byte, a request
 * line that is wrong once complete), so the client gets its 400 at once rather than
 * at the timeout, and "complete" only at the blank line.
 */
#include "distributor/admin_http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES (sizeof(((struct albmd_http_req *)0)->path) + 32)

/* Bytes a head may hold: printable ASCII, obs-text, HT, CR, LF. */
static bool head_bytes_ok(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

/* Copy [p, p+n) into dst (size dsz) as a string; false when it does not fit. */
static bool copy_field(char *dst, size_t dsz, const char *p, size_t n)
{
	if (n >= dsz)
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

/* "METHOD SP TARGET SP HTTP/1.x" (the line without its CR LF). */
static int parse_request_line(const char *p, size_t n, struct albmd_http_req *req)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *q;
	size_t mlen, tlen, vlen;

	if (!sp1)
		return -EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (!sp2)
		return -EBADMSG;
	mlen = (size_t)(sp1 - p);
	tlen = (size_t)(sp2 - sp1 - 1);
	vlen = n - (size_t)(sp2 + 1 - p);
	if (mlen == 0 || !copy_field(req->method, sizeof(req->method), p, mlen))
		return -EBADMSG;
	for (size_t i = 0; i < mlen; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return -EBADMSG;
	if (tlen == 0 || sp1[1] != '/' || memchr(sp1 + 1, ' ', tlen))
		return -EBADMSG;
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)))
		return -EBADMSG;
	q = memchr(sp1 + 1, '?', tlen);
	if (!copy_field(req->path, sizeof(req->path), sp1 + 1, q ? (size_t)(q - sp1 - 1) : tlen))
		return -EBADMSG;
	if (q && !copy_field(req->query, sizeof(req->query), q + 1, (size_t)(sp2 - q - 1)))
		return -EBADMSG;
	return 0;
}

/* One header line; only Authorization is kept. */
static int parse_header(const char *p, size_t n, struct albmd_http_req *req)
{
	static const char auth[] = "authorization", bearer[] = "Bearer ";
	const char *colon = memchr(p, ':', n), *v, *end = p + n;

	if (!colon || colon == p || memchr(p, ' ', (size_t)(colon - p)))
		return -EBADMSG;
	if ((size_t)(colon - p) != sizeof(auth) - 1 || strncasecmp(p, auth, sizeof(auth) - 1))
		return 0;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	req->has_auth = true;
	if ((size_t)(end - v) > sizeof(bearer) - 1 && !strncasecmp(v, bearer, sizeof(bearer) - 1) &&
	    copy_field(req->token, sizeof(req->token), v + sizeof(bearer) - 1,
		       (size_t)(end - v) - (sizeof(bearer) - 1)))
		req->bearer = true;
	return 0;
}

/* The end of the line that starts at p (before CR LF or LF), its next line in *next;
 * NULL when no LF arrived yet. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf)
		return NULL;
	*next = lf + 1;
	return lf > p && lf[-1] == '\r' ? lf - 1 : lf;
}

int albmd_http_parse(const char *buf, size_t len, struct albmd_http_req *req)
{
	const char *p = buf, *end = buf + len, *eol, *next;
	int rc;

	memset(req, 0, sizeof(*req));
	if (!head_bytes_ok(buf, len))
		return -EBADMSG;
	if (!(eol = line_end(p, end, &next)))
		return len > LINE_MAX_BYTES ? -EBADMSG : 0;
	if ((rc = parse_request_line(p, (size_t)(eol - p), req)) < 0)
		return rc;
	for (p = next; (eol = line_end(p, end, &next)); p = next) {
		if (eol == p) /* the blank line: the head is complete */
			return (int)(next - buf);
		if ((rc = parse_header(p, (size_t)(eol - p), req)) < 0)
			return rc;
	}
	return 0;
}
