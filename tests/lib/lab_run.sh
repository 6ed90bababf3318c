# ALBM integration tests: helpers for tests that run lab/run (tests/integration/5xx-lab-*).
# shellcheck shell=bash
# Source after tests/lib/common.sh; needs $TMP (a directory the test owns).
#
#   need_lab_cgroups           skip unless root with the memory and cpu cgroup controllers
#   lab_port_base              a port base whose layout (P..P+2, P+10..P+13) is free
#   lab_check_clean OUT PID    nothing of the lab/run with PID and output OUT is left:
#                              state file, its cgroups (albm-lab-PID), its swap file,
#                              processes naming $TMP (other helpers' runs are not looked at)
#   lab_wait_event FILE REGEX TIMEOUT_S
#                              wait until a line of an events.csv matches; the line in EV_LINE
#   lab_cg_of PID CONTROLLER   the cgroup directory of PID for memory or cpu (v1 or v2)

need_lab_cgroups() {
	need_root
	if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		return 0
	fi
	if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
		grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
		return 0
	fi
	skip "needs the memory and cpu cgroup controllers"
}

lab_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

lab_port_base() {
	local b p ok
	for b in $(seq 17800 40 18600); do
		ok=1
		for p in $b $((b + 1)) $((b + 2)) $((b + 10)) $((b + 11)) $((b + 12)) $((b + 13)); do
			lab_port_free "$p" || { ok=0; break; }
		done
		((ok)) && { echo "$b"; return 0; }
	done
	return 1
}

lab_check_clean() {
	local out=$1 lab=$2 p pids="" cgs
	[ ! -e "$out/lab.state" ] || fail "$out/lab.state left behind: $(cat "$out/lab.state")"
	cgs=$(ls -d /sys/fs/cgroup/*/albm-lab-"$lab" /sys/fs/cgroup/albm-lab-"$lab" 2>/dev/null)
	[ -z "$cgs" ] || fail "cgroups left behind: $cgs"
	! grep -qE "albm-lab-$lab\.swap" /proc/swaps || fail "swap file left behind"
	for p in /proc/[0-9]*; do
		grep -qaF "$TMP" "$p/cmdline" 2>/dev/null && pids="$pids ${p#/proc/}"
	done
	[ -z "$pids" ] || fail "processes left behind:$pids"
}

# shellcheck disable=SC2034 # EV_LINE is for the caller
lab_wait_event() {
	local file=$1 re=$2 deadline=$((SECONDS + $3))
	EV_LINE=""
	while [ "$SECONDS" -lt "$deadline" ]; do
		EV_LINE=$(grep -E -m1 -- "$re" "$file" 2>/dev/null) && return 0
		sleep 0.05
	done
	return 1
}

lab_cg_of() {
	local pid=$1 ctl=$2 line
	if [ -d /sys/fs/cgroup/"$ctl" ]; then # v1: N:memory:/path or N:cpu,cpuacct:/path
		line=$(grep -E "^[0-9]+:([^:]*,)?$ctl(,[^:]*)?:" "/proc/$pid/cgroup") || return 1
		echo "/sys/fs/cgroup/$ctl${line#*:*:}"
	else
		line=$(grep '^0::' "/proc/$pid/cgroup") || return 1
		echo "/sys/fs/cgroup${line#0::}"
	fi
}
