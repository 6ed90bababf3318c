# ALBM lab: the timeline of events (hogs, pauses, kills, restarts) — syntax, checks and actions.
# shellcheck shell=bash
#
# A cluster file line
#   event at=DUR [for=DUR] [every=DUR] server=NAME KIND
# (every=: the event again every DUR after at=, as long as the bench runs last) with KIND
# one of
#   hog-mem=PCT%|SIZE  albm-hog holding PCT % of the server's mem (or SIZE) inside the server's
#                      cgroups, every page touched and touched again, freed at the end (for=)
#   hog-cpu=PCT%       albm-hog demanding PCT % of one CPU inside the server's cgroups (for=)
#   pause              SIGSTOP of the server's albm-httpd, SIGCONT after for= (a GC pause)
#   kill               SIGKILL of the server; with for=, started again after that long,
#                      without, it stays down until a `restart` event or the end of the run
#   restart            SIGTERM, wait for the exit, start again (after for= when given)
# The timeline starts with each scheduler's first albm-bench run (timeline_start), so every
# scheduler meets the same events at the same offsets; lab/run calls timeline_tick about ten
# times a second while the bench runs.  Every action goes to SCHED/events.csv:
#   unix_s,t_s,server,kind,value,action,detail
# (t_s = seconds since the timeline's start; action start, end, skipped, not-reached, and
# from lab/lib/supervise.sh oom-kill, exit, restart).

E_AT=() E_FOR=() E_SRVNAME=() E_SRV=() E_KIND=() E_VAL=() E_ORIGIN=() E_EVERY=()
NEVENTS=0
EV_STATE=() EV_PID=() # runtime: 0 pending, 1 active, 2 done; the hog's PID, the paused PID
EV_STOPPING=()        # hogs sent SIGTERM, reaped once they have exited
TL_ON=0 TL_T0_US=0 TL_DIR="" LAB_NOW_US=0
SRV_HELD=() # 1: down by the timeline (kill, restart): the restart policy leaves it alone

# lab_now: LAB_NOW_US = the wall clock in microseconds (no fork).
lab_now() { LAB_NOW_US=${EPOCHREALTIME/[.,]/}; }

# event_parse ORIGIN WORDS...: one `event` line of the cluster file (ORIGIN = file:line).
event_parse() {
	local origin=$1 kv k v i=$NEVENTS at="" dur="" srv="" kind="" val="" every=""
	shift
	for kv in "$@"; do
		if [[ $kv == pause || $kv == kill || $kv == restart ]]; then
			[[ -z $kind ]] || lab_die "$origin: two event kinds ('$kind' and '$kv'): one per line"
			kind=$kv
			continue
		fi
		[[ $kv == *=* ]] || lab_die "$origin: unknown event word '$kv' (kinds: hog-mem=, hog-cpu=, pause, kill, restart)"
		k=${kv%%=*} v=${kv#*=}
		[[ -n $v ]] || lab_die "$origin: '$k=' needs a value"
		case $k in
		at|for)
			[[ $k == at && -z $at || $k == for && -z $dur ]] || lab_die "$origin: $k= given twice"
			v=$(duration_ms "$v") || lab_die "$origin: $k '${kv#*=}' is not a duration (e.g. 20s, 500ms)"
			[[ $k == for ]] && ((v == 0)) && lab_die "$origin: for= must be longer than 0"
			if [[ $k == at ]]; then at=$v; else dur=$v; fi ;;
		server)
			[[ -z $srv ]] || lab_die "$origin: server= given twice"
			srv=$v ;;
		every)
			[[ -z $every ]] || lab_die "$origin: every= given twice"
			every=$(duration_ms "$v") || lab_die "$origin: every '$v' is not a duration (e.g. 10s)"
			((every >= 100)) || lab_die "$origin: every= must be at least 100ms" ;;
		hog-mem|hog-cpu)
			[[ -z $kind ]] || lab_die "$origin: two event kinds ('$kind' and '$k'): one per line"
			kind=$k val=$v
			event_check_value "$origin" "$k" "$v" ;;
		*) lab_die "$origin: unknown event key '$k' (at, for, every, server, hog-mem, hog-cpu; or pause, kill, restart)" ;;
		esac
	done
	[[ -n $at ]] || lab_die "$origin: the event needs at=DUR (when, from the start of the run)"
	[[ -n $srv ]] || lab_die "$origin: the event needs server=NAME"
	[[ -n $kind ]] || lab_die "$origin: the event needs a kind: hog-mem=PCT%|SIZE, hog-cpu=PCT%, pause, kill or restart"
	[[ -n $dur || $kind == kill || $kind == restart ]] ||
		lab_die "$origin: $kind needs for=DUR (how long it lasts)"
	[[ -z $every ]] || (( every > ${dur:-0} )) ||
		lab_die "$origin: every= must be longer than for= (one event at a time)"
	E_AT[i]=$at E_FOR[i]=$dur E_SRVNAME[i]=$srv E_KIND[i]=$kind E_VAL[i]=$val E_ORIGIN[i]=$origin
	E_EVERY[i]=$every
	NEVENTS=$((NEVENTS + 1))
}

