#!/usr/bin/env bash
# ALBM: never fail closed (issue 15 item 4).  Every server's agent reports it overloaded,
# for good: under the default policy (all-overloaded queue, queue-timeout 1s,
# queue-overflow least-loaded) each client waits the queue's bound and is then served
# by the least-loaded server (the one with the most memory), none is closed; a client
# beyond queue-max goes there at once; `queue-overflow close` and `all-overloaded
# refuse` keep the fail-closed behaviours on request.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 211 albmd albmctl albm-httpd tools/send_report

make_key "$TMP/agent.key"
PA=$(free_port) PB=$(free_port) UDP=$(free_udp_port)
V1=$(free_port) V2=$(free_port) V3=$(free_port) V4=$(free_port)
start_httpd A "$PA"
start_httpd B "$PB"
svc() { # NAME PORT EXTRA...
	printf 'service %s {\n    listen 127.0.0.1:%s;\n    scheduler albm;\n    slow-start off;\n' "$1" "$2"
	shift 2
	for x in "$@"; do printf '    %s;\n' "$x"; done
	printf '    server A 127.0.0.1:%s;\n    server B 127.0.0.1:%s;\n}\n' "$PA" "$PB"
}
{
	echo "agents { listen 127.0.0.1:$UDP; key-file $TMP/agent.key; timeout 5s; }"
	echo "control { socket $TMP/albmd.sock; }"
	svc dflt "$V1"                                    # the defaults
	svc short "$V2" "queue-timeout 20s" "queue-max 1"  # the length bound
	svc closing "$V3" "queue-timeout 300ms" "queue-overflow close"
	svc refusing "$V4" "all-overloaded refuse"
} >"$TMP/albmd.conf"
start_albmd "$TMP/albmd.conf"

GIB=$((1 << 30))
reporter() { # NAME AVAIL_PERCENT: overloaded for the whole test
	"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name "$1" \
		--state overloaded --mem-total "$GIB" --mem-avail $((GIB / 100 * $2)) \
		--count 1200 --interval-ms 100 &
	track_pid $!
}
reporter A 30
reporter B 60
svc_field() { # SERVICE KEY
	ctl list --json | python3 -c "import json,sys
print([s for s in json.load(sys.stdin)['services'] if s['name'] == sys.argv[1]][0][sys.argv[2]])" "$1" "$2"
}
albm_state() { # SERVICE SERVER
	ctl list --json | python3 -c "import json,sys
svc = [s for s in json.load(sys.stdin)['services'] if s['name'] == sys.argv[1]][0]
print([s for s in svc['servers'] if s['name'] == sys.argv[2]][0]['albm']['state'])" "$1" "$2"
}
field_is() { [ "$(svc_field "$1" "$2")" = "$3" ]; }
all_overloaded() {
	for s in dflt short closing refusing; do
		[ "$(albm_state "$s" A)" = overloaded ] && [ "$(albm_state "$s" B)" = overloaded ] || return 1
	done
}
wait_until 10 all_overloaded || fail "servers not overloaded: $(ctl list --json)"

# ---- 1. the defaults: served after the 1 s bound, by B (more memory), nothing closed
for i in 1 2 3; do
	out=$(curl -s -o "$TMP/b$i" --max-time 20 -w '%{http_code} %header{x-server} %{time_total}' \
		"http://127.0.0.1:$V1/bytes/1000") || fail "request $i failed (curl $?)"
	read -r code server t <<<"$out"
	[ "$code" = 200 ] && [ "$(wc -c <"$TMP/b$i")" -eq 1000 ] || fail "request $i: $out"
	[ "$server" = B ] || fail "request $i served by $server, not the least-loaded B"
	python3 -c "import sys; sys.exit(0 if float('$t') >= 0.95 else 1)" ||
		fail "request $i took ${t}s: it did not wait the queue's bound"
done
# concurrent clients: all served
pids=()
for i in 1 2 3 4; do
	curl -s -o "$TMP/c$i" --max-time 20 -w '%{http_code}' "http://127.0.0.1:$V1/bytes/5000" >"$TMP/code$i" &
	pids+=($!)
done
for i in 1 2 3 4; do
	wait "${pids[$((i - 1))]}" || fail "concurrent request $i failed"
	[ "$(cat "$TMP/code$i")" = 200 ] && [ "$(wc -c <"$TMP/c$i")" -eq 5000 ] || fail "concurrent request $i"
done
field_is dflt queue_overflows 7 && field_is dflt queue_timeouts 0 && field_is dflt no_server 0 &&
	field_is dflt queued 0 || fail "counters: $(ctl list --json)"
grep -q "service 'dflt': client .* waited [0-9]* ms without a free server (queue-timeout): sent to the least loaded, 'B'" \
	"$TMP/albmd.log" || fail "overflow not logged"
echo "ok: all overloaded -> every client served by the least-loaded server after the 1 s bound"

# ---- 2. queue-max 1: the first client waits, the ones beyond go to B at once
curl -s -o "$TMP/q1" --max-time 30 -w '%{http_code}' "http://127.0.0.1:$V2/bytes/1000" >"$TMP/qcode1" &
Q1=$!
wait_until 10 field_is short queued 1 || fail "first client not queued: $(ctl list --json)"
for i in 2 3; do
	[ "$(curl -s -o "$TMP/q$i" --max-time 15 -w '%{http_code} %header{x-server}' \
		"http://127.0.0.1:$V2/bytes/1000")" = "200 B" ] || fail "client $i beyond queue-max not served by B"
done
field_is short queued 1 || fail "the first client left the queue: $(ctl list --json)"
field_is short queue_overflows 2 || fail "overflows: $(ctl list --json)"
kill "$Q1" 2>/dev/null; wait "$Q1" 2>/dev/null
echo "ok: beyond queue-max -> the least-loaded server at once"

# ---- 3. queue-overflow close: closed after queue-timeout (the behaviour before)
code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$V3/bytes/1000")
[ "$code" = 000 ] || fail "queue-overflow close: answered $code"
field_is closing queue_timeouts 1 && field_is closing queue_overflows 0 || fail "close counters: $(ctl list --json)"
# ---- 4. all-overloaded refuse: closed at once, never queued
code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$V4/bytes/1000")
[ "$code" = 000 ] || fail "all-overloaded refuse: answered $code"
field_is refusing no_server 1 && field_is refusing queued_total 0 || fail "refuse counters: $(ctl list --json)"
echo "ok: queue-overflow close and all-overloaded refuse still fail closed"
