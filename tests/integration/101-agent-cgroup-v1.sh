#!/usr/bin/env bash
# ALBM: albm-agent scoped to a real cgroup v1 memory cgroup — a process allocating and
# freeing memory moves the agent's JSON and its signed UDP reports ok -> overloaded -> ok.
source tests/lib/common.sh
source tests/lib/agent.sh
need_root
need_bin albm-agent
command -v python3 > /dev/null || skip "needs python3"
agent_tmpdir
CG=albm-t101-$$
cg_v1_create "$CG" $((128 << 20))
# given as the v1 memory path; the cpu/cpuacct siblings are found by the same name
agent_memory_flow "$V1/memory/$CG" t101
j=$(once_json --cgroup "$CG") || fail "--once with a relative name"
[ "$(json_field scope <<< "$j")" = cgroup-v1 ] || fail "relative name not resolved to v1: $j"
echo "101-agent-cgroup-v1: ok"
