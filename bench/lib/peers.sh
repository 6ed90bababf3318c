# ALBM bench/peers: config writers, process starters and measurement helpers.
# shellcheck shell=bash
# Source from bench/peers.sh after tests/lib/common.sh, with these set:
#   T        the run's temp dir (configs, logs, pid files, document root)
#   WORKERS  worker processes/threads every balancer gets
#   BACKEND_PORTS  array of the 4 backend ports
#
#   pick_port              sets PORT_PICKED to a loopback TCP port below the ephemeral range
#                          that nobody listens on and that was not picked before
#   write_docroot DIR      DIR/1b (1 byte) and DIR/5m (5 MiB), readable by nginx's workers
#   start_backends MODE    nginx serving $T/www on every BACKEND_PORTS port; MODE "1" = one
#                          instance with worker_processes 1 listening on all four ports,
#                          "4" = four instances with worker_processes 1 each
#   start_albmd_proxy NAME PORT [DATA_PATH [LINE]]  albmd, proxy mode, rr over the backends,
#                          `data-path DATA_PATH` (default auto); LINE: one more top-level directive
#   start_uring NAME PORT  the io_uring relay prototype (bench/uring_relay.c, in $BIN/bench)
#   start_haproxy NAME PORT [SPLICE]  haproxy mode tcp, roundrobin; SPLICE=1 adds splice-auto
#   start_nginx_stream NAME PORT [ALG]  nginx stream proxy; ALG "" (round robin) or least_conn
#   bal_pids NAME          the PIDs whose CPU time is the balancer NAME's (master and workers)
#   cpu_ticks PID...       utime+stime of the PIDs (all threads), in 1/CLK_TCK s
#   rss_kb PID...          resident memory of the PIDs together (VmRSS), in KiB
#   host_jiffies           "busy total" jiffies of the whole machine from /proc/stat
#   children_ms            CPU ms (user+sys) of the shell's waited-for children so far, from
#                          the `times` builtin (run in the current shell: no $(...))
#   wrk_parse FILE         wrk --latency output -> "rps p50_us p99_us requests errors non2xx"

PEERS_USED_PORTS=" "
declare -A BAL_PID

pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 10000))
		case $PEERS_USED_PORTS in *" $p "*) continue ;; esac
		[ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] || continue
		PEERS_USED_PORTS+="$p "
		# shellcheck disable=SC2034 # the caller reads it
		PORT_PICKED=$p
		return 0
	done
	return 1
}

write_docroot() {
	mkdir -p "$1"
	printf x > "$1/1b"
	head -c $((5 << 20)) /dev/urandom > "$1/5m"
	# nginx's workers run as nobody when started by root: make the path traversable
	chmod 755 "$T" "$1"
	chmod 644 "$1/1b" "$1/5m"
}

# nginx_run NAME CONF: nginx in the foreground with its own pid and error log; sets BAL_PID
nginx_run() {
	local name=$1 conf=$2
	nginx -p "$T/" -e "$T/$name.err" -c "$conf" -g "daemon off; pid $T/$name.pid;" \
		>> "$T/$name.log" 2>&1 &
	BAL_PID[$name]=$!
	track_pid "$!"
}

# backend_conf PORT...: one http server with worker_processes 1 on the given ports
backend_conf() {
	local p
	cat <<-EOF
	worker_processes 1;
	worker_rlimit_nofile 8192;
	events { worker_connections 4096; }
	http {
	    access_log off;
	    default_type application/octet-stream;
	    sendfile on;
	    tcp_nopush on;
	    tcp_nodelay on;
	    keepalive_requests 100000000;
	    keepalive_timeout 300s;
	    open_file_cache max=16 inactive=300s;
	    client_body_temp_path $T/tmp/body;
	    proxy_temp_path $T/tmp/proxy;
	    fastcgi_temp_path $T/tmp/fastcgi;
	    uwsgi_temp_path $T/tmp/uwsgi;
	    scgi_temp_path $T/tmp/scgi;
	    server {
	EOF
	for p in "$@"; do
		echo "        listen 127.0.0.1:$p backlog=4096;"
	done
	cat <<-EOF
	        root $T/www;
	    }
	}
	EOF
}

start_backends() {
	local mode=$1 i p
	mkdir -p "$T/tmp"
	if [ "$mode" = 1 ]; then
		backend_conf "${BACKEND_PORTS[@]}" > "$T/backend.conf"
		nginx_run backend "$T/backend.conf"
	else
		for i in "${!BACKEND_PORTS[@]}"; do
			backend_conf "${BACKEND_PORTS[$i]}" > "$T/backend$i.conf"
			nginx_run "backend$i" "$T/backend$i.conf"
		done
	fi
	for p in "${BACKEND_PORTS[@]}"; do
		wait_port "$p" || fail "backend nginx did not listen on $p: $(cat "$T"/backend*.err)"
	done
}

