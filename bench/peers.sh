#!/usr/bin/env bash
# ALBM benchmark: albmd (proxy mode) against HAProxy and nginx stream, same run (make bench-peers).
#
# Balancers, all on loopback, each in front of the same 4 backends and each given the same
# number of worker processes/threads (--workers, default 1):
#   direct          wrk straight to backend 1 (the reference)
#   albmd           mode proxy, scheduler rr, `workers N` (splice on, its default),
#                   `data-path auto` (the default: the in-kernel relay where the kernel has it)
#   albmd-epoll     the same with `data-path epoll` (the user-space relay)
#   albmd-sockmap   the same with `data-path sockmap` (every connection to the kernel at once)
#   albmd-uring     the same with `data-path uring` (every connection to the worker's io_uring)
#   uring           the io_uring relay prototype (bench/uring_relay.c: multishot accept and
#                   recv, provided buffers, batched submissions), `--workers` threads
#   albmd-log       `albmd` with the connection log on (`access-log FILE`): its cost
#   haproxy         2.6, mode tcp, balance roundrobin, nbthread N
#   haproxy-splice  the same with `option splice-auto` (the fair peer for a splice data plane)
#   nginx-rr        nginx stream, round robin, worker_processes N
#   nginx-lc        nginx stream, least_conn
# Backends: nginx serving a 1-byte and a 5 MiB file from the temp dir, keepalive_requests
# 10^8, sendfile; by default one instance with worker_processes 1 listening on 4 ports, so
# that direct and balanced runs have the same backend capacity (--backends 4: four
# instances with worker_processes 1 each).
# Rows (wrk -t1 -c32 -d10s --timeout 30s --latency): 1 B keep-alive, 1 B with
# `Connection: close` (a new connection per request), 5 MiB keep-alive, and 1 B
# keep-alive over 1000 connections (-c1000; also the balancer's resident memory, sampled
# in the middle of the run, per connection).  Figures:
# requests/s, p50/p99 latency, and each balancer's CPU time per request from utime+stime
# in /proc/PID/stat (all its processes and threads) before and after the wrk run; the
# same for the backends and wrk, and the host's busy share (the machine may be shared).  Median of --runs runs (default 2);
# the balancer order is reversed on every other run.  The output is Markdown: one table
# per row, then each target MET or MISSED with its figures.  The exit code is 0 whatever
# the verdict (a benchmark on a shared machine informs, it does not gate); 4 = skipped
# (a tool is missing), 1 = a balancer did not start or did not relay correctly.
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh
source bench/lib/peers.sh

usage() {
	cat <<-EOF
	usage: bench/peers.sh [--runs N] [--duration DUR] [--quick] [--workers N]
	                      [--threads N] [--connections N] [--backends 1|4]
	                      [--only LIST] [--out FILE] [--keep] [--syscalls]
	  --runs N          runs per (row, balancer); the median is reported (default 2)
	  --duration DUR    wrk -d per measurement (default 10s)
	  --quick           3 s smoke: --duration 3s --runs 1
	  --workers N       worker processes/threads of every balancer (default 1)
	  --threads N       wrk -t (default 1);  --connections N: wrk -c (default 32)
	  --backends 1|4    backend nginx instances (default 1, listening on 4 ports)
	  --only LIST       comma-separated subset of: albmd,albmd-log,albmd-epoll,albmd-sockmap,
	                    albmd-uring,uring,haproxy,haproxy-splice,nginx-rr,nginx-lc (default:
	                    all but albmd-sockmap, albmd-uring and uring)
	  --rows LIST       comma-separated subset of: 1b-ka,1b-close,5m-ka,1b-c1000 (default all)
	  --out FILE        also write the Markdown report to FILE
	  --keep            keep the temp dir (configs, logs, raw wrk output)
	  --syscalls        also count each balancer's system calls and context switches
	                    per request (perf stat on its processes during the wrk run)
	Environment defaults (for make bench-peers): BENCH_RUNS, BENCH_DURATION, BENCH_WORKERS;
	BUILD names the build dir holding albmd (default build).
	EOF
}

