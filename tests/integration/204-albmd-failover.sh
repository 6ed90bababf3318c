#!/usr/bin/env bash
# ALBM: a backend killed under load — no new connection fails while another server is
# up (connect retried on another server, passive check takes the dead one out), the
# active health check marks it down, it comes back when restarted; with every server
# dead clients are closed, counted, and albmd stays up.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 204 albmd albmctl albm-httpd

PA=$(free_port) PB=$(free_port) PC=$(free_port) PD=$(free_port) VIP=$(free_port) VIP2=$(free_port)
start_httpd A "$PA"
start_httpd B "$PB"
PIDB=$HTTPD_PID
start_httpd C "$PC"
# D is configured but nothing listens there: refused from the first connection on
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler rr;
    retries 3;
    max-fails 1;
    fail-timeout 1500ms;
    connect-timeout 2s;
    health-check tcp interval 300ms timeout 500ms rise 1 fall 2;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
    server C 127.0.0.1:$PC;
    server D 127.0.0.1:$PD;
}
service nohc {
    listen 127.0.0.1:$VIP2;
    scheduler rr;
    server D 127.0.0.1:$PD;
    server A 127.0.0.1:$PA;
}
CONF
start_albmd "$TMP/albmd.conf"
state_of() {
	ctl list --json | python3 -c "import json,sys
d = json.load(sys.stdin)
print([s['state'] for s in d['services'][0]['servers'] if s['name'] == sys.argv[1]][0])" "$1"
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }

# ---- sequential load; B is killed (and reaped) between two requests
fails=0 seen=""
for i in $(seq 1 60); do
	if [ "$i" -eq 20 ]; then
		kill "$PIDB"
		wait "$PIDB" 2>/dev/null
	fi
	s=$(who "$VIP")
	[ -n "$s" ] || fails=$((fails + 1))
	seen="$seen $s"
done
[ "$fails" -eq 0 ] || fail "$fails of 60 requests failed with servers up: $seen"
[ "$(count_in D "$seen")" -eq 0 ] || fail "dead D answered?: $seen"
after=${seen#* * * * * * * * * * * * * * * * * * * * * * * * * }
[ "$(count_in B "$after")" -eq 0 ] || fail "B answered after it was killed: $seen"
wait_until 5 is_state B down || fail "killed B not down: $(ctl list)"
wait_until 5 is_state D down || fail "dead D not down: $(ctl list)"

# ---- without a health check the first pick of dead D is a refused connect: retried on A
[ "$(who "$VIP2")" = A ] || fail "nohc: the retry did not reach A"
ctl list --json >"$TMP/nohc.json"
pyjson "$TMP/nohc.json" '
v = [x for x in d["services"] if x["name"] == "nohc"][0]
dd = v["servers"][0]
assert dd["name"] == "D" and dd["connect_failures"] == 1 and dd["retries"] == 1 and dd["state"] == "down", dd
' || fail "nohc: D's failed connect not counted / not down: $(ctl list)"
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$VIP2/"
grep -q "connect to server 'D' failed" "$TMP/albmd.log" || fail "failed connect not logged"

# ---- concurrent load with B and D dead: 4 clients x 40 requests, no failure
for c in 1 2 3 4; do
	(
		f=0
		for i in $(seq 1 40); do
			[ -n "$(who "$VIP")" ] || f=$((f + 1))
		done
		echo "$f" >"$TMP/fails.$c"
	) &
	track_pid $!
done
wait_until 120 sh -c "[ \$(ls $TMP/fails.* 2>/dev/null | wc -l) -eq 4 ]" || fail "load clients did not finish"
total=$(cat "$TMP"/fails.* | paste -sd+ | bc 2>/dev/null || python3 -c "import sys; print(sum(int(open(f).read()) for f in sys.argv[1:]))" "$TMP"/fails.*)
[ "$total" = 0 ] || fail "$total of 160 concurrent requests failed"

# ---- B restarted: health check and passive expiry bring it back, it gets traffic
start_httpd B "$PB"
wait_until 10 is_state B up || fail "restarted B not up: $(ctl list)"
seq=$(sequence 6 "$VIP")
[ "$(count_in B "$seq")" -ge 1 ] || fail "restarted B gets no traffic: $seq"

# ---- every server dead: clients are closed (not hung), counted; albmd stays up
ctl disable web A >/dev/null && ctl disable web B >/dev/null && ctl disable web C >/dev/null ||
	fail "disable"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VIP/"; echo " rc=$?")
case $code in 000\ rc=52 | 000\ rc=56 | 000\ rc=7) ;; *) fail "no server: curl said '$code'" ;; esac
ctl list --json | grep -q '"no_server": [1-9]' || fail "no_server not counted: $(ctl list --json)"
ctl enable web A >/dev/null || fail "enable"
[ "$(who "$VIP")" = A ] || fail "A not serving after enable"
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: no failed connection while a server was up; down/up detection; no-server handling"
