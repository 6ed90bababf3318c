/* ALBM: libFuzzer target for the agent's procfs and cgroup file parsers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/metrics_cgroup.h"
#include "agent/metrics_file.h"
#include "agent/metrics_proc.h"
#include "agent/metrics_stall.h"

/* Input: one selector byte, then the file's text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct albm_cg_mounts mnt;
	struct albm_proc_cpu cpu;
	struct albm_psi_raw psi;
	uint64_t a, b;
	uint32_t n = 0;
	double d;
	char err[256], *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 8) {
	case 0:
		albm_proc_parse_meminfo("meminfo", text, &a, &b, err, sizeof(err));
		break;
	case 1:
		albm_proc_parse_stat("stat", text, &cpu, err, sizeof(err));
		break;
	case 2:
		albm_proc_parse_loadavg("loadavg", text, &d, &n, err, sizeof(err));
		break;
	case 3:
		albm_proc_count_tcp("tcp", text, &n, err, sizeof(err));
		break;
	case 4:
		albm_cg_parse_mountinfo(text, &mnt, err, sizeof(err));
		break;
	case 5:
		albm_kv_find("memory.stat", text, "inactive_file", &a, err, sizeof(err));
		break;
	case 6:
		albm_parse_u64_text("memory.max", text, 1, &a, err, sizeof(err));
		break;
	case 7:
		albm_psi_parse("memory.pressure", text, &psi, err, sizeof(err));
		break;
	}
	free(text);
	return 0;
}
