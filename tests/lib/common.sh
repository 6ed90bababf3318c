# ALBM integration tests: shared helpers (source from tests/integration/NNN-name.sh).
# shellcheck shell=bash
#
#   skip "reason"      print the reason, exit 4 (the runner counts a skip)
#   fail "message"     print, exit 1
#   need_root          skip unless uid 0
#   need_bin NAME...   skip unless $BIN/NAME is executable (BIN = ${BUILD:-build})
#   wait_port PORT [S] wait for a TCP listener on 127.0.0.1:PORT (default 10 s)
#   track_pid PID      kill PID (only it) at exit; the trap is installed on sourcing
#   on_exit "cmd"      run cmd at exit, after the tracked PIDs are stopped
# Tests run with the repository root as the working directory.

BIN=${BUILD:-build}
TEST_PIDS=()
TEST_EXIT_CMDS=()

skip() { echo "SKIP: $*"; exit 4; }
fail() { echo "FAIL: $*"; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
need_bin() {
	local b
	for b in "$@"; do
		[ -x "$BIN/$b" ] || skip "$BIN/$b not built (make bins)"
	done
}

wait_port() {
	local port=$1 deadline=$((SECONDS + ${2:-10}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

track_pid() { TEST_PIDS+=("$1"); }
on_exit() { TEST_EXIT_CMDS+=("$1"); }

test_cleanup() {
	local p c i
	for p in "${TEST_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${TEST_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for c in "${TEST_EXIT_CMDS[@]}"; do
		eval "$c"
	done
}
trap test_cleanup EXIT