start_albmd_proxy() {
	local name=$1 port=$2 path=${3:-auto} extra=${4:-} i
	{
		echo "workers $WORKERS;"
		echo "drain-timeout 1s;"
		[ -n "$extra" ] && echo "$extra"
		echo "control { socket $T/$name.sock; }"
		echo "service web {"
		echo "    listen 127.0.0.1:$port;"
		echo "    mode proxy;"
		echo "    scheduler rr;"
		echo "    data-path $path;"
		for i in "${!BACKEND_PORTS[@]}"; do
			echo "    server s$((i + 1)) 127.0.0.1:${BACKEND_PORTS[$i]} weight 1;"
		done
		echo "}"
	} > "$T/$name.conf"
	"$BIN/albmd" -f "$T/$name.conf" >> "$T/$name.log" 2>&1 &
	BAL_PID[$name]=$!
	track_pid "$!"
	wait_port "$port" || fail "$name did not listen on $port: $(cat "$T/$name.log")"
}

# start_uring NAME PORT: the io_uring relay prototype (bench/uring_relay.c), round robin
start_uring() {
	local name=$1 port=$2
	"$BIN/bench/uring_relay" "$port" "$WORKERS" "${BACKEND_PORTS[@]}" >> "$T/$name.log" 2>&1 &
	BAL_PID[$name]=$!
	track_pid "$!"
	wait_port "$port" || fail "$name did not listen on $port: $(cat "$T/$name.log")"
}

# haproxy refuses a maxconn its open-file limit cannot hold: 2 fds per connection, plus
# with splice a pipe (2 fds) per 4 connections, plus spare
haproxy_maxconn() {
	local lim
	lim=$(ulimit -n)
	[ "$lim" = unlimited ] && lim=65536
	lim=$(((lim - 200) * 2 / 5))
	[ "$lim" -gt 8192 ] && lim=8192
	echo "$lim"
}

start_haproxy() {
	local name=$1 port=$2 splice=${3:-0} i
	{
		echo "global"
		echo "    nbthread $WORKERS"
		echo "    maxconn $(haproxy_maxconn)"
		echo "defaults"
		echo "    mode tcp"
		echo "    balance roundrobin"
		echo "    timeout connect 5s"
		echo "    timeout client 300s"
		echo "    timeout server 300s"
		[ "$splice" = 1 ] && echo "    option splice-auto"
		echo "listen bench"
		echo "    bind 127.0.0.1:$port"
		for i in "${!BACKEND_PORTS[@]}"; do
			echo "    server s$((i + 1)) 127.0.0.1:${BACKEND_PORTS[$i]}"
		done
	} > "$T/$name.cfg"
	haproxy -db -f "$T/$name.cfg" >> "$T/$name.log" 2>&1 &
	BAL_PID[$name]=$!
	track_pid "$!"
	wait_port "$port" || fail "$name did not listen on $port: $(cat "$T/$name.log")"
}

start_nginx_stream() {
	local name=$1 port=$2 alg=${3:-} p
	{
		echo "load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
		echo "worker_processes $WORKERS;"
		echo "worker_rlimit_nofile 20000;"
		echo "events { worker_connections 8192; }"
		echo "stream {"
		echo "    upstream backends {"
		[ -n "$alg" ] && echo "        $alg;"
		for p in "${BACKEND_PORTS[@]}"; do
			echo "        server 127.0.0.1:$p;"
		done
		echo "    }"
		echo "    server {"
		echo "        listen 127.0.0.1:$port backlog=4096;"
		echo "        proxy_pass backends;"
		echo "    }"
		echo "}"
	} > "$T/$name.conf"
	nginx_run "$name" "$T/$name.conf"
	wait_port "$port" || fail "$name did not listen on $port: $(cat "$T/$name.err")"
}

bal_pids() {
	local pid=${BAL_PID[$1]}
	echo "$pid" $(pgrep -P "$pid")
}

cpu_ticks() {
	local p sum=0 v
	for p in "$@"; do
		# fields 14, 15 after the "(comm)" that may hold spaces
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

rss_kb() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

host_jiffies() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# sets CHILDREN_MS; `times` prints the shell's, then its children's "XmY.YYYs XmY.YYYs"
children_ms() {
	local line
	times > "$T/times"
	line=$(tail -1 "$T/times")
	# shellcheck disable=SC2034 # the caller reads it
	CHILDREN_MS=$(awk '{
		ms = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); ms += a[1] * 60000 + a[2] * 1000 }
		printf "%d", ms }' <<< "$line")
}

# a wrk latency ("950.00us", "1.20ms", "2.00s", "1.00m") in microseconds
wrk_parse() {
	awk '
	function us(v,  n) {
		n = v + 0
		if (v ~ /us$/) return n
		if (v ~ /ms$/) return n * 1000
		if (v ~ /m$/) return n * 60e6
		if (v ~ /s$/) return n * 1e6
		return n
	}
	$1 == "50%" { p50 = us($2) }
	$1 == "99%" { p99 = us($2) }
	$2 == "requests" && $3 == "in" { req = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx/ { non2xx = $NF }
	END { printf "%s %s %s %s %d %d\n", rps, p50, p99, req, err, non2xx }
	' "$1"
}
