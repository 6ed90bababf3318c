#!/usr/bin/env bash
# ALBM fault suite, mode proxy: albmd runs out of file descriptors.
#
#   fd-budget   the issue's case: `ulimit -n 1024`, `maxconn 20000`, 4 long downloads
#               running, then 700 clients at once (1400 descriptors needed).  Must hold:
#               every client served (the ones beyond the budget wait in the backlog), the
#               long downloads complete, no server marked down, no no_server, no connect
#               failure; refusals.fd_headroom says why accepting paused; no busy loop.
#   fd-shrink   the limit is lowered under the running albmd (prlimit) below what it
#               holds, so accept4() and socket() fail with EMFILE although the budget
#               said there was room.  Must hold: accepting pauses (refusals.emfile),
#               clients whose backend socket fails are closed and counted
#               (refusals.backend_socket), never blamed on a server (no connect failure,
#               no server down); albmd does not spin on the pending clients (CPU); once
#               the limit is back, it serves at once.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 820 albmd albmctl albm-httpd
# shellcheck source=lib.sh
. tests/faults/lib.sh
command -v prlimit >/dev/null || skip "prlimit not installed (util-linux)"
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4096 ] || skip "hard descriptor limit below 4096"
TOOLS=tests/lib/fault_tools.py

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
	fail-timeout 30s;
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
healthy() {
	[ "$(svc_json web '",".join(x["state"] for x in s["servers"])')" = "up,up" ] &&
		[ "$(svc_json web 'sum(x["connect_failures"] for x in s["servers"])')" = 0 ] &&
		[ "$(svc_json web 's["no_server"]')" = 0 ]
}

# ---- fd-budget -------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/budget.flows"
out=$(python3 "$TOOLS" many 127.0.0.1 "$VIP" 700 --path /bytes/100 --hold 1.5 --timeout 60)
flows_wait "$TMP/budget.flows" 30 || fail "fd-budget: the downloads did not end"
cpu=$(cpu_pct "$ALBMD_PID")
echo "fd-budget: 700 clients: $out; downloads: $(grep '^flows ' "$TMP/budget.flows"); refusals $(stats_json 'd["refusals"]')"
[[ $out == "ok=700 "* ]] || fail "fd-budget: not every client was served: $out"
[ "$(flows_lost "$TMP/budget.flows")" = 0 ] || fail "fd-budget: downloads lost: $(cat "$TMP/budget.flows")"
healthy || fail "fd-budget: a server was blamed: $(ctl list)"
[ "$(stats_json 'd["refusals"]["fd_headroom"]')" -ge 1 ] || fail "fd-budget: the pause was not counted"
[ "$cpu" -lt "$(busy_limit)" ] || fail "fd-budget: albmd at ${cpu}% CPU"
row "proxy: descriptors, ulimit 1024 + 700 clients" "held: paused $(stats_json 'd["refusals"]["fd_headroom"]')x at the budget, all served" "0/4 long, 0/700" "$cpu"

# ---- fd-shrink -------------------------------------------------------------------------
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/shrink.flows"
open_fds=$(ls "/proc/$ALBMD_PID/fd" | wc -l)
prlimit --pid "$ALBMD_PID" --nofile=$((open_fds + 3)):1024 || fail "prlimit"
cpu_mark "$ALBMD_PID"
out=$(python3 "$TOOLS" many 127.0.0.1 "$VIP" 40 --path /bytes/100 --timeout 3)
sleep 1 # clients still pending in the backlog: albmd must not spin on them
cpu=$(cpu_pct "$ALBMD_PID")
refusals=$(stats_json 'd["refusals"]')
prlimit --pid "$ALBMD_PID" --nofile=1024:1024 || fail "prlimit (restore)"
echo "fd-shrink: limit $((open_fds + 3)) with $open_fds open: 40 clients: $out; refusals $refusals; CPU ${cpu}%"
[ "$(stats_json 'd["refusals"]["emfile"] + d["refusals"]["backend_socket"]')" -ge 1 ] ||
	fail "fd-shrink: no shortage counted: $refusals"
healthy || fail "fd-shrink: a local shortage was blamed on a server: $(ctl list)"
grep -q "marked down" "$TMP/albmd.log" && fail "fd-shrink: the log says a server was marked down"
[ "$cpu" -lt "$(busy_limit)" ] || fail "fd-shrink: albmd at ${cpu}% CPU while descriptors ran out: a busy loop"
flows_wait "$TMP/shrink.flows" 30 || fail "fd-shrink: the downloads did not end"
[ "$(flows_lost "$TMP/shrink.flows")" = 0 ] || fail "fd-shrink: running downloads lost: $(cat "$TMP/shrink.flows")"
answers() { [ -n "$(who "$VIP" /bytes/10)" ]; }
wait_until 5 answers || fail "fd-shrink: no answer after the limit was restored"
for i in 1 2 3; do answers || fail "fd-shrink: request $i after the limit was restored"; done
row "proxy: descriptor limit cut under albmd" "held: emfile $(stats_json 'd["refusals"]["emfile"]'), backend_socket $(stats_json 'd["refusals"]["backend_socket"]'), no server blamed" "0/4 long" "$cpu"
echo "20-proxy-descriptors: ok"
