#!/usr/bin/env bash
# ALBM: lab smoke test of a no-swap server (root, cgroups) — swap=0 gives the server's
# cgroup no swap, so two 12 MiB answers at once in a 16 MiB server are a real OOM kill of
# albm-httpd; the lab counts it (the cgroup's oom_kill counter), starts the server again
# after its restart_delay (1 s here), the failed requests count as errors, and the run's
# results report the OOM kills.  Nothing is left behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albm-agent albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed"
TMP=$(mktemp -d /tmp/albm-lab-oom.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_run.sh
. tests/lib/lab_run.sh
need_lab_cgroups
PB=$(lab_port_base) || skip "no free port range near 17800"

cat >"$TMP/oom.cluster" <<EOF
name = oom
title = lab OOM-restart smoke test
schedulers = rr
mix = 12M:100
clients = 2
step = 6s
settle = 0s
sample_interval = 100ms
port_base = $PB
cpu_per_mb = 1ms
agents = no
service_extra = fail-timeout 300ms;
server a cpu=100% mem=16M swap=0 restart_delay=1s
EOF
OUT=$TMP/out
lab/run "$TMP/oom.cluster" --out "$OUT" --build "$BIN" --no-plot >"$TMP/run.log" 2>&1 &
LAB=$!
track_pid "$LAB"
die() { tail -30 "$TMP/run.log"; fail "$*"; }

# While it runs: the server's memory cgroup has no swap.
for _ in $(seq 1 100); do
	d=$(ls -d /sys/fs/cgroup/memory/albm-lab-$LAB/a /sys/fs/cgroup/albm-lab-$LAB/a 2>/dev/null | head -1)
	[ -n "$d" ] && break
	sleep 0.1
done
[ -n "$d" ] || die "the server's cgroup never appeared"
if [ -f "$d/memory.limit_in_bytes" ]; then
	[ "$(cat "$d/memory.limit_in_bytes")" -eq $((16 << 20)) ] || die "memory limit $(cat "$d/memory.limit_in_bytes")"
	if [ -f "$d/memory.memsw.limit_in_bytes" ]; then
		[ "$(cat "$d/memory.memsw.limit_in_bytes")" -eq $((16 << 20)) ] ||
			die "memory+swap limit $(cat "$d/memory.memsw.limit_in_bytes"): swap allowed"
	fi
	[ "$(cat "$d/memory.swappiness")" -eq 0 ] || die "swappiness $(cat "$d/memory.swappiness")"
else
	[ "$(cat "$d/memory.swap.max")" = 0 ] || die "memory.swap.max $(cat "$d/memory.swap.max")"
fi
EV=$OUT/rr/events.csv
lab_wait_event "$EV" '^[^,]*,[^,]*,a,oom-kill,,oom-kill,' 30 || die "no OOM kill"
grep -q "Killed" "$TMP/run.log" && die "bash's job notice in the log"
lab_wait_event "$EV" '^[^,]*,[^,]*,a,exit,,exit,pid [0-9]*; status 137' 10 || die "no exit by SIGKILL"
lab_wait_event "$EV" '^[^,]*,[^,]*,a,restart,,restart,started pid' 10 || die "not restarted"

for _ in $(seq 1 300); do kill -0 "$LAB" 2>/dev/null || break; sleep 0.1; done
wait "$LAB"
rc=$?
[ "$rc" -eq 0 ] || die "lab/run exited $rc"
grep -q "OOM kills" "$TMP/run.log" || die "the results table has no OOM kills column"
python3 - "$OUT" <<'PY' || die "results"
import csv, os, sys
sys.path.insert(0, "lab/lib")
import results
out = sys.argv[1]
ev = list(csv.DictReader(open(os.path.join(out, "events.csv"))))
exits = [r for r in ev if r["action"] == "exit"]
restarts = [r for r in ev if r["action"] == "restart"]
assert exits and restarts, ev
# The restart policy waits restart_delay (1 s) after the exit it noticed (and the lab
# notices within a tick or so: the upper bound only says it did restart).
first = float(restarts[0]["unix_s"]) - float(exits[0]["unix_s"])
assert 0.95 <= first <= 10, first
env, res = results.summary(out)
rr = res["rr"]
assert rr["oom_kills"] >= 1 and rr["restarts"] >= 1, rr
assert rr["oom_kills"] == sum(int(r["detail"].split()[0]) for r in ev if r["action"] == "oom-kill")
steps = list(csv.DictReader(open(os.path.join(out, "steps.csv"))))
assert int(steps[0]["errors"]) > 0, steps  # requests on the killed server failed
mem = list(csv.DictReader(open(os.path.join(out, "mem.csv"))))
assert any("down" in r["events"] for r in mem), "no memory sample marked down"
PY
ls "$OUT"/rr/httpd-a-2.log >/dev/null || die "no log of the restarted server"
lab_check_clean "$OUT" "$LAB"
echo "lab OOM restart: ok"
