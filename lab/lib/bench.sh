# ALBM lab: drive albm-bench through the client ramp or the open-loop rates (and repeats).
# shellcheck shell=bash
#
# Closed loop: CL[clients] is either albm-bench's own ramp "START:END:STEP" (one bench run)
# or a list "1,8,16,32" (one bench run per count).  Open loop (CL[rate], or CL[load] in
# percent of CL[bound]): one bench run with one step per rate, through a pool of CL[pool]
# connections; the spec is then "r:RATE,RATE,...".  CL[repeat_last]=N then runs the last
# count (rate) N more times (the targets take the median of the 32-client point over 1+N
# runs).  Each bench run writes DIR/bench-K.csv, .json and series-K.csv (K = 1, 2, ...);
# DIR/bench-runs.txt lists "K epoch_start spec kind warmup" (kind ramp or repeat) for the
# merge and figures.  While a bench runs, lab/run ticks the timeline (lab/lib/events.sh).

# lab_open: the run is open loop (a rate or a load is given).
lab_open() { [[ -n ${CL[rate]} || -n ${CL[load]} ]]; }

# open_rates: the open-loop rates in requests/s, comma separated (load: percent of bound).
open_rates() {
	if [[ -n ${CL[rate]} ]]; then
		echo "${CL[rate]}"
		return
	fi
	awk -v b="${CL[bound]}" -v l="${CL[load]}" 'BEGIN {
		n = split(l, a, ",")
		for (i = 1; i <= n; i++) { sub(/%$/, "", a[i]); printf "%s%.6g", (i > 1 ? "," : ""), b * a[i] / 100 }
		print ""
	}'
}

# open_check: rate, load, bound and pool are well formed and fit together.
open_check() {
	local x
	[[ -z ${CL[rate]} || -z ${CL[load]} ]] || lab_die "rate and load exclude each other (load = % of bound)"
	[[ -z ${CL[bound]} || ${CL[bound]} =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ ${CL[bound]} != 0 ]] ||
		lab_die "bound '${CL[bound]}' must be the capacity bound in requests/s (e.g. 42.5)"
	[[ -z ${CL[rate]} || ${CL[rate]} =~ ^[0-9]+(\.[0-9]+)?(,[0-9]+(\.[0-9]+)?)*$ ]] ||
		lab_die "rate '${CL[rate]}' must be requests/s, one per step (e.g. 20,28.5)"
	for x in $(split_list "${CL[rate]}"); do
		awk -v r="$x" 'BEGIN { exit !(r > 0 && r <= 100000) }' || lab_die "rate $x must be in (0, 100000]"
	done
	if [[ -n ${CL[load]} ]]; then
		[[ ${CL[load]} =~ ^[0-9]+%(,[0-9]+%)*$ ]] ||
			lab_die "load '${CL[load]}' must be percentages of the bound, one per step (e.g. 50%,85%)"
		[[ -n ${CL[bound]} ]] || lab_die "load ${CL[load]} needs bound (the capacity bound, requests/s)"
		for x in $(split_list "${CL[load]//%/}"); do
			((x >= 1 && x <= 200)) || lab_die "load $x% must be 1..200%"
		done
	fi
	[[ ${CL[pool]} =~ ^[0-9]+$ ]] && ((CL[pool] >= 1 && CL[pool] <= 10000)) ||
		lab_die "pool '${CL[pool]}' must be 1..10000 (open-loop connections)"
	return 0
}

# open_dump: the loop for cluster.env (results.py reads it).
open_dump() {
	if lab_open; then
		printf 'loop=open\nrates=%s\n' "$(open_rates)"
	else
		printf 'loop=closed\n'
	fi
}

# clients_runs: the specs of the ramp's bench runs, one per line.
clients_runs() {
	if lab_open; then
		echo "r:$(open_rates)"
	elif [[ ${CL[clients]} == *,* ]]; then
		split_list "${CL[clients]}"
	else
		echo "${CL[clients]}"
	fi
}

