#!/usr/bin/env bash
# ALBM: albm-agent's stall signals on a real v1 cgroup (with its cgroup2 twin on a hybrid
# system) and the default overload rules: a process busy at its CPU quota is not
# overloaded (the old --cpu-high rule would say it is); a process thrashing file pages
# through a memory limit is overloaded by memory stall while its available memory still
# looks fine; an OOM kill in the cgroup overloads at once, is counted in the signed
# reports (version 2) and holds for --oom-hold.
source tests/lib/common.sh
source tests/lib/agent.sh
need_root
need_bin albm-agent
command -v python3 > /dev/null || skip "needs python3"
agent_tmpdir
CG=albm-t106-$$
LIMIT=$((32 << 20))
cg_v1_create "$CG" "$LIMIT"
# no swap behind the limit, whether or not the machine has swap: over it means OOM
[ -f "$V1/memory/$CG/memory.memsw.limit_in_bytes" ] &&
	echo "$LIMIT" > "$V1/memory/$CG/memory.memsw.limit_in_bytes"
[ -f "$V1/cpu/$CG/cpu.cfs_quota_us" ] || skip "no cgroup v1 cpu controller"
# PSI is per cgroup2 group: on a hybrid system the processes also join the cgroup2 group
# of the same name, where the agent reads it
PSI=0
if [ -f /proc/pressure/memory ] && [ -n "$V2" ] && [ "$V2" != "$V1" ]; then
	mkdir "$V2/$CG" && CG_DIRS+=("$V2/$CG") && CG_PROCS+=("$V2/$CG/cgroup.procs") && PSI=1
fi
A=$BIN/albm-agent
SPEC=$V1/memory/$CG
state_of() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["state"], d.get("overload_reason", "-"))' "$1"; }

# ---- 1. busy at its CPU share: working, not overloaded (unless --cpu-high asks) ----
echo 5000 > "$V1/cpu/$CG/cpu.cfs_quota_us" # 0.05 CPU: reached even on a loaded machine
cg_run timeout 60 sh -c 'while :; do :; done'
SPIN=$CG_PID
busy() { python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1])["cpu_util"] < 0.8)' "$1"; }
for ((i = 0; i < 10; i++)); do # until the spinner has run at its quota for a whole second
	j=$("$A" --once --json --cgroup "$SPEC" --interval 1s) || fail "--once on the busy cgroup"
	busy "$j" && break
done
echo "busy:     $(state_of "$j"), cpu_util $(json_field cpu_util <<< "$j")"
busy "$j" || fail "a process spinning at its quota shows little CPU use: $j"
[ "$(json_field state <<< "$j")" = ok ] || fail "busy at its CPU share, yet overloaded by default: $j"
for ((i = 0; i < 10; i++)); do
	j=$("$A" --once --json --cgroup "$SPEC" --interval 1s --cpu-high 75 --cpu-low 50) ||
		fail "--once --cpu-high 75"
	busy "$j" && break
done
[ "$(state_of "$j")" = "overloaded cpu" ] || fail "--cpu-high 75 does not flag the busy cgroup: $j"
kill "$SPIN"
echo -1 > "$V1/cpu/$CG/cpu.cfs_quota_us"

# ---- a reporting agent for the rest: signed v2 reports to a decoder ----
"$A" --gen-key "$T/key" || fail "--gen-key"
UDP=$(free_port udp)
"$A" --decode-from "127.0.0.1:$UDP" --key-file "$T/key" > "$T/reports.jsonl" 2> "$T/decoder.log" &
track_pid $!
wait_udp "$UDP" || fail "decoder not listening: $(cat "$T/decoder.log")"
"$A" --name t106 --cgroup "$SPEC" --distributor "127.0.0.1:$UDP" --key-file "$T/key" \
	--interval 100ms --samples 2 --oom-hold 1s --psi-mem-high 3 --psi-mem-low 1 --json \
	> "$T/agent.jsonl" 2> "$T/agent.log" &
track_pid $!
line=$(wait_json "$T/reports.jsonl" "r.get('name') == 't106' and r['state'] == 'ok'") ||
	fail "no ok report: $(cat "$T/agent.log" "$T/reports.jsonl")"
python3 - "$line" "$PSI" <<'PY' || fail "first report: $line"
import json, sys
r, psi = json.loads(sys.argv[1]), sys.argv[2] == "1"
assert r["version"] == 2, r
assert r["oom_kills"] == 0 and "majfault_rate" in r, r    # the cgroup's counters
if psi:
    assert set(r["cg_psi"]) == {"memory", "cpu", "io"}, r
    assert set(r["host_psi"]) == {"memory", "cpu", "io"}, r
PY

