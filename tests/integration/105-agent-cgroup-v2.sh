#!/usr/bin/env bash
# ALBM: albm-agent scoped to a real cgroup2 group — CPU accounting from cpu.stat (a busy
# group against an idle one), memory from memory.current/memory.max where the memory
# controller is delegated (then the same ok -> overloaded -> ok scenario as for v1).
source tests/lib/common.sh
source tests/lib/agent.sh
need_root
need_bin albm-agent
command -v python3 > /dev/null || skip "needs python3"
[ -n "$V2" ] || skip "no cgroup2 file system mounted"
agent_tmpdir

# CPU: cpu.stat exists in every cgroup2 group, controllers delegated or not
cg_v2_create "albm-t105-idle-$$"
IDLE=$V2/albm-t105-idle-$$
cg_v2_create "albm-t105-busy-$$"
BUSY=$V2/albm-t105-busy-$$
cg_run timeout 60 sh -c 'while :; do :; done'
sleep 0.5
j=$(once_json --cgroup "$BUSY" --interval 1s) || fail "--once --cgroup $BUSY"
echo "busy: $j"
[ "$(json_field scope <<< "$j")" = cgroup-v2 ] || fail "not measured as cgroup2: $j"
python3 -c 'import json, sys; u = json.loads(sys.argv[1])["cpu_util"]; sys.exit(not (0.05 < u <= 1.0))' "$j" ||
	fail "a spinning process shows no CPU use in its cgroup: $j"
j=$(once_json --cgroup "$IDLE" --interval 1s) || fail "--once --cgroup $IDLE"
echo "idle: $j"
[ "$(json_field cpu_util <<< "$j")" = 0.0 ] || fail "an empty cgroup shows CPU use: $j"
if ! grep -qw memory "$V2/cgroup.controllers"; then
	host=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	[ "$(json_field mem_total_bytes <<< "$j")" = $((host * 1024)) ] ||
		fail "without a memory controller the host's memory is expected: $j"
	echo "105-agent-cgroup-v2: ok (CPU; the memory controller is not delegated in $V2 here," \
		"v2 memory parsing is covered by the unit fixtures)"
	exit 0
fi
kill "$CG_PID"
cg_v2_create "albm-t105-mem-$$" $((128 << 20)) || fail "memory controller listed but unusable"
agent_memory_flow "$V2/albm-t105-mem-$$" t105
echo "105-agent-cgroup-v2: ok"