# events_expand LEN_MS: an event with every= becomes one event per period that starts
# before LEN_MS (the bench runs' length), so that the timeline stays a plain list.
events_expand() {
	local len=$1 i n=$NEVENTS t
	for ((i = 0; i < n; i++)); do
		[[ -n ${E_EVERY[i]} ]] || continue
		for ((t = E_AT[i] + E_EVERY[i]; t < len; t += E_EVERY[i])); do
			E_AT[NEVENTS]=$t E_FOR[NEVENTS]=${E_FOR[i]} E_SRVNAME[NEVENTS]=${E_SRVNAME[i]}
			E_KIND[NEVENTS]=${E_KIND[i]} E_VAL[NEVENTS]=${E_VAL[i]} E_ORIGIN[NEVENTS]=${E_ORIGIN[i]}
			E_SRV[NEVENTS]=${E_SRV[i]} E_EVERY[NEVENTS]=""
			NEVENTS=$((NEVENTS + 1))
		done
		E_EVERY[i]=""
	done
}

# event_check_value ORIGIN KIND VALUE: hog-mem=1..95% or a size, hog-cpu=1..800%.
event_check_value() {
	local origin=$1 k=$2 v=$3 n
	if [[ $v == *% ]]; then
		n=${v%\%}
		[[ $n =~ ^[0-9]+$ ]] || lab_die "$origin: $k '$v': expected a whole percentage like 60%"
		if [[ $k == hog-mem ]]; then
			((n >= 1 && n <= 95)) || lab_die "$origin: hog-mem '$v' must be 1..95% of the server's mem"
		else
			((n >= 1 && n <= 800)) || lab_die "$origin: hog-cpu '$v' must be 1..800% (of one CPU)"
		fi
		return
	fi
	[[ $k == hog-mem ]] || lab_die "$origin: hog-cpu '$v': expected a percentage of one CPU like 100%"
	size_bytes "$v" >/dev/null && (($(size_bytes "$v") > 0)) ||
		lab_die "$origin: hog-mem '$v': expected a percentage of the server's mem (60%) or a size (40M)"
}

# events_check: every event names a server; a hog-mem size fits under the server's mem.
events_check() {
	local i j mem
	for ((i = 0; i < NEVENTS; i++)); do
		E_SRV[i]=""
		for ((j = 0; j < NSERVERS; j++)); do
			[[ ${S_NAME[j]} == "${E_SRVNAME[i]}" ]] && E_SRV[i]=$j
		done
		[[ -n ${E_SRV[i]} ]] ||
			lab_die "${E_ORIGIN[i]}: no server '${E_SRVNAME[i]}' (servers: ${S_NAME[*]})"
		if [[ ${E_KIND[i]} == hog-mem && ${E_VAL[i]} != *% ]]; then
			mem=$(size_bytes "${S_MEM[E_SRV[i]]}")
			(($(size_bytes "${E_VAL[i]}") < mem)) ||
				lab_die "${E_ORIGIN[i]}: hog-mem ${E_VAL[i]} is not below ${E_SRVNAME[i]}'s mem=${S_MEM[E_SRV[i]]}"
		fi
	done
}

