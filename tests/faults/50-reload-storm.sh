#!/usr/bin/env bash
# ALBM fault suite: a reload storm under load — 50 SIGHUPs, each applied, while clients
# make new connections (2 workers) and 4 long downloads run.
#
# Every other reload changes a weight, so the reloads do work.  Must hold: all 50 reloads
# applied (reloads_ok +50, none failed), no request failed (the listening sockets are
# kept, never closed and re-bound), the downloads complete, no server marked down,
# every connection counter back to 0 at the end, albmd's CPU bounded.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 850 albmd albmctl albm-httpd
# shellcheck source=lib.sh
. tests/faults/lib.sh

P1=$(free_port) P2=$(free_port) VIP=$(free_port)
start_httpd s1 "$P1"
start_httpd s2 "$P2"
conf() { # WEIGHT of s1
	cat >"$TMP/albmd.conf" <<CONF
workers 2;
control { socket $TMP/albmd.sock; }
service web {
	listen 127.0.0.1:$VIP;
	scheduler wrr;
	server s1 127.0.0.1:$P1 weight $1;
	server s2 127.0.0.1:$P2;
}
CONF
}
conf 1
start_albmd "$TMP/albmd.conf"

# a connection per request until $TMP/stop exists: "ok N failed M"
python3 - "$VIP" "$TMP/stop" >"$TMP/load.txt" <<'PY' &
import http.client, os, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
ok = failed = 0
end = time.time() + 120
while not os.path.exists(stop) and time.time() < end:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/bytes/2000")
        r = c.getresponse()
        ok += len(r.read()) == 2000 and r.status == 200
        c.close()
    except Exception:
        failed += 1
print(f"ok {ok} failed {failed}", flush=True)
PY
LOAD=$!
track_pid "$LOAD"
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/storm.flows"
cpu_mark "$ALBMD_PID"
r0=$(reloads)
for i in $(seq 1 50); do
	conf $((1 + i % 2))
	kill -HUP "$ALBMD_PID"
	wait_until 5 reloads_are $((r0 + i)) || fail "reload $i was not applied (reloads_ok $(reloads))"
done
cpu=$(cpu_pct "$ALBMD_PID")
touch "$TMP/stop"
wait "$LOAD"
load=$(cat "$TMP/load.txt")
flows_wait "$TMP/storm.flows" 30 || fail "the downloads did not end"
echo "50 reloads: load $load; downloads $(grep '^flows ' "$TMP/storm.flows"); reloads_failed $(stats_json 'd["reloads_failed"]'); CPU ${cpu}%"
[ "$(stats_json 'd["reloads_failed"]')" = 0 ] || fail "reloads failed"
[[ $load == "ok "* && ${load##* } == 0 ]] || fail "requests failed during the storm: $load"
[ "${load#ok }" != "0 failed 0" ] || fail "no request was made"
[ "$(flows_lost "$TMP/storm.flows")" = 0 ] || fail "downloads lost: $(cat "$TMP/storm.flows")"
[ "$(svc_json web '",".join(x["state"] for x in s["servers"])')" = "up,up" ] || fail "a server was marked down"
[ "$cpu" -lt "$(busy_limit)" ] || fail "albmd at ${cpu}% CPU during the storm"
wait_until 5 stats_is 'd["conns_current"]' 0 || fail "conns_current $(stats_json 'd["conns_current"]') at the end"
wait_until 5 svc_is web 'sum(x["active_conns"] for x in s["servers"])' 0 || fail "server connection counts not back to 0"
row "reload storm: 50 SIGHUPs under load" "held: 50 applied, ${load}" "0/4" "$cpu"
echo "50-reload-storm: ok"
