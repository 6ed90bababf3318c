#!/usr/bin/env bash
# ALBM: descriptor exhaustion never marks a healthy server down (issue 11 item 1).
#
# The issue's case: `ulimit -n 1024`, `maxconn 20000`, `max-fails 1`, one idle control
# client, then 700 concurrent clients (all connected before any sends its request, so
# that albmd would need 1400 descriptors at once).  Before the fix the backend socket()
# got EMFILE after accept4() succeeded, the failure went to the passive health check,
# every server was marked down and clients were closed as `no_server`.  Now albmd keeps
# two descriptors per accepted client (HAProxy's rule): it pauses accepting while the
# budget is used up (refusals.fd_headroom), the other clients wait in the backlog, and:
#   - every client is served, none is closed as no_server;
#   - no server is marked down, no connect failure is counted;
#   - the service answers at once after the load;
#   - albmd does not spin while paused (CPU from /proc/PID/stat).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 210 albmd albmctl albm-httpd
TOOLS=tests/lib/fault_tools.py
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4096 ] || skip "hard descriptor limit below 4096"

P1=$(free_port) P2=$(free_port) VIP=$(free_port)
start_httpd s1 "$P1"
start_httpd s2 "$P2"
cat >"$TMP/albmd.conf" <<CONF
maxconn 20000;
control { socket $TMP/albmd.sock; }
service web {
	listen 127.0.0.1:$VIP;
	scheduler rr;
	max-fails 1;
	fail-timeout 10s;
	server s1 127.0.0.1:$P1;
	server s2 127.0.0.1:$P2;
}
CONF
# shellcheck disable=SC2034 # read by the sourced test library
ALBMD_SOCK=$TMP/albmd.sock
(ulimit -n 1024 && exec "$BIN/albmd" -f "$TMP/albmd.conf" --log-level info) >>"$TMP/albmd.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 ctl ping || fail "albmd did not start: $(cat "$TMP/albmd.log")"
[ "$(awk '/^Max open files/ { print $4 }' "/proc/$ALBMD_PID/limits")" = 1024 ] || fail "not at 1024 descriptors"
# one idle control-socket client, as in the issue
python3 -c "import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(120)" "$TMP/albmd.sock" &
track_pid $!

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
stat_of() { ctl stats --json | python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
svc_of() { ctl list --json | python3 -c "import json, sys; s = json.load(sys.stdin)['services'][0]; print(eval(sys.argv[1]))" "$1"; }

t0=$(date +%s%N) c0=$(cpu_ticks "$ALBMD_PID")
out=$(python3 "$TOOLS" many 127.0.0.1 "$VIP" 700 --path /bytes/100 --hold 1.5 --timeout 60)
t1=$(date +%s%N) c1=$(cpu_ticks "$ALBMD_PID")
cpu_pct=$(( (c1 - c0) * 100 * 1000000000 / $(getconf CLK_TCK) / (t1 - t0 + 1) ))
echo "700 clients: $out; albmd CPU ${cpu_pct}% of one core over the run"
echo "refusals: $(stat_of 'd["refusals"]'); fd_budget $(stat_of 'd["fd_budget"]'); accept_errors $(stat_of 'd["accept_errors"]')"
echo "service: no_server $(svc_of 's["no_server"]'), states $(svc_of '[x["state"] for x in s["servers"]]'), connect_failures $(svc_of '[x["connect_failures"] for x in s["servers"]]')"

[[ $out == "ok=700 "* ]] || fail "not every client was served: $out"
[ "$(svc_of 's["no_server"]')" = 0 ] || fail "clients closed as no_server during descriptor exhaustion"
[ "$(svc_of 'sum(x["connect_failures"] for x in s["servers"])')" = 0 ] || fail "a local shortage counted as connect failures"
[ "$(svc_of '",".join(x["state"] for x in s["servers"])')" = "up,up" ] || fail "a server was marked down: $(ctl list)"
grep -q "marked down" "$TMP/albmd.log" && fail "the log says a server was marked down"
[ "$(stat_of 'd["refusals"]["fd_headroom"]')" -ge 1 ] || fail "the pause at the descriptor budget was not counted"
[ "$(stat_of 'd["refusals"]["backend_socket"]')" = 0 ] || fail "a backend socket failed although accepting was gated"
[ "$cpu_pct" -lt 80 ] || fail "albmd used ${cpu_pct}% CPU: a busy loop while paused?"
# the service serves at once after the load
for i in 1 2 3 4; do
	[ -n "$(who "$VIP" /bytes/10)" ] || fail "request $i after the load got no answer"
done
echo "after the load: 4 requests answered at once"
echo "210-albmd-fd-exhaustion: ok"
