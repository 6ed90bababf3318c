#!/usr/bin/env bash
# ALBM: CI-sized smoke run of lab/run (2 servers, tiny mix, 1-2 s steps, rr and albm), cleanup checked.
#
# 1. A full run: steps.csv has a row with rps > 0 per scheduler (and the repeated last
#    step), mem.csv has samples per scheduler and server, the PNGs were drawn, and nothing
#    is left behind: no process, cgroup, swap file, state file or busy port.
# 2. An interrupted run: SIGTERM while the bench runs; lab/run must exit 130 and leave
#    nothing behind either.
# As root the lab uses cgroups and a swap file of its own; otherwise the paging model.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albm-agent albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed"

TMP=$(mktemp -d /tmp/albm-lab-smoke.XXXXXX)
on_exit "rm -rf '$TMP'"

# A port base whose 15 ports are free (the layout is P, P+1, P+2, P+10, P+11).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PB=""
for b in 17500 17530 17560 17590 17620; do
	if port_free "$b" && port_free $((b + 1)) && port_free $((b + 2)) && port_free $((b + 10)) &&
		port_free $((b + 11)); then
		PB=$b; break
	fi
done
[ -n "$PB" ] || skip "no free port range near 17500"

write_cluster() { # FILE STEP
	cat >"$1" <<EOF
name = smoke
title = lab smoke test
schedulers = rr,albm
mix = 1:50,256K:50
clients = 1:2:1
step = $2
warmup = 0s
repeat_last = 1
repeat_warmup = 0s
settle = 0s
sample_interval = 100ms
port_base = $PB
cpu_per_mb = 1ms
swap = 96M
server a weight=1 cpu=50% mem=32M swap=32M
server b weight=1 cpu=50% mem=32M swap=32M
EOF
}

# Only this run's cgroups and swap file (albm-lab-<lab/run's PID>, from cluster.env):
# other lab runs on the machine may come and go meanwhile.
run_cgroups() { ls -d /sys/fs/cgroup/*/albm-lab-"$1" /sys/fs/cgroup/albm-lab-"$1" 2>/dev/null; }
run_swaps() { grep -o "[^ ]*albm-lab-$1\.swap" /proc/swaps 2>/dev/null; }

# check_clean OUT: nothing of the run in OUT is left behind.
check_clean() {
	local out=$1 p pids="" lab
	[ ! -e "$out/lab.state" ] || fail "$out/lab.state left behind: $(cat "$out/lab.state")"
	lab=$(sed -n 's/^lab_pid=//p' "$out/cluster.env")
	[ -n "$lab" ] || fail "$out/cluster.env has no lab_pid"
	[ -z "$(run_cgroups "$lab")" ] || fail "cgroups left behind: $(run_cgroups "$lab")"
	[ -z "$(run_swaps "$lab")" ] || fail "swap left behind: $(run_swaps "$lab")"
	for p in /proc/[0-9]*; do
		grep -qaF "$TMP" "$p/cmdline" 2>/dev/null && pids="$pids ${p#/proc/}"
	done
	[ -z "$pids" ] || fail "processes left behind:$pids ($(ps -o pid,args -p "${pids# }" 2>/dev/null | tail -n +2))"
	for p in $PB $((PB + 1)) $((PB + 10)) $((PB + 11)); do
		port_free "$p" || fail "port $p still listening after the run"
	done
}

# ---- 1. a full run
write_cluster "$TMP/smoke.cluster" 1s
timeout 300 lab/run "$TMP/smoke.cluster" --out "$TMP/out" --build "$BIN" >"$TMP/run.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -30 "$TMP/run.log"; fail "lab/run exited $rc"; }
OUT=$TMP/out
[ -s "$OUT/steps.csv" ] || fail "no steps.csv"
for s in rr albm; do
	n=$(awk -F, -v s="$s" 'NR > 1 && $2 == s && $3 == 0 && $8 > 0' "$OUT/steps.csv" | wc -l)
	[ "$n" -eq 2 ] || { cat "$OUT/steps.csv"; fail "$s: expected 2 ramp steps with rps > 0, got $n"; }
	n=$(awk -F, -v s="$s" 'NR > 1 && $2 == s && $3 == 1 && $5 == 2 && $8 > 0' "$OUT/steps.csv" | wc -l)
	[ "$n" -eq 1 ] || fail "$s: expected the repeated 2-client step, got $n rows"
	for srv in a b; do
		n=$(awk -F, -v s="$s" -v v="$srv" 'NR > 1 && $2 == s && $4 == v && $5 != ""' "$OUT/mem.csv" | wc -l)
		[ "$n" -ge 3 ] || fail "$s: only $n memory samples for server $srv"
	done
done
grep -q '^overload_used=' "$OUT/cluster.env" || fail "cluster.env does not say which overload was used"
n=$(awk -F, 'NR > 1 && $NF != "swap" && $NF != "paging"' "$OUT/steps.csv" | wc -l)
[ "$n" -eq 0 ] || fail "steps.csv: $n rows without the overload mode (swap|paging) in the last column"
if command -v gnuplot >/dev/null; then
	for f in smoke-rps.png smoke-p99.png smoke-mem-rr.png smoke-mem-albm.png; do
		[ "$(head -c 4 "$OUT/$f" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ] ||
			fail "$f missing or not a PNG"
	done
fi
grep -q "requests/s per ramp step" "$TMP/run.log" || fail "no comparison table printed"
check_clean "$OUT"
echo "full run ok ($(grep '^overload_used' "$OUT/cluster.env"))"

# ---- 2. interrupted while the bench runs
write_cluster "$TMP/long.cluster" 30s
lab/run "$TMP/long.cluster" --out "$TMP/out2" --build "$BIN" --no-plot >"$TMP/run2.log" 2>&1 &
LAB=$!
track_pid "$LAB"
for _ in $(seq 1 200); do
	[ -s "$TMP/out2/rr/bench-runs.txt" ] && break
	sleep 0.1
done
[ -s "$TMP/out2/rr/bench-runs.txt" ] || { tail -20 "$TMP/run2.log"; fail "the long run never started its bench"; }
sleep 1
kill -TERM "$LAB"
for _ in $(seq 1 200); do
	kill -0 "$LAB" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$LAB" 2>/dev/null && fail "lab/run still running 20 s after SIGTERM"
wait "$LAB"
rc=$?
[ "$rc" -eq 130 ] || { tail -20 "$TMP/run2.log"; fail "interrupted lab/run exited $rc, expected 130"; }
check_clean "$TMP/out2"
echo "interrupted run cleaned up"
echo "lab smoke: ok"
