# ALBM lab: cluster file parser (format: docs/lab.md "Cluster files") — sourced by lab/run.
# shellcheck shell=bash
#
# A cluster file is line based; '#' starts a comment.
#   key = value                               one global setting (CL[key])
#   server NAME [weight=N] [cpu=PCT%] [mem=SIZE] [swap=SIZE] [cpu_per_mb=DUR] [max_inflight=SIZE]
#               [restart_delay=DUR|never]
#   event at=DUR [for=DUR] server=NAME KIND   one event of the timeline (lab/lib/events.sh)
# Servers keep their file order; S_* arrays are indexed 0..NSERVERS-1.

declare -A CL=()
S_NAME=() S_WEIGHT=() S_CPU=() S_MEM=() S_SWAP=() S_CPUMB=() S_MAXIN=() S_RESTART=()
NSERVERS=0

# Defaults: every key a cluster file may set, so that a typo is caught (cluster_set).
cluster_defaults() {
	# shellcheck disable=SC2054 # the commas are in the values (lists of names)
	CL=(
		[name]=cluster [title]="ALBM lab cluster"
		[schedulers]=rr,lc,albm [clients]=1:32:4 [step]=10s [warmup]=0s [repeat_warmup]=2s [timeout]=60s
		[repeat_last]=0
		[mix]=1:50,5M:40,15M:10 [keepalive]=no [seed]=1
		[mode]=proxy [port_base]=17100 [overload]=auto
		[cpu_per_mb]=4ms [mem_factor]=1 [page_penalty]=20ms [swap]=auto
		[max_inflight]=auto [overflow]=queue
		[sample_interval]=250ms [agent_interval]=200ms [agent_timeout]=1s
		[settle]=2s [agents]=auto [mem_figures]=rr,albm [httpd_args]="" [bench_args]="" [agent_args]=""
		[service_extra]=""
		[rate]="" [load]="" [bound]="" [pool]=1000 [series_interval]=1s
		[restart_delay]=2s [events]=yes [mem_limit]=yes
	)
}

cluster_set() { # KEY VALUE ORIGIN
	[[ -v CL[$1] ]] || lab_die "$3: unknown setting '$1'"
	CL[$1]=$2
}

# cluster_server ORIGIN NAME KEY=VALUE...: add one server line.
cluster_server() {
	local origin=$1 name=$2 kv k v i=$NSERVERS
	shift 2
	[[ $name =~ ^[A-Za-z0-9_-]{1,31}$ ]] || lab_die "$origin: bad server name '$name'"
	S_NAME[i]=$name S_WEIGHT[i]=1 S_CPU[i]=100 S_MEM[i]=128M S_SWAP[i]="" S_CPUMB[i]="" S_MAXIN[i]=""
	S_RESTART[i]=""
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		[[ $kv == *=* && -n $v ]] || lab_die "$origin: expected key=value, got '$kv'"
		case $k in
		weight) [[ $v =~ ^[0-9]+$ ]] || lab_die "$origin: weight '$v' is not a number"
			S_WEIGHT[i]=$v ;;
		cpu) v=${v%\%}
			[[ $v =~ ^[0-9]+$ && $v -ge 1 && $v -le 800 ]] ||
				lab_die "$origin: cpu '$v' must be 1..800 (% of one CPU)"
			S_CPU[i]=$v ;;
		mem|swap|max_inflight)
			size_bytes "$v" >/dev/null || lab_die "$origin: $k '$v' is not a size"
			case $k in mem) S_MEM[i]=$v ;; swap) S_SWAP[i]=$v ;; *) S_MAXIN[i]=$v ;; esac ;;
		cpu_per_mb) duration_ms "$v" >/dev/null || lab_die "$origin: cpu_per_mb '$v' is not a duration"
			S_CPUMB[i]=$v ;;
		restart_delay) [[ $v == never ]] || duration_ms "$v" >/dev/null ||
				lab_die "$origin: restart_delay '$v' is not a duration (e.g. 2s) or never"
			S_RESTART[i]=$v ;;
		*) lab_die "$origin: unknown server key '$k'" ;;
		esac
	done
	NSERVERS=$((NSERVERS + 1))
}

