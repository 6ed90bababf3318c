# ALBM lab: bring the cluster's processes up and down (servers, agents, albmd, sampler).
# shellcheck shell=bash
#
# Ports (all on 127.0.0.1), from CL[port_base] = P:
#   P     the service (albmd's listener, the "VIP" the bench connects to)
#   P+1   albmd's HTTP control (/api/state; the memory sampler reads it)
#   P+2   albmd's agent report listener (UDP)
#   P+10+i  server i (albm-httpd)
# In mode dr everything lives in lab/netns's namespaces (lab/lib/netns.sh): the servers
# listen on port P (the VIP's), each in its own namespace.

port_svc() { echo "${CL[port_base]}"; }
port_http() { echo $((CL[port_base] + 1)); }
port_agents() { echo $((CL[port_base] + 2)); }
port_server() { if is_dr; then port_svc; else echo $((CL[port_base] + 10 + $1)); fi; }

declare -a SRV_PID=() SRV_STARTS=() AGENT_PID=()
ALBMD_PID="" SAMPLER_PID=""

# ports_check: every port of the layout is free (a busy port means another run or service).
ports_check() {
	local i p
	for p in "$(port_svc)" "$(port_http)" "$(port_agents)"; do
		port_busy "$p" && lab_die "port $p is in use (choose another --port-base)"
	done
	for ((i = 0; i < NSERVERS; i++)); do
		p=$(port_server "$i")
		port_busy "$p" && lab_die "port $p is in use (choose another --port-base)"
	done
	return 0
}

# server_max_inflight I: bytes a server may hold before queueing (httpd --max-inflight-bytes).
# Default: the memory limit plus 3/4 of its swap, so the cgroup's memory+swap limit is never
# reached (that would OOM-kill the server) while the overload beyond the limit is real.
# A server without swap (swap=0, a container) has no admission limit of its own by
# default (1G, albm-httpd's default): running out of memory is an OOM kill.
server_max_inflight() {
	local i=$1 mem swap
	if [[ -n ${S_MAXIN[i]} ]]; then size_bytes "${S_MAXIN[i]}"; return; fi
	if [[ ${CL[max_inflight]} != auto ]]; then size_bytes "${CL[max_inflight]}"; return; fi
	server_noswap "$i" && { echo $((1 << 30)); return; }
	mem=$(size_bytes "${S_MEM[i]}")
	swap=$(server_swap_bytes "$i")
	echo $((mem + swap * 3 / 4))
}

# server_noswap I: the server runs without swap (swap=0): overload is an OOM kill.
server_noswap() { [[ -n ${S_SWAP[$1]} ]] && (($(size_bytes "${S_SWAP[$1]}") == 0)); }

# server_swap_bytes I: memory+swap limit minus memory limit for server I.
# Default (swap unset): 3x the memory limit.
server_swap_bytes() {
	local i=$1
	if [[ -n ${S_SWAP[i]} ]]; then size_bytes "${S_SWAP[i]}"; return; fi
	echo $(($(size_bytes "${S_MEM[i]}") * 3))
}

# server_cpu_per_mb I: the CPU cost per MB.  Without cgroups (paging model) a server's CPU
# share cannot be capped, so a smaller cpu= is emulated by a proportionally larger cost.
server_cpu_per_mb() {
	local i=$1 d ms
	d=${S_CPUMB[i]:-${CL[cpu_per_mb]}}
	if [[ $LAB_CGROUPS == 1 ]]; then echo "$d"; return; fi
	ms=$(duration_ms "$d")
	awk -v ms="$ms" -v ref="$LAB_CPU_REF" -v cpu="${S_CPU[i]}" \
		'BEGIN { printf "%.3fms\n", ms * ref / cpu }'
}

# httpd_args I: the albm-httpd command line for server I (without the program).
httpd_args() {
	local i=$1 a addr=127.0.0.1
	is_dr && addr=0.0.0.0 # the VIP is on the server namespace's lo
	a=(--listen "$addr:$(port_server "$i")" --name "${S_NAME[i]}"
		--mem-factor "${CL[mem_factor]}" --cpu-per-mb "$(server_cpu_per_mb "$i")"
		--max-inflight-bytes "$(server_max_inflight "$i")" --overflow "${CL[overflow]}")
	if [[ $LAB_OVERLOAD == paging ]] && ! { server_noswap "$i" && [[ $LAB_CGROUPS == 1 ]]; }; then
		a+=(--paging-model "$(size_bytes "${S_MEM[i]}")" --page-penalty "${CL[page_penalty]}")
	fi
	# shellcheck disable=SC2206
	a+=(${CL[httpd_args]})
	printf '%s\n' "${a[@]}"
}

