# ALBM fault suite: shared helpers of the cases (tests/faults/NN-*.sh).
# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Source after tests/lib/common.sh.  Each case states what must hold, asserts it, and
# records one row per fault in the suite's table (tests/run.sh faults prints it):
#
#   cpu_mark PID              start measuring PID's CPU (utime+stime, /proc/PID/stat)
#   cpu_pct PID               % of one core PID used since cpu_mark (all its threads)
#   row CASE OUTCOME LOST CPU one line of the table: the fault, what happened ("held", or
#                             "expected: ..." where it cannot hold by design), the flows
#                             lost, albmd's CPU during the fault
#   flows_start ROLE HOST PORT N PATH RATE FILE
#                             tests/lib/fault_flows.py in namespace ROLE (lab/netns exec;
#                             "" = here) in the background; returns once every flow has
#                             its response headers; its report goes to FILE
#   flows_wait FILE SECS      wait for the report's summary line
#   flows_lost FILE [SERVER]  flows lost (all, or those of SERVER)
#   flows_total FILE [SERVER]
#   busy_limit                a CPU share (%) above which albmd is spinning, not working
#   reloads                   albmd's reloads_ok counter (ctl stats)
#   reloads_are N             true once it is N (wait_until 5 reloads_are N)
#
# FAULTS_TABLE (set by tests/run.sh) collects the rows; without it they are only printed.

CPU_T0=() CPU_C0=()
HZ=$(getconf CLK_TCK)
BUSY_LIMIT=${BUSY_LIMIT:-60}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

cpu_mark() {
	CPU_T0[$1]=$(date +%s%N)
	CPU_C0[$1]=$(cpu_ticks "$1")
}

cpu_pct() {
	local t1 c1
	t1=$(date +%s%N) c1=$(cpu_ticks "$1")
	echo $(((c1 - CPU_C0[$1]) * 100 * 1000000000 / HZ / (t1 - CPU_T0[$1] + 1)))
}

busy_limit() { echo "$BUSY_LIMIT"; }

reloads() { ctl stats | awk '$1 == "reloads_ok" { print $2 }'; }
reloads_are() { [ "$(reloads)" = "$1" ]; }

row() {
	printf 'FAULT | %s | %s | %s | %s\n' "$1" "$2" "$3" "$4"
	[ -n "${FAULTS_TABLE:-}" ] && printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$FAULTS_TABLE"
	return 0
}

flows_start() {
	local role=$1 host=$2 port=$3 n=$4 path=$5 rate=$6 file=$7 pid
	rm -f "$file.ready"
	if [ -n "$role" ]; then
		lab/netns exec "$role" python3 tests/lib/fault_flows.py "$host" "$port" "$n" --path "$path" \
			--rate "$rate" --timeout 40 --ready "$file.ready" >"$file" 2>&1 &
	else
		python3 tests/lib/fault_flows.py "$host" "$port" "$n" --path "$path" --rate "$rate" \
			--timeout 40 --ready "$file.ready" >"$file" 2>&1 &
	fi
	pid=$!
	track_pid "$pid"
	FLOWS_PID=$pid
	for _ in $(seq 100); do
		[ -f "$file.ready" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$file"
	fail "the flows did not start"
}

flows_wait() {
	local k
	for ((k = 0; k < $2 * 10; k++)); do
		grep -q "^flows " "$1" && return 0
		sleep 0.1
	done
	return 1
}

flows_lost() {
	if [ -n "${2:-}" ]; then
		grep "^flow " "$1" | grep " server=$2 " | grep -vc " end=complete"
	else
		grep "^flow " "$1" | grep -vc " end=complete"
	fi
}

flows_total() {
	if [ -n "${2:-}" ]; then
		grep "^flow " "$1" | grep -c " server=$2 "
	else
		grep -c "^flow " "$1"
	fi
}
