# ALBM integration tests: helpers for the albm-agent tests (source after common.sh).
# shellcheck shell=bash
#
#   agent_tmpdir                  make $T, a private temporary directory removed at exit
#   free_port tcp|udp             print a loopback port that is free right now
#   wait_udp PORT                 wait (10 s) until something listens on UDP PORT
#   cg_v1_create NAME LIMIT       v1 cgroup NAME in memory (limit in bytes), cpu, cpuacct
#   cg_v2_create NAME LIMIT       cgroup2 NAME with memory.max (needs the memory controller)
#   cg_run NAME CMD...            start CMD inside cgroup NAME (all its controllers); sets
#                                 $CG_PID and tracks it
#   hog_start CG CHUNK_MIB...     a memory hog inside CG (tests/lib/agent_hog.py); $HOG_PID
#   hog_step SIGNAL WORD          send USR1/USR2 to the hog, wait for WORD in its status
#   hog_time WORD                 wall-clock ms at which the hog reported WORD (last time)
#   wait_json FILE EXPR [SECS]    wait until a JSON line r of FILE satisfies the python
#                                 expression EXPR; prints that line
#   agent_memory_flow SPEC NAME   the ok -> overloaded -> ok scenario for the cgroup whose
#                                 CG_PROCS are set, 128 MiB limit, given to the agent as SPEC
#   once_json ARGS...             albm-agent --once --json ARGS; prints the object

V1=/sys/fs/cgroup
# the cgroup2 mount: /sys/fs/cgroup/unified in hybrid mode, /sys/fs/cgroup in unified mode
V2=${ALBM_CGROUP2:-$(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | head -1)}
CG_DIRS=()

agent_tmpdir() {
	T=$(mktemp -d /tmp/albm-agent-test.XXXXXX)
	on_exit "rm -rf '$T'"
}

free_port() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

wait_udp() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# Remove the cgroups this test made (their processes were stopped by test_cleanup).
cg_cleanup() {
	local d i
	for d in "${CG_DIRS[@]}"; do
		for ((i = 0; i < 20; i++)); do
			rmdir "$d" 2>/dev/null && break
			sleep 0.1
		done
	done
}

