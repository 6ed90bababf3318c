#!/usr/bin/env bash
# ALBM benchmark: the control plane at scale — 1,000 agents x 10 signed reports/s into one
# albmd (make bench-control).
#
# One albmd, mode proxy on loopback, one service of 1,000 servers (scheduler albm; every
# server points at the same albm-httpd, so that the proxied requests measure albmd and
# not a backend) and an agents block.  bench/control_load (build/bench/control_load)
# plays the 1,000 agents: each sends 10 real reports per second, signed with the shared
# key by src/proto/report.c, spread evenly (10,000 datagrams/s).  Phases, 10 s each:
#   A1  no reports: the latency loop (bench/lib/latency.py: a new connection per request
#       at a fixed rate) and albmd's CPU
#   B   reports only: albmd's CPU (the target: at most 5 % of one core)
#   C   reports and the latency loop together
#   A2  no reports again (the machine's drift)
# Every report must be accepted (reports_received grows by what was sent, none rejected)
# and every server must be up.  CPU from utime+stime in /proc/PID/stat (all threads).
# Targets: B's CPU <= 5 % of one core; C's p50 and p99 within 10 % and 25 % of the
# slower of A1 and A2 (the latency "must not change").  A missed target is reported
# as missed; the exit code is 0 whatever the verdict (4: a tool is missing).
#
#   bench/control.sh [--agents N] [--rate R] [--phase-secs S] [--req-rate Q] [--out FILE]
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh

AGENTS=1000 RATE=10 PHASE=10 REQ_RATE=200 OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--agents) AGENTS=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--phase-secs) PHASE=$2; shift ;;
	--req-rate) REQ_RATE=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/control: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
for v in "$AGENTS" "$RATE" "$PHASE" "$REQ_RATE"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench/control: '$v' is not a positive count" >&2; exit 2; }
done
[ "$AGENTS" -le 1024 ] || { echo "bench/control: at most 1024 agents (servers per service)" >&2; exit 2; }
[ "$PHASE" -le 120 ] || { echo "bench/control: --phase-secs at most 120" >&2; exit 2; }
need_bin albmd albmctl albm-httpd albm-agent bench/control_load
command -v python3 >/dev/null || skip "needs python3"

T=$(mktemp -d /tmp/albm-control.XXXXXX)
on_exit "rm -rf '$T'"
trap 'exit 130' INT TERM HUP
HZ=$(getconf CLK_TCK)
# shellcheck source=../tests/lib/lab_tools.sh
TMP=$T . tests/lib/lab_tools.sh
BACKEND=$(free_port) VIP=$(free_port)
UDP=$((30000 + RANDOM % 10000))

"$BIN/albm-agent" --gen-key "$T/agent.key" >/dev/null 2>&1 || fail "albm-agent --gen-key"
"$BIN/albm-httpd" --listen "127.0.0.1:$BACKEND" --name b --log-level warn >"$T/httpd.log" 2>&1 &
track_pid $!
wait_port "$BACKEND" 10 || fail "albm-httpd did not start"
{
	echo "control { socket $T/albmd.sock; }"
	echo "agents { listen 127.0.0.1:$UDP; key-file $T/agent.key; timeout 60s; }"
	echo "service web {"
	echo "	listen 127.0.0.1:$VIP;"
	echo "	scheduler albm;"
	for ((i = 0; i < AGENTS; i++)); do
		printf '\tserver a%04d 127.0.0.1:%d;\n' "$i" "$BACKEND"
	done
	echo "}"
} >"$T/albmd.conf"
"$BIN/albmd" -f "$T/albmd.conf" >"$T/albmd.log" 2>&1 &
ALBMD=$!
track_pid "$ALBMD"
ctl() { "$BIN/albmctl" -s "$T/albmd.sock" "$@"; }
for _ in $(seq 100); do ctl ping >/dev/null 2>&1 && break; sleep 0.1; done
ctl ping >/dev/null || fail "albmd did not start: $(cat "$T/albmd.log")"
stat_of() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$ALBMD/stat"; }
# datagrams the kernel dropped on albmd's agents socket (its receive buffer was full)
udp_drops() { awk -v p="$(printf ':%04X' "$UDP")" '$2 ~ p"$" { print $NF }' /proc/net/udp | head -1; }
states() { ctl list | awk '$1 == "->" && $2 ~ /^a[0-9]/ { n[$6]++ } END { for (s in n) printf "%s %d ", s, n[s] }'; }