# ---- 2. thrashing file pages: memory stall, while memory "available" looks fine ----
if [ "$PSI" = 1 ]; then
	F=$T/pages
	# a disk file three times the limit, written around the page cache: cached pages
	# would belong to this shell's cgroup, not the test's, and never fault
	dd if=/dev/zero of="$F" bs=1M count=96 oflag=direct status=none || fail "dd $F"
	cat > "$T/thrash.py" <<'PY'
import mmap, os, sys, time
f = open(sys.argv[1], "rb")
os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
end, s = time.monotonic() + 40, 0
while time.monotonic() < end:
    for i in range(0, len(m), 4096):
        s += m[i]
PY
	cg_run python3 "$T/thrash.py" "$F"
	THRASH=$CG_PID
	# Wait for a sample overloaded by stall or faults.  How much of the thrashed file
	# counts as reclaimable at one sample depends on the kernel's reclaim timing, so a
	# sample may also fall under mem_low and read "memory" (that rule is checked
	# first); a stall verdict is one that the memory rule alone would not have given.
	line=$(wait_json "$T/agent.jsonl" \
		"r['state'] == 'overloaded' and r['overload_reason'] in ('memory-stall', 'major-faults')" 30) ||
		fail "thrashing did not overload by stall: $(tail -2 "$T/agent.jsonl"; cat "$T/agent.log")"
	echo "thrash:   $(state_of "$line"), memory stall $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["cg_psi"]["memory"])' "$line")"
	python3 - "$line" <<'PY' || fail "thrash verdict: $line"
import json, sys
r = json.loads(sys.argv[1])
assert r["overload_reason"] in ("memory-stall", "major-faults"), r
assert r["mem_available_pct"] >= 10, r  # above mem_low: memory alone says fine
PY
	wait_json "$T/reports.jsonl" "r['state'] == 'overloaded'" > /dev/null ||
		fail "no overloaded report for the thrashing cgroup"
	kill "$THRASH"
	wait_json "$T/agent.jsonl" "r['state'] == 'ok'" 20 > /dev/null ||
		fail "no recovery after the thrashing stopped: $(tail -2 "$T/agent.jsonl")"
	rm -f "$F"
else
	echo "thrash:   skipped (no PSI here: /proc/pressure or a hybrid cgroup2 mount missing)"
fi

# ---- 3. an OOM kill: overloaded at once, counted, held, then recovered ----
# (a shell around it reports how it ended: 137 = SIGKILL, the OOM killer's signal)
cg_run sh -c 'exec 2> /dev/null; python3 -c "import time; b = b\"x\" * (64 << 20); time.sleep(30)"; echo $? > "$0"' \
	"$T/oom.rc"
for ((i = 0; i < 150; i++)); do [ -s "$T/oom.rc" ] && break; sleep 0.1; done
[ "$(cat "$T/oom.rc" 2> /dev/null)" = 137 ] ||
	fail "a 64 MiB allocation in a 32 MiB cgroup without swap was not OOM-killed (exit '$(cat "$T/oom.rc" 2> /dev/null)')"
line=$(wait_json "$T/agent.jsonl" "r.get('oom_kills', 0) >= 1 and r['state'] == 'overloaded'") ||
	fail "OOM kill not seen: $(tail -3 "$T/agent.jsonl")"
echo "oom kill: $(state_of "$line"), oom_kills $(json_field oom_kills <<< "$line")"
[ "$(json_field overload_reason <<< "$line")" = oom-kill ] || fail "reason: $line"
wait_json "$T/reports.jsonl" "r['oom_kills'] >= 1 and r['state'] == 'overloaded'" > /dev/null ||
	fail "the signed reports do not carry the OOM kill"
wait_json "$T/agent.jsonl" "r['state'] == 'ok' and r['oom_kills'] >= 1" 20 > /dev/null ||
	fail "no recovery after the OOM kill: $(tail -2 "$T/agent.jsonl")"
# the hold, by the agent's own clock: from the sample that saw the kill to the first ok
held=$(python3 - "$T/agent.jsonl" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
k = next(i for i, r in enumerate(rs) if r.get("overload_reason") == "oom-kill")
ok = next(r for r in rs[k:] if r["state"] == "ok")
print(ok["timestamp_ms"] - rs[k]["timestamp_ms"])
PY
) || fail "agent JSON lines: $(tail -5 "$T/agent.jsonl")"
echo "          back to ok after ${held} ms (--oom-hold 1s, then --samples 2 of 100 ms)"
[ "$held" -ge 1000 ] || fail "the OOM kill was not held for --oom-hold: ${held} ms"
# logged whether the kill overloaded the server or found it overloaded already (by the
# allocation that led to it, when that took two samples under mem_low)
grep -qE "state (ok|overloaded) -> overloaded \(oom-kill\)" "$T/agent.log" ||
	fail "log: $(cat "$T/agent.log")"
reports_sane "$T/reports.jsonl" || fail "decoder output"
echo "106-agent-stall: ok"