# cluster_load FILE: defaults, then the file.
cluster_load() {
	local file=$1 line n=0 key val
	[[ -r $file ]] || lab_die "cluster file '$file' is not readable"
	cluster_defaults
	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		line=${line%%#*}
		line=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$line")
		[[ -z $line ]] && continue
		if [[ $line =~ ^server[[:space:]] ]]; then
			# shellcheck disable=SC2086
			cluster_server "$file:$n" ${line#server}
		elif [[ $line =~ ^event([[:space:]]|$) ]]; then
			# shellcheck disable=SC2086
			event_parse "$file:$n" ${line#event}
		elif [[ $line =~ ^([a-z_0-9]+)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
			key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
			val=${val#\"} val=${val%\"}
			cluster_set "$key" "$val" "$file:$n"
		else
			lab_die "$file:$n: expected 'key = value', 'server NAME key=value...' or 'event at=DUR ...'"
		fi
	done <"$file"
	((NSERVERS > 0)) || lab_die "$file: no 'server' line"
}

# cluster_check: validate the merged settings (file + command line).
cluster_check() {
	local k
	for k in step warmup repeat_warmup timeout sample_interval agent_interval agent_timeout settle cpu_per_mb page_penalty; do
		duration_ms "${CL[$k]}" >/dev/null || lab_die "$k '${CL[$k]}' is not a duration (e.g. 10s, 250ms)"
	done
	[[ ${CL[mode]} == proxy || ${CL[mode]} == dr ]] || lab_die "mode must be proxy or dr"
	[[ ${CL[overload]} =~ ^(auto|swap|paging)$ ]] || lab_die "overload must be auto, swap or paging"
	[[ ${CL[port_base]} =~ ^[0-9]+$ ]] && ((CL[port_base] >= 1024 && CL[port_base] <= 65000)) ||
		lab_die "port_base must be 1024..65000"
	[[ ${CL[repeat_last]} =~ ^[0-9]+$ ]] || lab_die "repeat_last must be a number"
	[[ ${CL[mix]} =~ ^[0-9.]+[KMGkmg]?:[0-9]+(,[0-9.]+[KMGkmg]?:[0-9]+)*$ ]] ||
		lab_die "mix '${CL[mix]}' must look like 1:50,5M:40,15M:10"
	[[ -n ${CL[schedulers]} ]] || lab_die "no scheduler to run"
	[[ -z $(split_list "${CL[schedulers]}" | sort | uniq -d) ]] ||
		lab_die "schedulers '${CL[schedulers]}' names one twice (each gets one output directory)"
	[[ ${CL[agents]} =~ ^(auto|yes|no)$ ]] || lab_die "agents must be auto, yes or no"
	[[ ${CL[swap]} == auto ]] || size_bytes "${CL[swap]}" >/dev/null || lab_die "swap '${CL[swap]}' is not a size"
	[[ ${CL[events]} =~ ^(yes|no)$ ]] || lab_die "events must be yes or no"
	[[ ${CL[mem_limit]} =~ ^(yes|no)$ ]] || lab_die "mem_limit must be yes or no"
	[[ ${CL[restart_delay]} == never ]] || duration_ms "${CL[restart_delay]}" >/dev/null ||
		lab_die "restart_delay '${CL[restart_delay]}' is not a duration (e.g. 2s) or never"
	duration_ms "${CL[series_interval]}" >/dev/null ||
		lab_die "series_interval '${CL[series_interval]}' is not a duration (e.g. 1s)"
	open_check
	events_check
	events_expand "$(bench_steps_ms)"
}

# cluster_dump: the resolved settings, one key=value per line (written to OUT/cluster.env).
cluster_dump() {
	local k i
	for k in $(printf '%s\n' "${!CL[@]}" | sort); do
		printf '%s=%s\n' "$k" "${CL[$k]}"
	done
	for ((i = 0; i < NSERVERS; i++)); do
		printf 'server.%s=weight:%s cpu:%s%% mem:%s swap:%s cpu_per_mb:%s max_inflight:%s restart_delay:%s\n' \
			"${S_NAME[i]}" "${S_WEIGHT[i]}" "${S_CPU[i]}" "${S_MEM[i]}" "${S_SWAP[i]:-auto}" \
			"${S_CPUMB[i]:-${CL[cpu_per_mb]}}" "${S_MAXIN[i]:-auto}" "${S_RESTART[i]:-${CL[restart_delay]}}"
	done
	events_dump
	open_dump
}