# environment defaults, for `make bench-peers` (which passes no arguments)
RUNS=${BENCH_RUNS:-2} DURATION=${BENCH_DURATION:-10s} WORKERS=${BENCH_WORKERS:-1}
THREADS=1 CONNS=32 BACKENDS=1 OUT="" KEEP=0 SYSCALLS=0
ALL_BALS="albmd,albmd-log,albmd-epoll,haproxy,haproxy-splice,nginx-rr,nginx-lc"
ONLY=$ALL_BALS ROWS_ARG="1b-ka,1b-close,5m-ka,1b-c1000"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--quick) DURATION=3s RUNS=1 ;;
	--workers) WORKERS=$2; shift ;;
	--threads) THREADS=$2; shift ;;
	--connections) CONNS=$2; shift ;;
	--backends) BACKENDS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--rows) ROWS_ARG=$2; shift ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	--syscalls) SYSCALLS=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for v in "$RUNS" "$WORKERS" "$THREADS" "$CONNS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench/peers: '$v' is not a positive count" >&2; exit 2; }
done
[[ $DURATION =~ ^[1-9][0-9]*[smh]?$ ]] || { echo "bench/peers: bad --duration '$DURATION'" >&2; exit 2; }
[[ $BACKENDS =~ ^[14]$ ]] || { echo "bench/peers: --backends is 1 or 4" >&2; exit 2; }

need_bin albmd
case ",$ONLY," in *,uring,*) need_bin bench/uring_relay ;; esac
for tool in haproxy nginx wrk curl python3 ss pgrep; do
	command -v "$tool" > /dev/null || skip "needs $tool (scripts/deps.sh)"
done
[ "$SYSCALLS" = 0 ] || command -v perf > /dev/null || skip "--syscalls needs perf (linux-perf)"
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	skip "needs nginx's stream module (libnginx-mod-stream)"

T=$(mktemp -d /tmp/albm-peers.XXXXXX)
[ "$KEEP" = 1 ] || on_exit 'rm -rf "$T"'
trap 'exit 130' INT TERM HUP # the EXIT trap stops every process started here
HZ=$(getconf CLK_TCK)

BACKEND_PORTS=()
for i in 1 2 3 4; do
	pick_port || fail "no free port"
	BACKEND_PORTS+=("$PORT_PICKED")
done
declare -A PORT
PORT[direct]=${BACKEND_PORTS[0]}
BALS=(direct)
IFS=, read -ra want <<< "$ONLY"
for b in "${want[@]}"; do
	case $b in
	albmd | albmd-log | albmd-epoll | albmd-sockmap | albmd-uring | uring | haproxy | haproxy-splice | \
		nginx-rr | nginx-lc)
		BALS+=("$b") ;;
	*) echo "bench/peers: unknown balancer '$b'" >&2; exit 2 ;;
	esac
	pick_port || fail "no free port"
	PORT[$b]=$PORT_PICKED
done

write_docroot "$T/www"
start_backends "$BACKENDS"
for b in "${BALS[@]}"; do
	case $b in
	albmd) start_albmd_proxy "$b" "${PORT[$b]}" auto ;;
	albmd-epoll) start_albmd_proxy "$b" "${PORT[$b]}" epoll ;;
	albmd-log) start_albmd_proxy "$b" "${PORT[$b]}" auto "access-log $T/access.log;" ;;
	albmd-sockmap) start_albmd_proxy "$b" "${PORT[$b]}" sockmap ;;
	albmd-uring) start_albmd_proxy "$b" "${PORT[$b]}" uring ;;
	uring) start_uring "$b" "${PORT[$b]}" ;;
	haproxy) start_haproxy "$b" "${PORT[$b]}" 0 ;;
	haproxy-splice) start_haproxy "$b" "${PORT[$b]}" 1 ;;
	nginx-rr) start_nginx_stream "$b" "${PORT[$b]}" "" ;;
	nginx-lc) start_nginx_stream "$b" "${PORT[$b]}" least_conn ;;
	esac
done

# every balancer must relay both files intact before its figures mean anything
for b in "${BALS[@]}"; do
	for f in 1b 5m; do
		got=$(curl -s --max-time 10 -o "$T/check" -w '%{http_code}' "http://127.0.0.1:${PORT[$b]}/$f")
		{ [ "$got" = 200 ] && cmp -s "$T/check" "$T/www/$f"; } ||
			fail "$b: GET /$f through port ${PORT[$b]} gave HTTP '$got' or a different body"
	done
done

declare -A ROW_PATH=([1b-ka]=1b [1b-close]=1b [5m-ka]=5m [1b-c1000]=1b)
IFS=, read -ra ROWS <<< "$ROWS_ARG"
for row in "${ROWS[@]}"; do
	[ -n "${ROW_PATH[$row]:-}" ] || { echo "bench/peers: unknown row '$row'" >&2; exit 2; }
