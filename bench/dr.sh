#!/usr/bin/env bash
# ALBM benchmark: Direct Routing (albmd mode dr, XDP) against proxy mode (albmd mode proxy)
# in the same run, on the same lab/netns testbed, with the 5 MB / 15 MB request mix.
#
# For each mode: albm-bench in the client namespace for STEP seconds through the
# distributor, then
#   requests/s                      albm-bench's count / its counting window;
#   albmd CPU s                     the sum of albmd's threads' on-CPU time
#                                   (/proc/PID/task/*/schedstat) over the run;
#   XDP s (dr only)                 the XDP program's own run time, from the kernel's BPF
#                                   statistics (kernel.bpf_stats_enabled=1, run_time_ns of
#                                   the program attached to the distributor's eth0);
#   distributor CPU s / 1000 req    albmd CPU (+ XDP for dr) per 1000 requests;
#   softirq s / 1000 req            the machine-wide softirq time (/proc/stat) per 1000
#                                   requests (every namespace, every other process);
#   distributor softirq (estimate)  that minus the same figure for a "direct" run (client
#                                   to one server, no distributor, same mix, same lab):
#                                   the client's and servers' softirq work is the same in
#                                   every mode, what is left is the distributor's — the
#                                   proxy's TCP receive path, or DR's generic-XDP path
#                                   (which includes the XDP program's run time).
# Target: dr's distributor CPU per request <= 5 % of proxy's (MET/MISSED), counted two
# ways: albmd + XDP program run time (proxy: albmd only, its softirq work is not in its
# process time), and albmd + the distributor softirq estimate for both.  Also shown:
# albmd's idle cost (its timers, measured for IDLE s before the load: the same daemon
# code in both modes), and the ratio of the traffic-attributable CPU (total minus the
# idle rate over the run), which is what a faster testbed would converge to.
# Then bench/dr_xdp: the XDP program's packets/s on one core for SYN-sized frames.
#
# Usage: bash bench/dr.sh   (root).  Environment: BUILD (build dir), STEP=20 (seconds per
#        mode), CLIENTS=6, SERVERS=2, MIX=5M:50,15M:50, SCHED=wlc (both modes), ROUNDS=1
#        (direct+proxy+dr back to back), IDLE=5 (seconds of idle baseline before each
#        albmd run), HTTPD_ARGS="--cpu-per-mb 0 --mem-factor 0.01" (the servers' cost
#        model off, so that they are not the bottleneck), ALBMD_LOG=LEVEL, KEEP_LOGS=DIR.
# Runs in a private lab (ALBM_LAB_PREFIX=albmb$$) torn down at exit.  Exit 4 when root,
# netns or XDP are missing.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
STEP=${STEP:-20}
CLIENTS=${CLIENTS:-6}
SERVERS=${SERVERS:-2}
MIX=${MIX:-5M:50,15M:50}
ROUNDS=${ROUNDS:-1}
IDLE=${IDLE:-5}
HTTPD_ARGS=${HTTPD_ARGS:---cpu-per-mb 0 --mem-factor 0.01}
SCHED=${SCHED:-wlc}
LAB=lab/netns
export ALBM_LAB_PREFIX=albmb$$
TMP=$(mktemp -d /tmp/albm-bench-dr.XXXXXX)
PIDS=()
STATS_OLD=""