# events_dump: the timeline for cluster.env (event.N=at_ms:... for results.py and the figures).
events_dump() {
	local i
	printf 'events_planned=%s\n' "$NEVENTS"
	for ((i = 0; i < NEVENTS; i++)); do
		printf 'event.%d=at_ms:%s for_ms:%s server:%s kind:%s value:%s\n' "$((i + 1))" "${E_AT[i]}" \
			"${E_FOR[i]}" "${E_SRVNAME[i]}" "${E_KIND[i]}" "${E_VAL[i]}"
	done
}

# event_log SERVER KIND VALUE ACTION DETAIL: one line of the scheduler's events.csv.
event_log() {
	local t
	((TL_ON)) || return 0
	lab_now
	t=$((LAB_NOW_US - TL_T0_US))
	printf '%s,%d.%03d,%s,%s,%s,%s,%s\n' "${EPOCHREALTIME/,/.}" $((t / 1000000)) $((t / 1000 % 1000)) \
		"$1" "$2" "$3" "$4" "${5//,/;}" >>"$TL_DIR/events.csv"
	lab_log "   event: $1 $2${3:+=$3} $4${5:+ ($5)}"
}

# timeline_start DIR: t = 0 for this scheduler's events (written to DIR/timeline.t0).
timeline_start() {
	local i
	TL_DIR=$1
	lab_now
	TL_T0_US=$LAB_NOW_US
	printf '%s\n' "${EPOCHREALTIME/,/.}" >"$TL_DIR/timeline.t0"
	printf 'unix_s,t_s,server,kind,value,action,detail\n' >"$TL_DIR/events.csv"
	for ((i = 0; i < NEVENTS; i++)); do
		EV_STATE[i]=0 EV_PID[i]=""
	done
	EV_STOPPING=()
	[[ ${CL[events]} == yes ]] || for ((i = 0; i < NEVENTS; i++)); do EV_STATE[i]=2; done
	for ((i = 0; i < NSERVERS; i++)); do SRV_HELD[i]=0; done
	TL_ON=1
	sup_start
}

# timeline_tick: start and end the events that are due; then the restart policy.
timeline_tick() {
	local i t_ms
	((TL_ON)) || return 0
	lab_now
	t_ms=$(((LAB_NOW_US - TL_T0_US) / 1000))
	for ((i = 0; i < NEVENTS; i++)); do
		if ((EV_STATE[i] == 0 && t_ms >= E_AT[i])); then
			ev_begin "$i"
		elif ((EV_STATE[i] == 1 && t_ms >= E_AT[i] + E_FOR[i])); then
			ev_end "$i"
		fi
	done
	ev_reap 0
	sup_tick
}

# ev_reap GRACE_S: forget the hogs that have exited since their SIGTERM (GRACE_S > 0: wait
# for the others that long, then kill them).
ev_reap() {
	local pid left=()
	for pid in "${EV_STOPPING[@]}"; do
		if ((${1} > 0)); then
			proc_stop "$pid" "$1"
		elif proc_alive "$pid"; then
			left+=("$pid")
		else
			proc_reap "$pid"
		fi
	done
	EV_STOPPING=("${left[@]}")
}

# timeline_stop: end what is still active (hogs stopped, paused servers continued).
timeline_stop() {
	local i
	((TL_ON)) || return 0
	sup_tick
	for ((i = 0; i < NEVENTS; i++)); do
		case ${EV_STATE[i]} in
		0) event_log "${E_SRVNAME[i]}" "${E_KIND[i]}" "${E_VAL[i]}" not-reached \
			"at $((E_AT[i] / 1000))s is after the end of the bench runs" ;;
		1) ev_end "$i" ;;
		esac
	done
	ev_reap 3
	TL_ON=0
}