cg_v1_create() {
	local name=$1 limit=$2 c m seen=" "
	[ -f "$V1/memory/memory.limit_in_bytes" ] || skip "no cgroup v1 memory controller at $V1/memory"
	[ ${#CG_DIRS[@]} -eq 0 ] && on_exit cg_cleanup
	CG_PROCS=()
	for c in memory cpu cpuacct; do
		[ -d "$V1/$c" ] || continue
		m=$(realpath "$V1/$c") # cpu and cpuacct may be one mount
		case $seen in *" $m "*) continue ;; esac
		seen+="$m "
		mkdir -p "$m/$name" || fail "mkdir $m/$name"
		CG_DIRS+=("$m/$name")
		CG_PROCS+=("$m/$name/cgroup.procs")
	done
	echo "$limit" > "$V1/memory/$name/memory.limit_in_bytes" || fail "set memory limit of $name"
}

# cg_v2_create NAME [LIMIT]: with LIMIT, returns 1 unless the memory controller is there.
cg_v2_create() {
	local name=$1 limit=${2:-}
	[ -n "$V2" ] || skip "no cgroup2 file system mounted"
	if [ -n "$limit" ]; then
		grep -qw memory "$V2/cgroup.controllers" 2>/dev/null || return 1
		echo +memory > "$V2/cgroup.subtree_control" 2>/dev/null
	fi
	[ ${#CG_DIRS[@]} -eq 0 ] && on_exit cg_cleanup
	mkdir -p "$V2/$name" || fail "mkdir $V2/$name"
	CG_DIRS+=("$V2/$name")
	[ -z "$limit" ] || echo "$limit" > "$V2/$name/memory.max" || fail "set memory.max of $name"
	CG_PROCS=("$V2/$name/cgroup.procs")
}

# Start CMD with its shell moved into every cgroup in CG_PROCS first.
cg_run() {
	local moves="" f
	for f in "${CG_PROCS[@]}"; do moves+="echo \$\$ > $f && "; done
	sh -c "${moves}exec \"\$@\"" sh "$@" &
	CG_PID=$!
	track_pid "$CG_PID"
}

hog_start() {
	HOG_STATUS=$T/hog.status
	: > "$HOG_STATUS"
	cg_run python3 tests/lib/agent_hog.py "$HOG_STATUS" "$@"
	HOG_PID=$CG_PID
	hog_wait ready
}

# hog_wait WORD [COUNT]: until WORD was reported COUNT (1) times.
hog_wait() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -Ec "^$1 @[0-9]+\$" "$HOG_STATUS" 2>/dev/null)" -ge "${2:-1}" ] && return 0
		kill -0 "$HOG_PID" 2>/dev/null || fail "memory hog died (OOM?) waiting for '$1'"
		sleep 0.1
	done
	fail "memory hog: no '$1' within 30 s"
}

hog_time() {
	sed -n "s/^$1 @\([0-9]*\)\$/\1/p" "$HOG_STATUS" | tail -1
}

hog_step() {
	local n
	n=$(grep -Ec "^$2 @[0-9]+\$" "$HOG_STATUS")
	kill -"$1" "$HOG_PID"
	hog_wait "$2" $((n + 1))
}

wait_json() {
	python3 - "$1" "$2" "${3:-10}" <<'PY'
import json, sys, time
path, expr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end, seen = time.monotonic() + secs, 0
while time.monotonic() < end:
    try:
        lines = open(path).read().split("\n")[:-1]  # complete lines only
    except FileNotFoundError:
        lines = []
    for line in lines[seen:]:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if eval(expr, {}, {"r": r}):
            print(line)
            sys.exit(0)
    seen = len(lines)
    time.sleep(0.05)
sys.exit(1)
PY
}

once_json() {
	"$BIN/albm-agent" --once --json "$@"
}

# Field KEY of the JSON object on stdin.
json_field() {
	python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(v if not isinstance(v, bool) else str(v).lower())' "$1"
}

# Check every line of a decoder output: no rejected report, seq increasing per boot.
reports_sane() {
	python3 - "$1" <<'PY'
import json, sys
last = {}
for n, line in enumerate(open(sys.argv[1]), 1):
    r = json.loads(line)
    if "error" in r:
        sys.exit("report %d rejected: %s" % (n, r["error"]))
    if r["seq"] <= last.get(r["boot_id"], 0):
        sys.exit("report %d: seq %d not increasing" % (n, r["seq"]))
    last[r["boot_id"]] = r["seq"]
print("%d reports, %d boot id(s)" % (n, len(last)))
PY
}

agent_memory_flow() {
	local spec=$1 name=$2 limit=$((128 << 20)) udp j line seq boot
	"$BIN/albm-agent" --gen-key "$T/key" || fail "--gen-key"
	udp=$(free_port udp)
	"$BIN/albm-agent" --decode-from "127.0.0.1:$udp" --key-file "$T/key" \
		> "$T/reports.jsonl" 2> "$T/decoder.log" &
	track_pid $!
	wait_udp "$udp" || fail "decoder not listening: $(cat "$T/decoder.log")"
	# baseline ~8 MiB of Python; 110 MiB more leaves < 10 % of 128 MiB available
	hog_start 110
	j=$(once_json --cgroup "$spec" --name "$name") || fail "--once --json --cgroup $spec"
	echo "idle:   $j"
	[ "$(json_field state <<< "$j")" = ok ] || fail "idle cgroup not ok: $j"
	[ "$(json_field mem_total_bytes <<< "$j")" = "$limit" ] || fail "total is not the limit: $j"
	"$BIN/albm-agent" --name "$name" --cgroup "$spec" --distributor "127.0.0.1:$udp" \
		--key-file "$T/key" --interval 100ms --samples 2 --json \
		> "$T/agent.jsonl" 2> "$T/agent.log" &
	AGENT_PID=$!
	track_pid "$AGENT_PID"
	wait_json "$T/reports.jsonl" "r.get('name') == '$name' and r['state'] == 'ok'" ||
		fail "no ok report: $(cat "$T/agent.log" "$T/reports.jsonl")"

	hog_step USR1 "allocated 1"
	j=$(once_json --cgroup "$spec" --name "$name") || fail "--once after allocating"
	echo "loaded: $j"
	[ "$(json_field state <<< "$j")" = overloaded ] || fail "loaded cgroup not overloaded: $j"
	line=$(wait_json "$T/reports.jsonl" "r['state'] == 'overloaded' and r['mem_available_pct'] < 10") ||
		fail "no overloaded report: $(tail -3 "$T/reports.jsonl"; cat "$T/agent.log")"
	echo "report: $line"
	seq=$(json_field seq <<< "$line")
	wait_json "$T/agent.jsonl" "r['state'] == 'overloaded'" 1 > /dev/null ||
		fail "the agent's own JSON lines do not show overloaded"

	hog_step USR2 freed
	j=$(once_json --cgroup "$spec" --name "$name") || fail "--once after freeing"
	echo "freed:  $j"
	[ "$(json_field state <<< "$j")" = ok ] || fail "freed cgroup not ok: $j"
	line=$(wait_json "$T/reports.jsonl" "r['seq'] > $seq and r['state'] == 'ok'") ||
		fail "no ok report after the memory was freed: $(tail -3 "$T/reports.jsonl")"
	echo "report: $line"
	grep -q "state ok -> overloaded" "$T/agent.log" && grep -q "state overloaded -> ok" "$T/agent.log" ||
		fail "state changes not logged: $(cat "$T/agent.log")"

	# a restarted agent starts at seq 1 with a new boot id: not a replayer
	boot=$(json_field boot_id <<< "$line")
	kill "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	"$BIN/albm-agent" --name "$name" --cgroup "$spec" --distributor "127.0.0.1:$udp" \
		--key-file "$T/key" --interval 100ms 2>> "$T/agent.log" &
	track_pid $!
	wait_json "$T/reports.jsonl" "r.get('boot_id', '$boot') != '$boot' and r['seq'] == 1" > /dev/null ||
		fail "the restarted agent's first report was not accepted: $(tail -3 "$T/reports.jsonl")"
	reports_sane "$T/reports.jsonl" || fail "decoder output"
}