skip() { echo "bench/dr: SKIP: $*"; exit 4; }
die() { echo "bench/dr: $*" >&2; exit 1; }
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$STATS_OLD" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
	$LAB down >/dev/null 2>&1
	[ -n "${KEEP_LOGS:-}" ] && mkdir -p "$KEEP_LOGS" && cp "$TMP"/*.log "$TMP"/*.conf "$KEEP_LOGS"/ 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, XDP)"
for b in albmd albm-httpd albm-bench; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (make BUILD=$BUILD bins)"
done
[ -x "$BUILD/bench/dr_xdp" ] || make --no-print-directory -s BUILD="$BUILD" "$BUILD/bench/dr_xdp" ||
	die "cannot build $BUILD/bench/dr_xdp"
command -v bpftool >/dev/null || skip "bpftool not installed"
$LAB up --servers "$SERVERS" --clients 1 >"$TMP/up.txt" 2>"$TMP/up.err" ||
	skip "cannot build the namespace lab: $(tail -1 "$TMP/up.err")"
for ((i = 1; i <= SERVERS; i++)); do
	# the servers' cost model off (no computation, bodies sent from a small buffer): the
	# distributor is what is measured, not the emulated servers
	$LAB exec "s$i" "$BUILD/albm-httpd" --listen 0.0.0.0:80 --name "s$i" $HTTPD_ARGS \
		--log-level warn >"$TMP/httpd$i.log" 2>&1 &
	PIDS+=($!)
done
sleep 1

# ---- helpers ----------------------------------------------------------------------------
task_ns() { # PID -> ns on CPU of all its threads so far
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'
}
softirq_ticks() { awk '/^cpu / {print $8}' /proc/stat; }
xdp_prog_id() { # the program on the distributor's eth0
	$LAB exec d ip -d link show dev eth0 | awk '/prog\/xdp/ {for (i = 1; i <= NF; i++) if ($i == "id") {print $(i + 1); exit}}'
}
xdp_run_ns() { # ID -> "run_time_ns run_cnt"
	bpftool -j prog show id "$1" |
		python3 -c 'import json,sys; p = json.load(sys.stdin); print(p.get("run_time_ns", 0), p.get("run_cnt", 0))'
}

write_conf() { # MODE -> $TMP/MODE.conf
	local i
	{
		echo "control { socket $TMP/albmd.sock; }"
		echo "service web {"
		if [ "$1" = dr ]; then
			printf '\tlisten 10.77.0.100:80;\n\tmode dr;\n\tinterface eth0;\n'
		else
			printf '\tlisten 10.77.0.10:80;\n\tmode proxy;\n'
		fi
		printf '\tscheduler %s;\n' "$SCHED"
		for ((i = 1; i <= SERVERS; i++)); do
			if [ "$1" = dr ]; then echo "	server s$i 10.77.0.1$i;"; else echo "	server s$i 10.77.0.1$i:80;"; fi
		done
		echo "}"
	} >"$TMP/$1.conf"
}

# run_mode MODE -> one result line
#   "MODE requests errors rps albmd_us xdp_us softirq_us duration_s idle_albmd_us idle_s run_s"
run_mode() {
	local mode=$1 url pid id=0 x0=0 x1=0 n0=0 n1=0 c0 c1 s0 s1 i0 i1 t0 t1 line
	write_conf "$mode"
	$LAB exec d "$BUILD/albmd" -f "$TMP/$mode.conf" ${ALBMD_LOG:+--log-level $ALBMD_LOG} >"$TMP/albmd-$mode.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 50); do
		"$BUILD/albmctl" -s "$TMP/albmd.sock" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null || { cat "$TMP/albmd-$mode.log" >&2; die "albmd ($mode) did not start"; }
	if [ "$mode" = dr ]; then
		url=http://10.77.0.100:80
		id=$(xdp_prog_id)
		[ -n "$id" ] || skip "albmd attached no XDP program: $(tail -1 "$TMP/albmd-$mode.log")"
	else
		url=http://10.77.0.10:80
	fi
	sleep 0.5
	i0=$(task_ns "$pid") # albmd's fixed cost: its timers, without traffic
	sleep "$IDLE"
	i1=$(task_ns "$pid")
	[ "$id" != 0 ] && read -r x0 n0 <<<"$(xdp_run_ns "$id")"
	c0=$(task_ns "$pid") s0=$(softirq_ticks) t0=$(date +%s%N)
	$LAB exec c1 "$BUILD/albm-bench" --url "$url" --clients "$CLIENTS" --step "${STEP}s" \
		--mix "$MIX" --timeout 60s --quiet --csv "$TMP/$mode.csv" >"$TMP/bench-$mode.log" 2>&1 ||
		die "albm-bench ($mode) failed: $(tail -3 "$TMP/bench-$mode.log")"
	c1=$(task_ns "$pid") s1=$(softirq_ticks) t1=$(date +%s%N)
	[ "$id" != 0 ] && read -r x1 n1 <<<"$(xdp_run_ns "$id")"
	echo "$((n1 - n0)) $((x1 - x0))" >>"$TMP/xdp_runs"
	kill -TERM "$pid" && wait "$pid" 2>/dev/null
	line=$(sed -n 2p "$TMP/$mode.csv")
	IFS=, read -r _ _ dur req err rps _ <<<"$line"
	echo "$mode $req $err $rps $(((c1 - c0) / 1000)) $(((x1 - x0) / 1000))" \
		"$(((s1 - s0) * 1000000 / $(getconf CLK_TCK))) $dur $(((i1 - i0) / 1000)) $IDLE" \
		"$(((t1 - t0) / 1000000))e-3"
}

# run_direct -> "direct requests errors rps 0 0 softirq_us duration_s 0 1 run_s" (no distributor)
run_direct() {
	local s0 s1 t0 t1 line req err rps dur
	s0=$(softirq_ticks) t0=$(date +%s%N)
	$LAB exec c1 "$BUILD/albm-bench" --url http://10.77.0.11:80 --clients "$CLIENTS" --step "${STEP}s" \
		--mix "$MIX" --timeout 60s --quiet --csv "$TMP/direct.csv" >"$TMP/bench-direct.log" 2>&1 ||
		die "albm-bench (direct) failed: $(tail -3 "$TMP/bench-direct.log")"
	s1=$(softirq_ticks) t1=$(date +%s%N)
	line=$(sed -n 2p "$TMP/direct.csv")
	IFS=, read -r _ _ dur req err rps _ <<<"$line"
	echo "direct $req $err $rps 0 0 $(((s1 - s0) * 1000000 / $(getconf CLK_TCK))) $dur 0 1" \
		"$(((t1 - t0) / 1000000))e-3"
}

# ---- the runs -------------------------------------------------------------------------------
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo "")
[ -n "$STATS_OLD" ] && sysctl -qw kernel.bpf_stats_enabled=1
echo "bench/dr: scheduler $SCHED, $SERVERS servers, $CLIENTS clients, mix $MIX, ${STEP}s per mode, $ROUNDS round(s); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$TMP/results"
for ((r = 1; r <= ROUNDS; r++)); do
	run_direct >>"$TMP/results"
	run_mode proxy >>"$TMP/results"
	run_mode dr >>"$TMP/results"
done

python3 - "$TMP/results" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    v = [int(f[1]), int(f[2]), float(f[3]), int(f[4]), int(f[5]), int(f[6]), float(f[7]),
         int(f[8]), float(f[9]), float(f[10])]
    rows[f[0]] = [a + b for a, b in zip(rows.get(f[0], [0] * len(v)), v)]
base = rows["direct"][5] / rows["direct"][0] if rows.get("direct", [0])[0] else 0.0
print(f"{'mode':6} {'requests':>8} {'err':>3} {'req/s':>6} {'albmd s':>8} {'XDP s':>7} "
      f"{'albmd+XDP s/1000':>16} {'softirq s/1000':>14} {'dist. softirq s/1000':>20} "
      f"{'albmd+softirq s/1000':>20} {'idle ms/s':>9}")
a_per, b_per, traffic = {}, {}, {}
for m in ("direct", "proxy", "dr"):
    if m not in rows:
        continue
    req, err, rps, a_us, x_us, s_us, dur, i_us, i_s, run_s = rows[m]
    k = 1000 / req / 1e6 if req else float("inf")
    sirq = s_us * k
    est = max(s_us / req - base, 0) * 1000 / 1e6 if req else float("inf")
    est = max(est, x_us * k)  # dr: never below the XDP program's own run time
    idle = i_us / i_s / 1e6
    a_per[m] = (a_us + x_us) * k
    b_per[m] = a_us * k + est
    traffic[m] = max((a_us + x_us) / 1e6 - idle * run_s, 0) * 1000 / req if req else 0
    if m == "direct":
        print(f"{m:6} {req:8d} {err:3d} {req / dur:6.1f} {'-':>8} {'-':>7} {'-':>16} {sirq:14.4f} "
              f"{'(baseline)':>20} {'-':>20} {'-':>9}")
        continue
    print(f"{m:6} {req:8d} {err:3d} {req / dur:6.1f} {a_us / 1e6:8.3f} {x_us / 1e6:7.3f} "
          f"{a_per[m]:16.4f} {sirq:14.4f} {est:20.4f} {b_per[m]:20.4f} {idle * 1e3:9.2f}")
def verdict(name, d):
    if d.get("proxy", 0) <= 0 or "dr" not in d:
        return
    r = d["dr"] / d["proxy"] * 100
    print(f"dr / proxy, {name}: {r:.2f} % (target <= 5 %): {'MET' if r <= 5 else 'MISSED'}")
try:
    runs = [tuple(map(int, l.split())) for l in open(sys.argv[1].replace("results", "xdp_runs"))]
    n, ns = sum(r[0] for r in runs), sum(r[1] for r in runs)
    if n and rows.get("dr", [0])[0]:
        print(f"XDP in the dr run: {n / rows['dr'][0]:.0f} packets per request, "
              f"{ns / n:.1f} ns each (run_time_ns / run_cnt, bpf_stats on)")
except OSError:
    pass
verdict("albmd + XDP program run time (proxy: albmd)", a_per)
verdict("albmd + distributor softirq estimate", b_per)
if traffic.get("proxy"):
    print(f"dr / proxy, albmd + XDP less albmd's idle cost over the run: "
          f"{traffic['dr'] / traffic['proxy'] * 100:.2f} %")
# The machine is shared: the same ratios per round (proxy and dr back to back), median.
lines = [l.split() for l in open(sys.argv[1])]
rounds = [lines[i:i + 3] for i in range(0, len(lines) - 2, 3)]
if len(rounds) > 1:
    ra, rb = [], []
    for rd in rounds:
        d = {f[0]: f for f in rd}
        bq = int(d["direct"][6]) / int(d["direct"][1])
        def cost(m, soft):
            f = d[m]
            req, a_us, x_us, s_us = int(f[1]), int(f[4]), int(f[5]), int(f[6])
            est = max(s_us / req - bq, x_us / req if m == "dr" else 0)
            return (a_us + (est * req if soft else x_us)) / req
        ra.append(cost("dr", False) / cost("proxy", False) * 100)
        rb.append(cost("dr", True) / cost("proxy", True) * 100)
    med = lambda v: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
    print(f"per round ({len(rounds)}): albmd + XDP " + " ".join(f"{r:.1f}" for r in ra) +
          f" % (median {med(ra):.2f} %); with the softirq estimate " +
          " ".join(f"{r:.1f}" for r in rb) + f" % (median {med(rb):.2f} %)")
EOF
echo
echo "XDP path on one core (bench/dr_xdp, BPF_PROG_TEST_RUN):"
"$BUILD/bench/dr_xdp" 2>&1 | sed 's/^/  /'
