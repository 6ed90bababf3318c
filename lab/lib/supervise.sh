# ALBM lab: the servers' restart policy and OOM-kill counts — sourced by lab/run.
# shellcheck shell=bash
#
# Like a container's restart policy: a server that exits on its own (an OOM kill in a
# cgroup without swap, a crash) is started again after its restart_delay (default 2 s,
# `never` = stays down).  Servers the timeline took down (kill, restart) are left to the
# timeline.  OOM kills are read from the server's memory cgroup (v1 memory.oom_control,
# v2 memory.events: the oom_kill counter) and logged per kill, as are exits and restarts,
# in SCHED/events.csv (lab/lib/events.sh).  sup_tick runs with timeline_tick.

SUP_OOM=() SUP_RESTART_AT=() # oom_kill counter seen last; when to restart (us, 0 = no)

# sup_oom_count I: the oom_kill counter of server I's memory cgroup in REPLY (0 without).
sup_oom_count() {
	local f line
	REPLY=0
	[[ $LAB_CGROUPS == 1 ]] || return 0
	if [[ $CG_VERSION == 1 ]]; then
		f=$CG_ROOT/memory/$CG_PARENT/${S_NAME[$1]}/memory.oom_control
	else
		f=$CG_ROOT/$CG_PARENT/${S_NAME[$1]}/memory.events
	fi
	[[ -r $f ]] || return 0
	while read -r line; do
		[[ $line == "oom_kill "* ]] && REPLY=${line#oom_kill }
	done <"$f"
}

# sup_delay_us I: server I's restart delay in microseconds, or nothing for `never`.
sup_delay_us() {
	local d=${S_RESTART[$1]:-${CL[restart_delay]}}
	[[ $d == never ]] && return 1
	echo $(($(duration_ms "$d") * 1000))
}

# sup_start: counters as the scheduler's run begins.
sup_start() {
	local i
	for ((i = 0; i < NSERVERS; i++)); do
		sup_oom_count "$i"
		SUP_OOM[i]=$REPLY SUP_RESTART_AT[i]=0
	done
}

# sup_tick: count OOM kills, notice servers that died, restart them when due.
sup_tick() {
	local i pid name d
	lab_now
	for ((i = 0; i < NSERVERS; i++)); do
		name=${S_NAME[i]}
		sup_oom_count "$i"
		if ((REPLY > SUP_OOM[i])); then
			event_log "$name" oom-kill "" oom-kill "$((REPLY - SUP_OOM[i])) (oom_kill counter $REPLY)"
			SUP_OOM[i]=$REPLY
		fi
		pid=${SRV_PID[i]:-}
		if [[ -n $pid ]] && ! proc_alive "$pid"; then
			proc_reap "$pid"
			SRV_PID[i]=""
			event_log "$name" exit "" exit "pid $pid, status $PROC_STATUS"
			if ((SRV_HELD[i] == 0)) && d=$(sup_delay_us "$i"); then
				lab_now
				SUP_RESTART_AT[i]=$((LAB_NOW_US + d))
			fi
		fi
		if [[ -z ${SRV_PID[i]} ]] && ((SUP_RESTART_AT[i] && LAB_NOW_US >= SUP_RESTART_AT[i])); then
			SUP_RESTART_AT[i]=0
			server_start "$TL_DIR" "$i"
			event_log "$name" restart "" restart "started pid ${SRV_PID[i]}"
		fi
	done
}
