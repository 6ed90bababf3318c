# ALBM integration tests: helpers for the albmd tests (tests/integration/2xx-albmd-*).
# shellcheck shell=bash
# Source after tests/lib/common.sh and tests/lib/lab_tools.sh; needs $TMP.
#
#   start_albmd CONF        albmd -f CONF in the foreground (tracked); returns once its
#                           control socket answers; ALBMD_PID, log in $TMP/albmd.log
#   ctl ARGS...             albmctl -s $TMP/albmd.sock ARGS (reload: ALBM_DATA_PATH kept)
#   who PORT [PATH]         the X-Server header of one GET to 127.0.0.1:PORT (empty: failed)
#   sequence N PORT         N sequential GETs: the server names, space separated
#   count_in WORD LIST      how many times WORD occurs in the space separated LIST
#   wait_until SECS CMD...  run CMD every 0.1 s until it succeeds; false after SECS
#   free_port               a TCP port below the ephemeral range that no socket uses
#   free_udp_port           a loopback UDP port nobody uses right now
#   make_key FILE           a new agent key (albm-agent --gen-key)
#   fault_server NAME PORT MODE [ARGS]  a misbehaving TCP peer of tests/lib/fault_tools.py
#                           (tracked); returns once it listens; its output in $TMP/NAME.log
#   svc_json SERVICE EXPR   a Python expression on SERVICE's object of `list --json` (s)
#   stats_json EXPR         a Python expression on `albmctl stats --json` (d)
#   svc_is SERVICE EXPR V   true when svc_json SERVICE EXPR prints V (for wait_until, which
#   stats_is EXPR V         would read a "$(...)" argument only once); stats_is the same

ALBMD_SOCK=""

# ALBM_DATA_PATH=epoll|sockmap|uring|auto (tests/run.sh loops the relay tests over them):
# every service of the config gets `data-path $ALBM_DATA_PATH;`, in place; `ctl reload`
# does it again to the file start_albmd was given (a test that rewrote it).
albmd_conf_data_path() {
	[ -n "${ALBM_DATA_PATH:-}" ] || return 0
	grep -q 'data-path' "$1" ||
		sed -i -E "s/^([[:space:]]*service[[:space:]]+[^[:space:]{]+[[:space:]]*\{)/\1 data-path $ALBM_DATA_PATH;/" "$1"
}

start_albmd() {
	local conf=$1
	albmd_conf_data_path "$conf"
	ALBMD_SOCK=${ALBMD_SOCK:-$TMP/albmd.sock}
	# first in line at exit (before $TMP is removed), after albmd has been stopped
	[ -n "${ALBMD_CHECK_ON_EXIT:-}" ] ||
		{ TEST_EXIT_CMDS=(albmd_sanitizer_check "${TEST_EXIT_CMDS[@]}"); ALBMD_CHECK_ON_EXIT=1; }
	"$BIN/albmd" -f "$conf" --log-level debug >>"$TMP/albmd.log" 2>&1 &
	ALBMD_PID=$!
	track_pid "$ALBMD_PID"
	# up when it answers; given up early when it exited (a bad config, a port taken)
	albmd_up() { ctl ping || ! kill -0 "$ALBMD_PID" 2>/dev/null; }
	wait_until 30 albmd_up && ctl ping >/dev/null 2>&1 ||
		{ cat "$TMP/albmd.log"; fail "albmd did not start"; }
	ALBMD_CONF=$conf
	case ${ALBM_DATA_PATH:-} in
	sockmap | uring)
		! ctl list | grep -q "data-path epoll ($ALBM_DATA_PATH)" ||
			skip "data-path $ALBM_DATA_PATH: not available here ($(grep -o "$ALBM_DATA_PATH unavailable.*" "$TMP/albmd.log" | head -1))" ;;
	esac
}

ctl() {
	[ "${1:-}" = reload ] && [ -n "${ALBMD_CONF:-}" ] && albmd_conf_data_path "$ALBMD_CONF"
	"$BIN/albmctl" -s "$ALBMD_SOCK" "$@"
}

who() {
	curl -s --max-time 5 -o /dev/null -w '%header{x-server}' "http://127.0.0.1:$1${2:-/}"
}

sequence() {
	local n=$1 port=$2 out=() i
	for ((i = 0; i < n; i++)); do
		out+=("$(who "$port")")
	done
	echo "${out[*]}"
}

count_in() {
	local w=$1 n=0 x
	for x in $2; do
		[ "$x" = "$w" ] && n=$((n + 1))
	done
	echo "$n"
}

wait_until() {
	local secs=$1 deadline
	shift
	deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
	while [ "$(($(date +%s%N) / 1000000))" -lt "$deadline" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# free_port: tests/lib/lab_tools.sh (sourced before this file).

free_udp_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	fail "no free UDP port found"
}

make_key() { "$BIN/albm-agent" --gen-key "$1" >/dev/null 2>&1 || fail "albm-agent --gen-key $1"; }

# Sanitizer builds (make SAN=1): a report in albmd's log fails the test at exit.
albmd_sanitizer_check() {
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/albmd.log" 2>/dev/null; then
		grep -E -A30 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/albmd.log" | head -60
		echo "FAIL: sanitizer report in albmd's log"
		exit 1
	fi
}

fault_server() {
	local name=$1 port=$2 mode=$3
	shift 3
	python3 tests/lib/fault_tools.py serve "$port" --mode "$mode" "$@" >"$TMP/$name.log" 2>&1 &
	track_pid $!
	wait_until 10 grep -q listening "$TMP/$name.log" || fail "$name did not start: $(cat "$TMP/$name.log")"
}

svc_json() {
	ctl list --json | python3 -c "import json, sys
for s in json.load(sys.stdin)['services']:
    if s['name'] == sys.argv[1]:
        print(eval(sys.argv[2]))" "$1" "$2"
}

stats_json() {
	ctl stats --json | python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"
}

svc_is() { [ "$(svc_json "$1" "$2")" = "$3" ]; }
stats_is() { [ "$(stats_json "$1")" = "$2" ]; }