# phase NAME LATENCY(0|1): albmd's CPU % of one core over PHASE s (and the latency line)
phase() {
	local c0 c1 t0 t1 lat=""
	c0=$(ticks) t0=$(date +%s%N)
	if [ "$2" = 1 ]; then
		lat=$(python3 bench/lib/latency.py 127.0.0.1 "$VIP" --rate "$REQ_RATE" --secs "$PHASE")
	else
		sleep "$PHASE"
	fi
	c1=$(ticks) t1=$(date +%s%N)
	CPU[$1]=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", c * 100 / hz / (ns / 1e9) }')
	LAT[$1]=$lat
	echo "  phase $1: albmd CPU ${CPU[$1]} % of one core${lat:+; latency $lat}" >&2
}
declare -A CPU LAT
echo "bench/control: $AGENTS agents x $RATE reports/s, phases of $PHASE s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 bench/lib/latency.py 127.0.0.1 "$VIP" --rate 100 --secs 1 >/dev/null # warm-up
phase A1 1

drops0=$(udp_drops)
recv0=$(stat_of reports_received) rej0=$(ctl stats --json | python3 -c 'import json, sys; print(sum(json.load(sys.stdin)["reports_rejected"].values()))')
"$BIN/bench/control_load" --to "127.0.0.1:$UDP" --key-file "$T/agent.key" --agents "$AGENTS" \
	--rate "$RATE" --secs $((2 * PHASE + 4)) >"$T/load.txt" 2>&1 &
LOAD=$!
track_pid "$LOAD"
sleep 3 # every agent has reported: the servers are up and the albm scheduler has reports
up=$(states)
phase B 0
phase C 1
wait "$LOAD"
load=$(cat "$T/load.txt")
recv=$(($(stat_of reports_received) - recv0))
rej=$(($(ctl stats --json | python3 -c 'import json, sys; print(sum(json.load(sys.stdin)["reports_rejected"].values()))') - rej0))
drops=$(($(udp_drops) - drops0))
sleep 2
phase A2 1

# p50/p99 of a latency line
lat_of() { echo "${LAT[$1]}" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
report() {
	local a50 a99 c50 c99 r50 r99 v1 v2
	a50=$(lat_of A1 p50_us) a99=$(lat_of A1 p99_us)
	[ "$(lat_of A2 p50_us)" -gt "$a50" ] && a50=$(lat_of A2 p50_us)
	[ "$(lat_of A2 p99_us)" -gt "$a99" ] && a99=$(lat_of A2 p99_us)
	c50=$(lat_of C p50_us) c99=$(lat_of C p99_us)
	r50=$(awk -v a="$c50" -v b="$a50" 'BEGIN { printf "%.2f", a / b }')
	r99=$(awk -v a="$c99" -v b="$a99" 'BEGIN { printf "%.2f", a / b }')
	echo "bench/control — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "- command: \`bench/control.sh --agents $AGENTS --rate $RATE --phase-secs $PHASE --req-rate $REQ_RATE\` (\`make bench-control\`)"
	echo "- report load: $load; albmd counted $recv received, $rej rejected; the kernel dropped $drops on albmd's full socket buffer; servers while loaded: $up"
	echo "- latency loop: bench/lib/latency.py, a new connection per request, $REQ_RATE requests/s, GET /bytes/100"
	echo
	echo "| phase | reports | albmd CPU (% of one core) | requests | p50 µs | p90 µs | p99 µs | errors |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	for p in A1 B C A2; do
		case $p in B | C) rep="$((AGENTS * RATE))/s" ;; *) rep=none ;; esac
		if [ -n "${LAT[$p]}" ]; then
			echo "| $p | $rep | ${CPU[$p]} | $(lat_of "$p" n) | $(lat_of "$p" p50_us) | $(lat_of "$p" p90_us) | $(lat_of "$p" p99_us) | $(lat_of "$p" errors) |"
		else
			echo "| $p | $rep | ${CPU[$p]} | - | - | - | - | - |"
		fi
	done
	echo
	v1=$(awk -v c="${CPU[B]}" 'BEGIN { print (c <= 5.0) ? "MET" : "MISSED" }')
	v2=$(awk -v a="$r50" -v b="$r99" 'BEGIN { print (a <= 1.10 && b <= 1.25) ? "MET" : "MISSED" }')
	echo "- albmd CPU with $((AGENTS * RATE)) reports/s (phase B) <= 5 % of one core: **$v1** (${CPU[B]} %)"
	echo "- proxy latency unchanged under the report load (C against the slower of A1, A2; p50 <= 1.10x, p99 <= 1.25x): **$v2** (p50 ${r50}x, p99 ${r99}x)"
}
[ "$recv" -gt 0 ] || fail "albmd received no report: $load"
[ "$rej" = 0 ] || echo "bench/control: WARNING: $rej reports rejected" >&2
if [ -n "$OUT" ]; then report | tee "$OUT"; else report; fi
