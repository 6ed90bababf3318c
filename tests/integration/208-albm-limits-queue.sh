#!/usr/bin/env bash
# ALBM: the albm scheduler's memory limits and albmd's queue, with real sockets and
# signed agent reports: when every server is overloaded a new client waits in albmd
# (not refused, not sent to an overloaded server) and is served as soon as one
# recovers; a report below the memory reserve gives a server a connection limit
# (0.75 x what it holds), the server is "full" at it, and the next client waits until
# one of its connections ends.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 208 albmd albmctl albm-httpd albm-agent tools/send_report

make_key "$TMP/agent.key"
PA=$(free_port) PB=$(free_port) VIP=$(free_port) UDP=$(free_udp_port)
start_httpd A "$PA"
start_httpd B "$PB"
cat >"$TMP/albmd.conf" <<CONF
agents { listen 127.0.0.1:$UDP; key-file $TMP/agent.key; timeout 2s; }
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler albm;
    slow-start off;
    mem-reserve 20%;
    queue-timeout 10s;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
}
CONF
start_albmd "$TMP/albmd.conf"

GIB=$((1 << 30))
# one background reporter per server, replaced on each call: NAME STATE AVAIL_PERCENT
declare -A REP=()
agent() {
	local name=$1 state=$2 pct=$3
	if [ -n "${REP[$name]:-}" ]; then
		kill "${REP[$name]}" 2>/dev/null
		wait "${REP[$name]}" 2>/dev/null
	fi
	"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name "$name" \
		--state "$state" --mem-total "$GIB" --mem-avail $((GIB / 100 * pct)) \
		--count 900 --interval-ms 100 &
	REP[$name]=$!
	track_pid "${REP[$name]}"
}
# field of the service (KEY) or of a server (SERVER KEY [SUBKEY]) in list --json
svc_field() {
	ctl list --json | python3 -c "import json,sys
print(json.load(sys.stdin)['services'][0][sys.argv[1]])" "$1"
}
srv_field() {
	ctl list --json | python3 -c "import json,sys
s = [s for s in json.load(sys.stdin)['services'][0]['servers'] if s['name'] == sys.argv[1]][0]
v = s[sys.argv[2]]
print(v[sys.argv[3]] if len(sys.argv) > 3 else v)" "$@"
}
is_field() { # SERVER KEY VALUE [SUBKEY]
	if [ -n "${4:-}" ]; then [ "$(srv_field "$1" "$2" "$4")" = "$3" ]; else [ "$(srv_field "$1" "$2")" = "$3" ]; fi
}
albm_state_is() { [ "$(srv_field "$1" albm state)" = "$2" ]; }
queued_is() { [ "$(svc_field queued)" = "$1" ]; }

agent A ok 80
agent B ok 80
wait_until 20 is_field A state up && wait_until 5 is_field B state up || fail "not up: $(ctl list)"

# ---- 1. every server overloaded: a new client waits in albmd, then goes to the one
#         that recovers
agent A overloaded 80
agent B overloaded 80
wait_until 20 albm_state_is A overloaded && wait_until 5 albm_state_is B overloaded ||
	fail "not overloaded: $(ctl list --json)"
curl -s -D "$TMP/h1" -o "$TMP/b1" --max-time 15 "http://127.0.0.1:$VIP/bytes/1000" &
C1=$!
wait_until 20 queued_is 1 || fail "client not queued: $(ctl list --json)"
sleep 0.5
queued_is 1 || fail "queued client left the queue while every server was overloaded"
[ "$(srv_field A total_conns)" = 0 ] && [ "$(srv_field B total_conns)" = 0 ] ||
	fail "a server got a connection while overloaded: $(ctl list --json)"
agent A ok 80
wait "$C1" || fail "queued client failed (curl $?)"
[ "$(wc -c <"$TMP/b1")" -eq 1000 ] || fail "queued client: body of $(wc -c <"$TMP/b1") bytes"
grep -qi '^x-server: A' "$TMP/h1" || fail "queued client not served by the recovered A"
[ "$(svc_field queued)" = 0 ] && [ "$(svc_field queued_total)" -ge 1 ] ||
	fail "queue counters: $(ctl list --json)"
echo "ok: every server overloaded -> the client waited and was served by A when it recovered"

# ---- 2. a memory shortage gives A a limit of 0.75 x what it holds
# each idle connection is held by a process of its own (an fd of this shell would be
# inherited by the reporters started later and outlive its close here)
holders=()
for _ in 1 2 3 4; do
	(exec 3<>"/dev/tcp/127.0.0.1/$VIP" && exec sleep 60) &
	holders+=($!)
	track_pid $!
done
wait_until 20 is_field A active_conns 4 || fail "A does not hold the 4 connections: $(ctl list --json)"
[ "$(srv_field A albm conn_limit)" = 0 ] || fail "A has a limit before any shortage"
agent A ok 10 # below the 20 % reserve
wait_until 20 is_field A albm 3 conn_limit || fail "no limit 3 after the shortage: $(ctl list --json)"
albm_state_is A full || fail "A at its limit is not full: $(srv_field A albm)"
agent A ok 80 # memory back: the limit stays (an increase needs a whole window)
sleep 0.5
curl -s -D "$TMP/h2" -o "$TMP/b2" --max-time 15 "http://127.0.0.1:$VIP/bytes/2000" &
C2=$!
wait_until 20 queued_is 1 || fail "client not queued while A is full and B overloaded"
kill "${holders[0]}"   # A holds 3: still at its limit
wait_until 20 is_field A active_conns 3 || fail "A's connection did not end"
sleep 0.3
queued_is 1 || fail "client left the queue while A was still at its limit"
kill "${holders[1]}"   # 2 < 3: room for the waiting client
wait "$C2" || { rc=$?; tail -20 "$TMP/albmd.log"; ctl list --json; fail "second queued client failed (curl $rc)"; }
[ "$(wc -c <"$TMP/b2")" -eq 2000 ] || fail "second queued client: $(wc -c <"$TMP/b2") bytes"
grep -qi '^x-server: A' "$TMP/h2" || fail "second queued client not served by A"
kill "${holders[@]:2}"
echo "ok: shortage -> limit 3 of 4, A full, the next client waited for a connection to end"
albmd_sanitizer_check
echo "ok: albm limits and the queue"