# ev_hog_args I: albm-hog's load options for event I.
ev_hog_args() {
	local i=$1 v mem
	v=${E_VAL[i]}
	if [[ ${E_KIND[i]} == hog-cpu ]]; then
		echo "--cpu ${v%\%}"
	elif [[ $v == *% ]]; then
		mem=$(size_bytes "${S_MEM[E_SRV[i]]}")
		echo "--mem $((mem * ${v%\%} / 100))"
	else
		echo "--mem $(size_bytes "$v")"
	fi
}

# ev_begin I: the event's start action.
ev_begin() {
	local i=$1 s=${E_SRV[$1]} name=${E_SRVNAME[$1]} kind=${E_KIND[$1]} val=${E_VAL[$1]} pid a
	pid=${SRV_PID[s]:-}
	EV_STATE[i]=2
	[[ -n ${E_FOR[i]} ]] && EV_STATE[i]=1
	case $kind in
	hog-mem|hog-cpu)
		if [[ $LAB_CGROUPS != 1 ]]; then
			EV_STATE[i]=2
			event_log "$name" "$kind" "$val" skipped "needs per-server cgroups (root)"
			return
		fi
		read -r -a a <<<"$(ev_hog_args "$i")"
		proc_start "$TL_DIR/hog-$name-$((i + 1)).log" "$(cg_dirs "$name")" "$LAB_BIN/albm-hog" \
			"${a[@]}" --duration "$(((E_FOR[i] + 10000) / 1000))s"
		EV_PID[i]=$PROC_PID
		event_log "$name" "$kind" "$val" start "albm-hog pid $PROC_PID ${a[*]}" ;;
	pause)
		if [[ -z $pid ]] || ! proc_alive "$pid"; then
			EV_STATE[i]=2
			event_log "$name" "$kind" "" skipped "the server is down"
			return
		fi
		kill -STOP "$pid"
		EV_PID[i]=$pid
		event_log "$name" "$kind" "" start "SIGSTOP pid $pid" ;;
	kill|restart)
		SRV_HELD[s]=1
		if [[ -n $pid ]] && proc_alive "$pid"; then
			if [[ $kind == kill ]]; then
				kill -KILL "$pid"
				proc_reap "$pid"
			else
				proc_stop "$pid" 3
			fi
			event_log "$name" "$kind" "" start "$([[ $kind == kill ]] && echo SIGKILL || echo SIGTERM) pid $pid"
		else
			event_log "$name" "$kind" "" start "the server was down"
		fi
		SRV_PID[s]=""
		[[ $kind == restart && -z ${E_FOR[i]} ]] && ev_up "$i" ;;
	esac
}

# ev_up I: start event I's server again (end of a kill or restart).
ev_up() {
	local i=$1 s=${E_SRV[$1]}
	# shellcheck disable=SC2034 # read by lab/lib/supervise.sh
	SRV_HELD[s]=0 SUP_RESTART_AT[s]=0
	[[ -n ${SRV_PID[s]:-} ]] && proc_alive "${SRV_PID[s]}" && return 0
	server_start "$TL_DIR" "$s"
	event_log "${E_SRVNAME[i]}" "${E_KIND[i]}" "" end "started pid ${SRV_PID[s]}"
}

# ev_end I: the event's end action.
ev_end() {
	local i=$1 name=${E_SRVNAME[$1]} kind=${E_KIND[$1]} pid=${EV_PID[$1]}
	EV_STATE[i]=2
	case $kind in
	hog-mem|hog-cpu) # SIGTERM now, reaped by a later tick: the timeline does not wait
		[[ -n ${LAB_PIDS[$pid]:-} ]] && proc_alive "$pid" && kill -TERM "$pid"
		EV_STOPPING+=("$pid")
		event_log "$name" "$kind" "${E_VAL[i]}" end "albm-hog pid $pid sent SIGTERM" ;;
	pause)
		[[ -n ${LAB_PIDS[$pid]:-} ]] && proc_alive "$pid" && kill -CONT "$pid"
		event_log "$name" "$kind" "" end "SIGCONT pid $pid" ;;
	kill|restart) ev_up "$i" ;;
	esac
}