# server_start DIR I: start server I in its cgroups (no wait); its PID in SRV_PID[I].
# Inside a cgroup it is the first candidate of the OOM killer (oom_score_adj 1000): in
# its container the server dies of an overload, not a neighbour the timeline started.
# The first start logs to DIR/httpd-NAME.log, restarts to DIR/httpd-NAME-N.log.
server_start() {
	local dir=$1 i=$2 cgs="" args log adj=""
	if [[ $LAB_CGROUPS == 1 ]]; then
		cgs=$(cg_dirs "${S_NAME[i]}")
		adj=1000
	fi
	mapfile -t args < <(httpd_args "$i")
	SRV_STARTS[i]=$((${SRV_STARTS[i]:-0} + 1))
	log=$dir/httpd-${S_NAME[i]}.log
	((SRV_STARTS[i] > 1)) && log=$dir/httpd-${S_NAME[i]}-${SRV_STARTS[i]}.log
	ns_cmd "s$((i + 1))"
	PROC_OOM_ADJ=$adj proc_start "$log" "$cgs" "${NSCMD[@]}" "$LAB_BIN/albm-httpd" "${args[@]}"
	SRV_PID[i]=$PROC_PID
}

# servers_up DIR: start every server (in its cgroup) and wait for its port.
servers_up() {
	local dir=$1 i
	for ((i = 0; i < NSERVERS; i++)); do
		[[ $LAB_CGROUPS == 1 ]] && cg_reset "${S_NAME[i]}"
		SRV_STARTS[i]=0
		server_start "$dir" "$i"
	done
	for ((i = 0; i < NSERVERS; i++)); do
		ns_wait_port "s$((i + 1))" 127.0.0.1 "$(port_server "$i")" 10 || {
			tail -5 "$dir/httpd-${S_NAME[i]}.log" >&2
			lab_log "server ${S_NAME[i]} did not listen on port $(port_server "$i")"
			return 1
		}
	done
}

# agents_on: whether this run has agents.  auto = only with per-server cgroups: without
# them every agent would measure the same shared host (one busy machine makes every
# server look overloaded), which is worse for ALBM than no measurement at all.
agents_on() {
	case ${CL[agents]} in
	yes) return 0 ;;
	no) return 1 ;;
	*) [[ $LAB_CGROUPS == 1 ]] ;;
	esac
}

# agents_up DIR: one agent per server, scoped to that server's cgroup.
agents_up() {
	local dir=$1 i a
	agents_on || return 0
	for ((i = 0; i < NSERVERS; i++)); do
		a=(--name "${S_NAME[i]}" --distributor "$(addr_dist):$(port_agents)"
			--key-file "$LAB_KEY" --interval "${CL[agent_interval]}")
		[[ $LAB_CGROUPS == 1 ]] && a+=(--cgroup "$(cg_path "${S_NAME[i]}")")
		# shellcheck disable=SC2206
		a+=(${CL[agent_args]})
		ns_cmd "s$((i + 1))"
		proc_start "$dir/agent-${S_NAME[i]}.log" "" "${NSCMD[@]}" "$LAB_BIN/albm-agent" "${a[@]}"
		AGENT_PID[i]=$PROC_PID
	done
}

