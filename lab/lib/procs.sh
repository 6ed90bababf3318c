# ALBM lab: processes the lab starts — tracked by PID, stopped by PID only — sourced by lab/run.
# shellcheck shell=bash
#
# Every background process goes through proc_start, which records "pid PID NAME START" in
# the state file (LAB_STATE; START is the kernel start time, field 22 of /proc/PID/stat) so
# that `lab/run --cleanup DIR` can finish an interrupted run.  Before any signal is sent the
# PID's start time is compared with the recorded one, so a recycled PID is never hit.

declare -A LAB_PIDS=()   # pid -> program basename
declare -A LAB_PSTART=() # pid -> start time (clock ticks since boot)

state_add() { [[ -n ${LAB_STATE:-} ]] && printf '%s\n' "$*" >>"$LAB_STATE"; return 0; }
state_del() { # remove one exact line
	[[ -n ${LAB_STATE:-} && -f $LAB_STATE ]] || return 0
	grep -vxF -- "$*" "$LAB_STATE" >"$LAB_STATE.tmp"
	mv -f "$LAB_STATE.tmp" "$LAB_STATE"
}

# pid_start PID: the process's start time, or nothing when it is gone or a zombie.
pid_start() {
	pid_start_of "$1" || return 1
	echo "$REPLY"
}

# pid_start_of PID: the same in REPLY, without a fork (the lab polls it ten times a second).
pid_start_of() {
	local stat f
	REPLY=""
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${stat##*) }"
	[[ ${f[0]} == Z ]] && return 1
	REPLY=${f[19]} # field 22 of stat; the array starts at field 3 (state)
}

# pid_is PID START: PID is alive and is the very process that was recorded.
pid_is() {
	pid_start_of "$1" && [[ $REPLY == "$2" ]]
}

# proc_start LOGFILE CGROUP_DIRS PROGRAM ARGS...: start PROGRAM in the background, already
# inside the cgroups given (space separated cgroup dirs, "" for none), output to LOGFILE.
# PROGRAM may be "nsenter --net=NS PROG" (which execs PROG: same PID); the recorded
# name is then PROG's.  The PID is left in PROC_PID.  With PROC_OOM_ADJ set (e.g.
# `PROC_OOM_ADJ=1000 proc_start ...`) the process starts with that oom_score_adj.
proc_start() {
	local log=$1 cgs=$2 prog=$3 cg name a
	shift 3
	name=$(basename -- "$prog")
	if [[ $name == nsenter ]]; then
		for a in "$@"; do
			[[ $a == -* ]] || { name=$(basename -- "$a"); break; }
		done
	fi
	(
		for cg in $cgs; do
			echo "$BASHPID" >"$cg/cgroup.procs" || exit 97
		done
		[[ -n ${PROC_OOM_ADJ:-} ]] && echo "$PROC_OOM_ADJ" >/proc/self/oom_score_adj
		exec "$prog" "$@"
	) >"$log" 2>&1 </dev/null &
	PROC_PID=$!
	LAB_PIDS[$PROC_PID]=$name
	LAB_PSTART[$PROC_PID]=$(pid_start "$PROC_PID" || echo gone)
	state_add "pid $PROC_PID ${LAB_PIDS[$PROC_PID]} ${LAB_PSTART[$PROC_PID]}"
}

# signal_wait PID START GRACE_S: SIGTERM, then SIGKILL after GRACE_S seconds.
signal_wait() {
	local pid=$1 start=$2 grace=$3 i
	pid_is "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null # a paused process (SIGSTOP) handles SIGTERM only once continued
	for ((i = 0; i < grace * 10; i++)); do
		pid_is "$pid" "$start" || return 0
		sleep 0.1
	done
	pid_is "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
	return 0
}

# proc_stop PID [GRACE_S]: stop one process this shell started (default grace 3 s).
proc_stop() {
	local pid=$1 name=${LAB_PIDS[$1]:-} start=${LAB_PSTART[$1]:-}
	[[ -n $name ]] || return 0
	signal_wait "$pid" "$start" "${2:-3}"
	wait "$pid" 2>/dev/null
	unset "LAB_PIDS[$pid]" "LAB_PSTART[$pid]"
	state_del "pid $pid $name $start"
}

# proc_reap PID: forget a process this shell started that has exited by itself (or was
# killed); its exit status (128 + signal when killed) is left in PROC_STATUS.
proc_reap() {
	local pid=$1 name=${LAB_PIDS[$1]:-} start=${LAB_PSTART[$1]:-} i
	PROC_STATUS=""
	[[ -n $name ]] || return 0
	# bash reports a background job killed by a signal ("Killed") on stderr when it reaps
	# it: here, where the lab expects it (timeline kill, OOM kill), not in the log
	{
		for ((i = 0; i < 30; i++)); do # a SIGKILL is delivered asynchronously
			pid_is "$pid" "$start" || break
			sleep 0.1
		done
		wait "$pid"
		# shellcheck disable=SC2034 # for the caller
		PROC_STATUS=$?
	} 2>/dev/null
	unset "LAB_PIDS[$pid]" "LAB_PSTART[$pid]"
	state_del "pid $pid $name $start"
}

# proc_alive PID: still running (and still ours).
proc_alive() { [[ -n ${LAB_PIDS[$1]:-} ]] && pid_is "$1" "${LAB_PSTART[$1]}"; }

# proc_stop_all [GRACE_S]: every process still recorded — SIGTERM to all at once (the load
# generator first), SIGKILL to whatever is left after GRACE_S seconds (default 3).
proc_stop_all() {
	local pid grace=${1:-3} i left
	for pid in "${!LAB_PIDS[@]}"; do
		[[ ${LAB_PIDS[$pid]} == albm-bench ]] && pid_is "$pid" "${LAB_PSTART[$pid]}" &&
			kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${!LAB_PIDS[@]}"; do
		pid_is "$pid" "${LAB_PSTART[$pid]}" && kill -TERM "$pid" 2>/dev/null &&
			kill -CONT "$pid" 2>/dev/null # paused by the timeline
	done
	for ((i = 0; i < grace * 10; i++)); do
		left=0
		for pid in "${!LAB_PIDS[@]}"; do
			pid_is "$pid" "${LAB_PSTART[$pid]}" && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for pid in "${!LAB_PIDS[@]}"; do
		proc_stop "$pid" 0
	done
}
