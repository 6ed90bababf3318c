#!/usr/bin/env bash
# ALBM: lab smoke test of the timeline's events (root, cgroups) — one short run of two
# servers meets each kind once, and each is checked while it happens:
#   hog-mem  albm-hog inside the server's memory cgroup, which then holds its share
#   hog-cpu  albm-hog inside the server's CPU cgroups, burning CPU there
#   pause    the server's process is stopped (state T), and running again afterwards
#   kill     the server's process is gone, then a new one listens on its port
#   restart  stopped with SIGTERM and started again (a new PID)
# Afterwards: the events in OUT/events.csv and in mem.csv's events column (the memory
# samples under the hog show the memory taken), the time figure, and nothing left behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albm-agent albm-httpd albm-bench albm-hog
command -v python3 >/dev/null || skip "python3 not installed"
TMP=$(mktemp -d /tmp/albm-lab-events.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_run.sh
. tests/lib/lab_run.sh
need_lab_cgroups
PB=$(lab_port_base) || skip "no free port range near 17800"

cat >"$TMP/ev.cluster" <<EOF
name = events
title = lab events smoke test
schedulers = rr
mix = 1:50,256K:50
clients = 2
step = 9s
settle = 0s
sample_interval = 100ms
port_base = $PB
cpu_per_mb = 1ms
swap = 96M
server a cpu=50% mem=32M swap=32M
server b cpu=50% mem=32M swap=32M
event at=1s for=2s server=a hog-mem=50%
event at=1s for=2s server=b hog-cpu=100%
event at=3.5s for=1.5s server=a pause
event at=5.5s for=1s server=b kill
event at=7.5s server=a restart
EOF
OUT=$TMP/out
lab/run "$TMP/ev.cluster" --out "$OUT" --build "$BIN" >"$TMP/run.log" 2>&1 &
LAB=$!
track_pid "$LAB"
EV=$OUT/rr/events.csv
die() { tail -30 "$TMP/run.log"; fail "$*"; }
pid_of() { sed -n 's/.*pid \([0-9]*\).*/\1/p' <<<"$1"; }
state_of() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

# ---- hog-mem: in a's memory cgroup, which holds its 16 MiB
lab_wait_event "$EV" '^[^,]*,[^,]*,a,hog-mem,50%,start,' 40 || die "no hog-mem start"
hog=$(pid_of "$EV_LINE")
cg=$(lab_cg_of "$hog" memory) || die "hog-mem $hog: no memory cgroup"
[[ $cg == */albm-lab-$LAB/a ]] || die "hog-mem runs in $cg, not a's cgroup"
usage=0
for _ in $(seq 1 30); do
	if [ -f "$cg/memory.usage_in_bytes" ]; then usage=$(cat "$cg/memory.usage_in_bytes"); else usage=$(cat "$cg/memory.current"); fi
	[ "$usage" -ge $((15 << 20)) ] && break
	sleep 0.05
done
[ "$usage" -ge $((15 << 20)) ] || die "a's cgroup holds only $usage bytes under a 16 MiB hog"

# ---- hog-cpu: in b's CPU cgroup (its quota, its accounting), burning CPU there.  (Not
# asserted: throttling.  On a busy machine the hog gets less than b's quota anyway.)
lab_wait_event "$EV" '^[^,]*,[^,]*,b,hog-cpu,100%,start,' 10 || die "no hog-cpu start"
hog=$(pid_of "$EV_LINE")
cg=$(lab_cg_of "$hog" cpu) || die "hog-cpu $hog: no cpu cgroup"
[[ $cg == */albm-lab-$LAB/b ]] || die "hog-cpu runs in $cg, not b's cgroup"
grep -qx "$hog" "$cg/cgroup.procs" || die "hog-cpu $hog is not in $cg/cgroup.procs"
ticks=0
for _ in $(seq 1 30); do # utime + stime of the whole process, in clock ticks
	ticks=$(awk '{ print $14 + $15 }' "/proc/$hog/stat" 2>/dev/null || echo 0)
	[ "$ticks" -ge 10 ] && break
	sleep 0.05
done
[ "$ticks" -ge 10 ] || die "hog-cpu burnt only $ticks ticks of CPU"
lab_wait_event "$EV" '^[^,]*,[^,]*,b,hog-cpu,100%,end,' 10 || die "no hog-cpu end"

# ---- pause: a's process stopped, then running again
lab_wait_event "$EV" '^[^,]*,[^,]*,a,pause,,start,' 10 || die "no pause start"
srv=$(pid_of "$EV_LINE")
[ "$(state_of "$srv")" = T ] || die "a ($srv) is not stopped during the pause: $(state_of "$srv")"
lab_wait_event "$EV" '^[^,]*,[^,]*,a,pause,,end,' 10 || die "no pause end"
st=$(state_of "$srv")
[ -n "$st" ] && [ "$st" != T ] || die "a ($srv) is not running after the pause: '$st'"

# ---- kill: b's process gone, a new one later
lab_wait_event "$EV" '^[^,]*,[^,]*,b,kill,,start,' 10 || die "no kill start"
old=$(pid_of "$EV_LINE")
st=$(state_of "$old")
[ -z "$st" ] || [ "$st" = Z ] || die "b ($old) still alive after the kill: $st"
lab_wait_event "$EV" '^[^,]*,[^,]*,b,kill,,end,started pid' 10 || die "no kill end"
new=$(pid_of "$EV_LINE")
[ "$new" != "$old" ] && [ -n "$(state_of "$new")" ] || die "b was not started again ($old -> $new)"
wait_port $((PB + 11)) 5 || die "the restarted b does not listen"

# ---- restart: a stopped with SIGTERM, a new process
lab_wait_event "$EV" '^[^,]*,[^,]*,a,restart,,start,SIGTERM pid' 10 || die "no restart start"
old=$(pid_of "$EV_LINE")
lab_wait_event "$EV" '^[^,]*,[^,]*,a,restart,,end,started pid' 10 || die "no restart end"
new=$(pid_of "$EV_LINE")
[ "$new" != "$old" ] || die "a restarted with the same pid $old"

# ---- the run ends normally; the merged CSVs carry the events
for _ in $(seq 1 300); do kill -0 "$LAB" 2>/dev/null || break; sleep 0.1; done
wait "$LAB"
rc=$?
[ "$rc" -eq 0 ] || die "lab/run exited $rc"
python3 - "$OUT" <<'PY' || die "merged CSVs"
import csv, os, sys
out = sys.argv[1]
ev = list(csv.DictReader(open(os.path.join(out, "events.csv"))))
got = {(r["server"], r["kind"], r["action"]) for r in ev}
for want in [("a", "hog-mem", "start"), ("a", "hog-mem", "end"), ("b", "hog-cpu", "start"),
             ("b", "hog-cpu", "end"), ("a", "pause", "start"), ("a", "pause", "end"),
             ("b", "kill", "start"), ("b", "kill", "end"), ("a", "restart", "start"),
             ("a", "restart", "end")]:
    assert want in got, (want, got)
assert not any(r["action"] in ("exit", "oom-kill", "skipped", "not-reached") for r in ev), ev
mem = list(csv.DictReader(open(os.path.join(out, "mem.csv"))))
a = [r for r in mem if r["server"] == "a"]
hog = [float(r["avail_pct"]) for r in a if "hog-mem=50%" in r["events"]]
before = [float(r["avail_pct"]) for r in a if float(r["t_s"]) < 0.5]
assert hog and before, (len(hog), len(before))
assert min(hog) < min(before) - 35, (min(hog), min(before))  # 50 % of a's memory taken
assert any("pause" in r["events"] for r in a), "no sample marked pause"
assert any("down" in r["events"] for r in mem if r["server"] == "b"), "no sample marked down"
steps = list(csv.DictReader(open(os.path.join(out, "steps.csv"))))
assert len(steps) == 1 and float(steps[0]["rps"]) > 0, steps
PY
if command -v gnuplot >/dev/null; then
	[ "$(head -c 4 "$OUT/events-time.png" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ] ||
		die "events-time.png missing"
	grep -q "hog-mem" "$OUT/plot/events-rr.gp" || die "the memory figure has no event marks"
fi
lab_check_clean "$OUT" "$LAB"
echo "lab events: ok"
