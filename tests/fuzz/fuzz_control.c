/* ALBM fuzz target: albmd's control commands — each input line runs against a live
 * in-memory service (no sockets); every reply must be well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "distributor/control.h"
#include "distributor/service.h"

static struct albmd d;

static void setup(void)
{
	static struct albmd_cfg_server servers[2];
	struct albmd_cfg_service cs;
	struct albmd_service *svc;
	char err[256];

	memset(&cs, 0, sizeof(cs));
	snprintf(cs.name, sizeof(cs.name), "web");
	albm_addr_parse("127.0.0.1:8080", &cs.listen, err, sizeof(err));
	cs.has_listen = true;
	snprintf(cs.scheduler, sizeof(cs.scheduler), "rr");
	cs.max_fails = 1;
	for (int i = 0; i < 2; i++) {
		memset(&servers[i], 0, sizeof(servers[i]));
		snprintf(servers[i].name, sizeof(servers[i].name), "s%d", i + 1);
		albm_addr_parse(i ? "127.0.0.1:9002" : "127.0.0.1:9001", &servers[i].addr, err,
				sizeof(err));
		servers[i].has_port = true;
		servers[i].weight = i + 1;
	}
	cs.servers = servers;
	cs.nservers = 2;
	svc = albmd_service_new(&d, &cs, err, sizeof(err));
	if (!svc)
		abort();
	d.services = calloc(1, sizeof(*d.services));
	d.services[0] = svc;
	d.nservices = 1;
}

static void teardown(void)
{
	for (size_t i = 0; i < d.nservices; i++)
		albmd_service_retire(&d, d.services[i]);
	free(d.services);
	d.services = NULL;
	d.nservices = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	const char *p = (const char *)data, *end = p + size;

	if (!once) {
		albm_log_init("fuzz", ALBM_LOG_ERR + 0);
		albm_log_level = ALBM_LOG_ERR;
		pthread_mutex_init(&d.lock, NULL);
		once = 1;
	}
	setup();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct albmd_buf out = { 0 };
		albmd_control_exec(&d, p, len, &out);
		/* a reply: OK or ERR first, then a terminating empty line, no other empty line */
		if (out.len < 4 || (strncmp(out.p, "OK\n", 3) && strncmp(out.p, "ERR ", 4)) ||
		    strcmp(out.p + out.len - 2, "\n\n") ||
		    strstr(out.p, "\n\n") != out.p + out.len - 2)
			__builtin_trap();
		albmd_buf_free(&out);
		p += len + 1;
	}
	teardown();
	return 0;
}
