/* ALBM fuzz target: albmd's admin HTTP request heads — the length-based parser, then the
 * routes of a parsed head against an in-memory daemon (one service), with and without a
 * token.  Every answer must be a complete HTTP/1.0 response; nothing may read past the
 * bytes received. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "distributor/admin_http.h"
#include "distributor/history.h"
#include "distributor/service.h"

static struct albmd d;

static void setup(void)
{
	static struct albmd_cfg_server servers[2];
	struct albmd_cfg_service cs;
	char err[256];

	memset(&cs, 0, sizeof(cs));
	snprintf(cs.name, sizeof(cs.name), "web");
	albm_addr_parse("127.0.0.1:8080", &cs.listen, err, sizeof(err));
	snprintf(cs.scheduler, sizeof(cs.scheduler), "rr");
	for (int i = 0; i < 2; i++) {
		snprintf(servers[i].name, sizeof(servers[i].name), "s%d", i + 1);
		albm_addr_parse(i ? "127.0.0.1:9002" : "127.0.0.1:9001", &servers[i].addr, err,
				sizeof(err));
		servers[i].weight = 1;
	}
	cs.servers = servers;
	cs.nservers = 2;
	d.services = calloc(1, sizeof(*d.services));
	if (!(d.services[0] = albmd_service_new(&d, &cs, err, sizeof(err))))
		abort();
	d.nservices = 1;
	albmd_history_sample(&d);
	albmd_history_sample(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct albmd_admin_conf conf[2] = {
		{ .chart_js = "/nonexistent" },
		{ .token = "fuzz-token-0123456789", .chart_js = "/nonexistent" },
	};
	static int once;
	struct albmd_http_req req;
	struct albmd_buf out = { 0 };
	char *buf;
	int rc;

	if (!once) {
		albm_log_init("fuzz", ALBM_LOG_ERR);
		pthread_mutex_init(&d.lock, NULL);
		setup();
		once = 1;
	}
	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees any overread */
	memcpy(buf, data + 1, size - 1);
	rc = albmd_http_parse(buf, size - 1, &req);
	if (rc > (int)(size - 1))
		__builtin_trap();
	if (rc > 0) {
		if (!memchr(req.method, 0, sizeof(req.method)) ||
		    !memchr(req.path, 0, sizeof(req.path)) ||
		    !memchr(req.token, 0, sizeof(req.token)) || req.path[0] != '/')
			__builtin_trap();
		albmd_admin_respond(&d, &conf[data[0] & 1], &req, &out);
		if (out.len < 17 || memcmp(out.p, "HTTP/1.0 ", 9) ||
		    !memmem(out.p, out.len, "\r\n\r\n", 4))
			__builtin_trap();
	}
	albmd_buf_free(&out);
	free(buf);
	return 0;
}