# albmd_conf SCHED: the distributor's configuration for one scheduler run.
albmd_conf() {
	local sched=$1 i
	cat <<EOF
# generated by lab/run for scheduler $sched (cluster ${CL[name]})
agents { listen $(addr_dist):$(port_agents); key-file $LAB_KEY; timeout ${CL[agent_timeout]}; }
control { socket $LAB_SOCK; http 127.0.0.1:$(port_http); }
service web {
	listen $(addr_vip):$(port_svc);
	mode ${CL[mode]};
	scheduler $sched;
EOF
	is_dr && printf '\tinterface eth0;\n'
	for ((i = 0; i < NSERVERS; i++)); do
		if is_dr; then # the port is the service's (LVS-DR cannot change it)
			printf '\tserver %s %s weight %s;\n' "${S_NAME[i]}" "$(addr_server "$i")" "${S_WEIGHT[i]}"
		else
			printf '\tserver %s 127.0.0.1:%s weight %s;\n' "${S_NAME[i]}" "$(port_server "$i")" \
				"${S_WEIGHT[i]}"
		fi
	done
	[[ -n ${CL[service_extra]} ]] && printf '\t%s\n' "${CL[service_extra]}"
	echo "}"
}

# albmd_up DIR SCHED: write the config, start albmd, wait for the service port.
albmd_up() {
	local dir=$1 sched=$2
	albmd_conf "$sched" >"$dir/albmd.conf"
	rm -f "$LAB_SOCK"
	ns_cmd d
	proc_start "$dir/albmd.log" "" "${NSCMD[@]}" "$LAB_BIN/albmd" -f "$dir/albmd.conf"
	ALBMD_PID=$PROC_PID
	if ! ns_wait_port d 127.0.0.1 "$(port_http)" 10; then
		tail -5 "$dir/albmd.log" >&2
		lab_log "albmd did not answer on its control port $(port_http)"
		return 1
	fi
}

# agents_wait TIMEOUT_S: until albmd shows a measurement for every server (or timeout).
agents_wait() {
	local deadline=$((SECONDS + $1)) n
	agents_on || return 0
	while ((SECONDS < deadline)); do
		n=$(ns_http_get d "http://127.0.0.1:$(port_http)/api/state" 2>/dev/null |
			grep -o '"mem_available_bytes"' | wc -l)
		((n >= NSERVERS)) && return 0
		sleep 0.2
	done
	lab_warn "albmd has no agent measurement for every server after $1 s (see agent logs)"
	return 1
}

# sampler_up DIR: start the memory sampler (lab/lib/sample.py) for this run.
sampler_up() {
	local dir=$1 i a
	a=("$LAB_DIR/lib/sample.py" --out "$dir/mem.csv" --interval "$(duration_ms "${CL[sample_interval]}")"
		--api "http://127.0.0.1:$(port_http)/api/state" --max-seconds "$LAB_RUN_BOUND"
		--t0-file "$dir/mem.t0")
	for ((i = 0; i < NSERVERS; i++)); do
		if [[ $LAB_CGROUPS == 1 ]]; then
			a+=(--server "${S_NAME[i]}=$(cg_path "${S_NAME[i]}")")
		else
			a+=(--server "${S_NAME[i]}=")
		fi
		a+=(--stats "${S_NAME[i]}=http://$(addr_server "$i"):$(port_server "$i")/stats")
	done
	[[ $LAB_CGROUPS == 1 ]] && a+=(--cgroup-version "$CG_VERSION")
	# paging model: the servers' memory is the model's; the agents see cgroup or host memory
	# shellcheck disable=SC2054 # one argument, a comma-separated list
	[[ $LAB_OVERLOAD == paging ]] && a+=(--sources model,agent,cgroup)
	rm -f "$dir/mem.t0"
	ns_cmd d
	proc_start "$dir/sampler.log" "" "${NSCMD[@]}" "$PY" "${a[@]}"
	SAMPLER_PID=$PROC_PID
	# the figures place the ramp steps on the sampler's clock: let it start first
	for ((i = 0; i < 100; i++)); do
		[[ -s $dir/mem.t0 ]] && return 0
		sleep 0.1
	done
	lab_warn "the memory sampler did not start (see $dir/sampler.log)"
}

# cluster_down: stop this run's sampler, albmd, agents and servers (by PID): SIGTERM to
# all of them at once, then each is waited for (and killed after 3 s).
cluster_down() {
	local p
	# shellcheck disable=SC2068 # unquoted: a server the timeline left down has no PID
	for p in $SAMPLER_PID $ALBMD_PID ${AGENT_PID[@]} ${SRV_PID[@]}; do
		proc_alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	# shellcheck disable=SC2068
	for p in $SAMPLER_PID $ALBMD_PID ${AGENT_PID[@]} ${SRV_PID[@]}; do
		proc_stop "$p" 3
	done
	SAMPLER_PID="" ALBMD_PID="" AGENT_PID=() SRV_PID=()
	rm -f "$LAB_SOCK"
}