# clients_last: the last spec of the ramp as a one-step spec: a client count, or "r:RATE".
clients_last() {
	local a b last
	last=$(clients_runs | tail -1)
	if [[ $last == r:* ]]; then
		last=${last#r:}
		echo "r:${last##*,}"
		return
	fi
	IFS=: read -r a b _ <<<"$last"
	echo "${b:-$a}" # "1:32:4" ends at 32 (albm-bench appends END); "32" is 32
}

# clients_nsteps SPEC: how many steps albm-bench makes of SPEC.
clients_nsteps() {
	local a b s
	if [[ $1 == r:* ]]; then
		split_list "${1#r:}" | wc -l
		return
	fi
	IFS=: read -r a b s <<<"$1"
	[[ -z $b ]] && { echo 1; return; }
	s=${s:-1}
	echo $(( (b - a) / s + 1 + ((b - a) % s != 0) ))
}

# bench_total_steps: every step of the whole per-scheduler run (ramp + repeats).
bench_total_steps() {
	local n=0 spec
	while read -r spec; do
		n=$((n + $(clients_nsteps "$spec")))
	done < <(clients_runs)
	echo $((n + ${CL[repeat_last]}))
}

# bench_bound_s: an upper bound for one scheduler's run (the sampler stops by itself then).
bench_bound_s() {
	local step_s
	local w=${CL[warmup]}
	(($(duration_ms "${CL[repeat_warmup]}") > $(duration_ms "$w"))) && w=${CL[repeat_warmup]}
	step_s=$(( ($(duration_ms "${CL[step]}") + $(duration_ms "$w") + 999) / 1000 ))
	echo $(( $(bench_total_steps) * (step_s + 5) + 60 ))
}

# bench_once DIR K SPEC KIND: one albm-bench run, bounded in time, killed by PID if it hangs.
bench_once() {
	local dir=$1 k=$2 spec=$3 kind=$4 a bound step_s deadline warm=${CL[warmup]}
	# a repeat starts cold (all its clients at once): give it its own warm-up
	[[ $kind == repeat ]] && warm=${CL[repeat_warmup]}
	step_s=$(( ($(duration_ms "${CL[step]}") + $(duration_ms "$warm") + 999) / 1000 ))
	bound=$(( $(clients_nsteps "$spec") * (step_s + 5) + $(duration_ms "${CL[timeout]}") / 1000 + 30 ))
	a=(--url "http://$(addr_vip):$(port_svc)" --step "${CL[step]}"
		--warmup "$warm" --timeout "${CL[timeout]}" --no-progress
		--mix "${CL[mix]}" --seed $((CL[seed] + k - 1))
		--csv "$dir/bench-$k.csv" --json "$dir/bench-$k.json"
		--series "$dir/series-$k.csv" --interval "${CL[series_interval]}")
	if [[ $spec == r:* ]]; then
		a+=(--rate "${spec#r:}" --clients "${CL[pool]}")
	else
		a+=(--clients "$spec")
	fi
	[[ ${CL[keepalive]} == yes ]] && a+=(--keepalive)
	# shellcheck disable=SC2206
	a+=(${CL[bench_args]})
	printf '%s %s %s %s %s\n' "$k" "$(date +%s.%N)" "$spec" "$kind" "$warm" >>"$dir/bench-runs.txt"
	ns_cmd c1
	proc_start "$dir/bench-$k.log" "" "${NSCMD[@]}" "$LAB_BIN/albm-bench" "${a[@]}"
	local pid=$PROC_PID t0=$EPOCHREALTIME d0 dcpu=0 bcpu=0 c
	d0=$(proc_cpu_ticks "$ALBMD_PID")
	deadline=$((SECONDS + bound))
	while proc_alive "$pid" && ((SECONDS < deadline)); do
		c=$(proc_cpu_ticks "$pid") && bcpu=$c # its last reading before it exits
		timeline_tick
		# a server killed (OOM, timeline) is reaped during this sleep: bash's "Killed"
		# notice goes to /dev/null, the lab logs the event itself
		{ sleep 0.1; } 2>/dev/null
	done
	if proc_alive "$pid"; then
		lab_warn "albm-bench ran past its ${bound}s bound; stopped"
		proc_stop "$pid" 2
		return 1
	fi
	dcpu=$(proc_cpu_ticks "$ALBMD_PID")
	bench_cpu_log "$dir" "$k" "$t0" "$((dcpu - d0))" "$bcpu"
	wait "$pid"
	local rc=$?
	unset "LAB_PIDS[$pid]"
	state_del "pid $pid albm-bench ${LAB_PSTART[$pid]}"
	unset "LAB_PSTART[$pid]"
	if ((rc != 0)); then
		lab_warn "albm-bench exited with $rc (see $dir/bench-$k.log)"
		tail -3 "$dir/bench-$k.log" >&2
		return 1
	fi
}

# proc_cpu_ticks PID: user + system CPU time of PID in clock ticks (fails when it is gone).
proc_cpu_ticks() {
	local s fields
	[[ -n $1 ]] && read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a fields <<<"${s##*) }" # fields from the state on: utime, stime are the 12th, 13th
	echo $((fields[11] + fields[12]))
}

# bench_cpu_log DIR K T0 ALBMD_TICKS BENCH_TICKS: one line of DIR/cpu.csv, the CPU albmd
# and albm-bench used during bench run K (in cores: CPU seconds / wall seconds), so that a
# run can show the servers' quotas, not the machine, were the bottleneck.
bench_cpu_log() {
	local f=$1/cpu.csv hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	[[ -s $f ]] || echo "k,wall_s,albmd_cpu_s,bench_cpu_s,albmd_cores,bench_cores" >"$f"
	awk -v k="$2" -v t0="${3/,/.}" -v t1="${EPOCHREALTIME/,/.}" -v d="$4" -v b="$5" -v hz="$hz" \
		'BEGIN { w = t1 - t0; if (w <= 0) w = 1
		printf "%d,%.2f,%.2f,%.2f,%.3f,%.3f\n", k, w, d / hz, b / hz, d / hz / w, b / hz / w }' >>"$f"
}