done
BACKEND_PIDS=()
for n in "${!BAL_PID[@]}"; do
	case $n in backend*) read -ra p <<< "$(bal_pids "$n")" && BACKEND_PIDS+=("${p[@]}") ;; esac
done

# measure RUN ROW BAL: one wrk run; appends a line to $T/results.tsv, prints progress.
# CPU: the balancer's and the backends' from /proc/PID/stat, wrk's from `times`, and the
# whole machine's busy share from /proc/stat (the machine is shared: a busy host skews all)
measure() {
	local run=$1 row=$2 bal=$3 pids=() hdr=() c0 c1 b0 b1 w0 h0 h1 raw f busy
	local conns=$CONNS rss0=0 rss1=0 wpid kw=() k0 k1 ppid=""
	raw="$T/wrk-$run-$row-$bal.txt"
	[ "$bal" != direct ] && read -ra pids <<< "$(bal_pids "$bal")"
	[ "$row" = 1b-close ] && hdr=(-H 'Connection: close')
	[ "$row" = 1b-c1000 ] && conns=1000
	# the kernel's worker threads: the in-kernel relay writes the redirected data there
	read -ra kw <<< "$(pgrep '^kworker' | tr '\n' ' ')"
	c0=$(cpu_ticks "${pids[@]}") b0=$(cpu_ticks "${BACKEND_PIDS[@]}") k0=$(cpu_ticks "${kw[@]}")
	[ "$bal" != direct ] && rss0=$(rss_kb "${pids[@]}")
	read -ra h0 <<< "$(host_jiffies)"
	children_ms
	w0=$CHILDREN_MS
	wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 30s --latency "${hdr[@]}" \
		"http://127.0.0.1:${PORT[$bal]}/${ROW_PATH[$row]}" > "$raw" 2>&1 &
	wpid=$!
	if [ "$SYSCALLS" = 1 ] && [ "$bal" != direct ]; then
		# counting only (no sampling): the balancer's system calls and context switches
		perf stat -x, -e raw_syscalls:sys_enter,context-switches \
			-p "$(IFS=,; echo "${pids[*]}")" -o "$T/perf-$run-$row-$bal.txt" \
			-- sleep "${DURATION%[smh]}" > /dev/null 2>&1 &
		ppid=$!
	fi
	# resident memory with every connection open: half-way through the run
	sleep "$(awk -v d="${DURATION%[smh]}" -v u="${DURATION//[0-9]/}" 'BEGIN {
		m = u == "m" ? 60 : u == "h" ? 3600 : 1; print d * m / 2 }')"
	[ "$bal" != direct ] && rss1=$(rss_kb "${pids[@]}")
	wait "$wpid"
	[ -z "$ppid" ] || wait "$ppid"
	children_ms
	c1=$(cpu_ticks "${pids[@]}") b1=$(cpu_ticks "${BACKEND_PIDS[@]}") k1=$(cpu_ticks "${kw[@]}")
	read -ra h1 <<< "$(host_jiffies)"
	read -ra f <<< "$(wrk_parse "$raw")"
	if [ "${#f[@]}" -ne 6 ] || [ -z "${f[0]}" ]; then
		echo "bench/peers: could not parse wrk output for $bal $row:" >&2
		cat "$raw" >&2
		return 1
	fi
	if [ -n "$ppid" ]; then # RUN ROW BAL SYSCALLS SWITCHES REQ/S
		echo "$run $row $bal $(awk -F, '/raw_syscalls:sys_enter/ { s = $1 }
			/context-switches/ { c = $1 } END { print s + 0, c + 0 }' \
			"$T/perf-$run-$row-$bal.txt") ${f[0]}" >> "$T/syscalls.tsv"
	fi
	busy=$(((h1[0] - h0[0]) * 1000 / (h1[1] - h0[1] + 1)))
	echo "$run $row $bal ${f[*]} $((c1 - c0)) $((b1 - b0)) $((CHILDREN_MS - w0)) $busy $rss0 $rss1 $conns $((k1 - k0))" >> "$T/results.tsv"
	printf '  run %d %-8s %-15s %10s req/s  p50 %7.0f us  p99 %8.0f us  cpu %4d ticks  kworkers %4d  wrk %5d ms  host busy %3d.%d %%  rss %d->%d KiB  errors %d\n' \
		"$run" "$row" "$bal" "${f[0]}" "${f[1]}" "${f[2]}" "$((c1 - c0))" "$((k1 - k0))" "$((CHILDREN_MS - w0))" \
		$((busy / 10)) $((busy % 10)) "$rss0" "$rss1" $((f[4] + f[5])) >&2
	sleep 1 # let the previous connections close before the next balancer starts
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)
echo "bench/peers: $(nproc) CPUs, load $LOAD_START; results in $T" >&2

