# ALBM integration tests: helpers for tests of albm-httpd and albm-bench (tests/integration/3xx-lab-*).
# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Source after tests/lib/common.sh; needs $TMP (a directory the test owns).
#
#   free_port                   a loopback TCP port nobody listens on right now
#   start_httpd NAME PORT ARGS  albm-httpd --name NAME on 127.0.0.1:PORT, tracked; returns
#                               once it listens (fails if another process holds the port)
#   stats PORT                  GET /stats of a server to stdout
#   pyjson FILE 'assert ...'    run Python with `d` = the JSON document in FILE
#   csv_col FILE ROW COLUMN     one CSV cell by column name (ROW 1 = first data row)
#   gt0 NUMBER                  true when NUMBER > 0

# A port is free when no TCP socket uses it (ss sees listeners, connections and
# TIME_WAIT alike); without ss, when nothing accepts a connection on it.
lab_port_free() {
	if command -v ss >/dev/null; then
		! ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

free_port() {
	local p lo=20000 hi
	# below the kernel's ephemeral range, where client sockets may hold a port that no
	# one listens on (bind would fail); clear of the lab's 17100-17500 layout
	hi=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
	[ "$hi" -gt "$lo" ] || hi=32767
	for _ in $(seq 1 100); do
		p=$((lo + RANDOM % (hi - lo)))
		lab_port_free "$p" && { echo "$p"; return 0; }
	done
	fail "no free port found"
}

start_httpd() {
	local name=$1 port=$2 pid
	shift 2
	"$BIN/albm-httpd" --listen "127.0.0.1:$port" --name "$name" "$@" >"$TMP/httpd-$name.log" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_port "$port" 10 || { cat "$TMP/httpd-$name.log"; fail "albm-httpd $name did not listen on $port"; }
	kill -0 "$pid" 2>/dev/null || { cat "$TMP/httpd-$name.log"; fail "albm-httpd $name exited (port $port taken?)"; }
	HTTPD_PID=$pid
}

stats() { curl -s --max-time 5 "http://127.0.0.1:$1/stats"; }

pyjson() {
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$1"
}

csv_col() {
	python3 -c "import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(rows[int(sys.argv[2]) - 1][sys.argv[3]])" "$@"
}

gt0() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$1"; }