# bench_ramp DIR: the ramp runs, then the repeats of the last count.
bench_ramp() {
	local dir=$1 k=0 spec i rc=0 last
	: >"$dir/bench-runs.txt"
	while read -r spec; do
		k=$((k + 1))
		lab_log "   bench: $([[ $spec == r:* ]] && echo "open loop, rate ${spec#r:} req/s, pool ${CL[pool]}" || echo "clients $spec"), step ${CL[step]}"
		bench_once "$dir" "$k" "$spec" ramp || rc=1
	done < <(clients_runs)
	last=$(clients_last)
	for ((i = 1; i <= CL[repeat_last]; i++)); do
		k=$((k + 1))
		lab_log "   bench: repeat $i of the last step ($last)"
		bench_once "$dir" "$k" "$last" repeat || rc=1
	done
	return $rc
}

# bench_estimate_s: expected seconds for the whole run (every scheduler), for planning:
# the steps with their warm-ups, ~1 s per albm-bench start, ~6 s per scheduler to start
# and stop the cluster, plus the settle time.
bench_estimate_s() {
	local n_sched runs settle per
	n_sched=$(split_list "${CL[schedulers]}" | wc -l)
	runs=$(( $(clients_runs | wc -l) + CL[repeat_last] ))
	settle=$(duration_ms "${CL[settle]}")
	per=$(( $(bench_steps_ms) + runs * 1000 + 6000 + settle ))
	echo $(( n_sched * per / 1000 ))
}

# bench_steps_ms: the steps of one scheduler's bench runs with their warm-ups, in ms (the
# time the timeline has for its events).
bench_steps_ms() {
	local ramp step warm rwarm
	ramp=$(( $(bench_total_steps) - CL[repeat_last] ))
	step=$(duration_ms "${CL[step]}") warm=$(duration_ms "${CL[warmup]}")
	rwarm=$(duration_ms "${CL[repeat_warmup]}")
	echo $(( ramp * (step + warm) + CL[repeat_last] * (step + rwarm) ))
}

# bench_check_timeline: warn about events the bench runs end before.
bench_check_timeline() {
	local i end len
	[[ ${CL[events]} == yes ]] || return 0
	len=$(bench_steps_ms)
	for ((i = 0; i < NEVENTS; i++)); do
		end=$((E_AT[i] + ${E_FOR[i]:-0}))
		((end <= len)) || lab_warn "${E_ORIGIN[i]}: the event ends at $((end / 1000)).$((end % 1000 / 100))s, after the bench runs' $((len / 1000)).$((len % 1000 / 100))s: it will be cut short or not happen"
	done
}