# warm-up: page cache for the files, first-connection costs of every balancer
for b in "${BALS[@]}"; do
	wrk -t1 -c4 -d1s "http://127.0.0.1:${PORT[$b]}/1b" > /dev/null 2>&1
	wrk -t1 -c4 -d1s "http://127.0.0.1:${PORT[$b]}/5m" > /dev/null 2>&1
done

LOADS=()
for ((run = 1; run <= RUNS; run++)); do
	order=("${BALS[@]}")
	if ((run % 2 == 0)); then # reverse: no balancer always runs first or last
		order=()
		for ((i = ${#BALS[@]} - 1; i >= 0; i--)); do order+=("${BALS[$i]}"); done
	fi
	LOADS+=("run $run: $(loadavg)")
	for row in "${ROWS[@]}"; do
		for b in "${order[@]}"; do
			measure "$run" "$row" "$b" || fail "wrk failed"
		done
	done
done
LOAD_END=$(loadavg)

ONLY_ARG=""
[ "$ONLY" = "$ALL_BALS" ] || ONLY_ARG=" --only $ONLY"
[ "$ROWS_ARG" = "1b-ka,1b-close,5m-ka,1b-c1000" ] || ONLY_ARG+=" --rows $ROWS_ARG"
report() {
	echo "bench/peers — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r)"
	echo
	echo "- command: \`bench/peers.sh --runs $RUNS --duration $DURATION --workers $WORKERS --threads $THREADS --connections $CONNS --backends $BACKENDS${ONLY_ARG}\`"
	echo "- wrk -t$THREADS -c$CONNS -d$DURATION --timeout 30s --latency (row 1b-c1000: -c1000); median of $RUNS run(s); balancer order reversed every other run"
	echo "- albmd: \`data-path auto\` (albmd), \`epoll\` (albmd-epoll), \`sockmap\` (albmd-sockmap), \`uring\` (albmd-uring); offered here: $(grep -ho 'data path: [a-z]* ([^)]*) available' "$T"/albmd*.log 2>/dev/null |
		sed 's/data path: //; s/ available//' | sort -u | paste -sd, - | sed 's/,/, /g')"
	echo "- memory: VmRSS of the balancer's processes half-way through the run, and before it; per connection = RSS / connections and (RSS - RSS before) / connections"
	echo "- every balancer: $WORKERS worker process/thread (albmd \`workers $WORKERS\`, HAProxy \`nbthread $WORKERS\`, nginx \`worker_processes $WORKERS\`)"
	if [ "$BACKENDS" = 1 ]; then
		echo "- backends: one nginx, worker_processes 1, listening on 4 ports (direct = port 1: same backend capacity as through a balancer)"
	else
		echo "- backends: four nginx instances, worker_processes 1 each (direct = instance 1)"
	fi
	echo "- albmd: $BIN/albmd, built $(date -u -r "$BIN/albmd" '+%Y-%m-%d %H:%M UTC')"
	echo "- versions: $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
	echo "- load average (1/5/15 min): start $LOAD_START; ${LOADS[*]}; end $LOAD_END"
	echo "- CPU µs/req: utime+stime of the balancer's processes (all threads) over the wrk run / requests (tick $((1000 / HZ)) ms); for albmd also that of the kernel's worker threads (kworker/*: the in-kernel relay writes there; it includes other work of the machine, so it is an upper bound; the kworkers column shows it for every balancer); the same for the backend nginx and for wrk; host busy: share of all CPUs not idle during the run (other users of the machine included)"
	python3 bench/lib/peers_report.py "$T/results.tsv" "$HZ"
	[ "$SYSCALLS" = 0 ] || python3 bench/lib/syscalls_report.py "$T/syscalls.tsv" "${DURATION%[smh]}"
}
if [ -n "$OUT" ]; then
	report | tee "$OUT"
else
	report
fi
