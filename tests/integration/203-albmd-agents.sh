#!/usr/bin/env bash
# ALBM: albmd with agent reports — an overloaded report diverts new connections (albm
# scheduler), recovery brings the server back through slow start, silence past the
# timeout marks it down, forged/tampered/replayed/stale/unknown reports are rejected
# and counted, and the real albm-agent's reports show up in list --json.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 203 albmd albmctl albm-httpd albm-agent tools/send_report
command -v ss >/dev/null || skip "ss (iproute2) not installed"

make_key "$TMP/agent.key"
make_key "$TMP/forged.key"
PA=$(free_port) PB=$(free_port) VIP=$(free_port) VIP2=$(free_port) UDP=$(free_udp_port) HTTP=$(free_port)
start_httpd A "$PA"
start_httpd B "$PB"
cat >"$TMP/albmd.conf" <<CONF
agents {
    listen 127.0.0.1:$UDP;
    key-file $TMP/agent.key;
    timeout 1500ms;
}
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler albm;
    slow-start 4s;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
}
service api {
    listen 127.0.0.1:$VIP2;
    scheduler wrr;
    server C 127.0.0.1:$PA;
}
CONF
start_albmd "$TMP/albmd.conf"

report() { "$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" "$@"; }
state_of() { # SERVICE SERVER -> state
	ctl list --json | python3 -c "import json,sys
d = json.load(sys.stdin)
print([s['state'] for v in d['services'] if v['name'] == sys.argv[1] for s in v['servers'] if s['name'] == sys.argv[2]][0])" "$1" "$2"
}
is_state() { [ "$(state_of "$1" "$2")" = "$3" ]; }
# hold N idle connections through the VIP, report how albmd spread them, close them
spread() {
	local n=$1 fds=() fd i out
	for ((i = 0; i < n; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$VIP" || fail "connect"
		fds+=("$fd")
	done
	wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *$n$'" ||
		fail "held connections not seen"
	out=$(ctl list --json | python3 -c "import json,sys
d = json.load(sys.stdin)
print(' '.join('%s=%d' % (s['name'], s['active_conns']) for s in d['services'][0]['servers']))")
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *0$'" ||
		fail "held connections not closed"
	echo "$out"
}

# ---- before any report: unknown, served on static weights
is_state web A unknown && is_state web B unknown || fail "not unknown before reports: $(ctl list)"
[ -n "$(who "$VIP")" ] || fail "no service before the first report"

# B's agent: a background reporter with a given state (replaced on each call)
BGB=""
bg_b() {
	[ -n "$BGB" ] && { kill "$BGB" 2>/dev/null; wait "$BGB" 2>/dev/null; }
	BGB=""
	[ "$1" = none ] && return
	# exec'd directly (not through the report function) so that $! is send_report itself
	"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name B \
		--state "$1" --count 600 --interval-ms 100 &
	BGB=$!
	track_pid "$BGB"
}

# ---- A and B report all along: both up, 4 connections split 2/2
"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name A \
	--count 900 --interval-ms 100 &
track_pid $!
bg_b ok
wait_until 5 is_state web A up && wait_until 5 is_state web B up || fail "not up: $(ctl list)"
sleep 4.2 # past the slow start that follows the first report
got=$(spread 4)
[ "$got" = "A=2 B=2" ] || fail "both up: spread $got"

# ---- B overloaded: everything new goes to A
bg_b overloaded
wait_until 5 is_state web B overloaded || fail "B not overloaded: $(ctl list)"
got=$(spread 4)
[ "$got" = "A=4 B=0" ] || { ctl list; tail -20 "$TMP/albmd.log"; fail "B overloaded: spread $got"; }
seq=$(sequence 6 "$VIP")
[ "$(count_in A "$seq")" -eq 6 ] || fail "B overloaded but picked: $seq"

# ---- B recovers: up at once, effective weight ramps (slow start), then 2/2 again
bg_b ok
wait_until 5 is_state web B up || fail "B not up after recovery: $(ctl list)"
ctl list --json >"$TMP/ramp.json"
pyjson "$TMP/ramp.json" '
a, b = d["services"][0]["servers"]
assert 0 < b["effective_weight"] < 0.9 * a["effective_weight"], (a, b)
' || fail "no slow start after recovery: $(ctl list)"
sleep 4.2
got=$(spread 4)
[ "$got" = "A=2 B=2" ] || fail "after recovery: spread $got"

# ---- B falls silent: down after the timeout, no traffic; reports again: back
bg_b none
wait_until 5 is_state web B down || fail "B not down after its agent went silent: $(ctl list)"
seq=$(sequence 4 "$VIP")
[ "$(count_in A "$seq")" -eq 4 ] || fail "silent B picked: $seq"
bg_b ok
wait_until 5 is_state web B up || fail "B not back after reports resumed: $(ctl list)"

# ---- rejected reports: counted by reason, and they change nothing
# (B's own agent pauses: its reports would interleave with the replay test's boot id)
bg_b none
before=$(ctl stats --json)
"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/forged.key" --name B --state overloaded --count 3
report --name B --state overloaded --tamper --count 2
report --name B --state overloaded --replay --boot-id 777 --seq 100000 --count 1
report --name B --state overloaded --age-ms 120000 --count 1
report --name nosuch --count 1
printf 'junk' >/dev/udp/127.0.0.1/"$UDP"
sleep 0.5
after=$(ctl stats --json)
python3 - "$before" "$after" <<'PY' || fail "rejections not counted"
import json, sys
b, a = (json.loads(x)["reports_rejected"] for x in sys.argv[1:3])
want = {"bad_mac": 5, "replay": 1, "stale": 1, "unknown_server": 1, "malformed": 1}
for k, n in want.items():
    assert a[k] - b[k] == n, (k, a[k] - b[k], n)
PY
# the replayed datagram's first copy was genuine (B said overloaded once); its agent
# reports ok again
bg_b ok
wait_until 5 is_state web B up || fail "B not up: $(ctl list)"
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics"
grep -Eq '^albm_reports_rejected_total\{reason="bad_mac"\} ([5-9]|[1-9][0-9])' "$TMP/metrics" ||
	fail "/metrics: bad_mac: $(grep rejected "$TMP/metrics")"
grep -q '^albm_agent_mem_available_bytes{service="web",server="A"} ' "$TMP/metrics" ||
	fail "/metrics: no agent measurements"
grep -q "report rejected (bad_mac)" "$TMP/albmd.log" || fail "rejections not logged"

# ---- the real agent: C goes from unknown to reported, with the agent's measurement keys
is_state api C unknown || fail "C not unknown before its agent: $(ctl list)"
"$BIN/albm-agent" --name C --distributor "127.0.0.1:$UDP" --key-file "$TMP/agent.key" \
	--interval 200ms >"$TMP/agent.log" 2>&1 &
AGENT=$!
track_pid "$AGENT"
# up, or overloaded when this shared machine's CPU is busy: either way, measured
c_reported() { is_state api C up || is_state api C overloaded; }
wait_until 10 c_reported || { cat "$TMP/agent.log"; fail "C not reported by albm-agent: $(ctl list)"; }
ctl list --json >"$TMP/c.json"
pyjson "$TMP/c.json" '
c = d["services"][1]["servers"][0]
a = c["agent"]
for k in ("name", "mem_total_bytes", "mem_available_bytes", "cpu_util", "load1",
          "tcp_established", "state", "report_age_ms"):
    assert k in a, k
assert a["name"] == "C" and a["state"] in ("ok", "overloaded"), a
assert 0 < a["mem_available_bytes"] <= a["mem_total_bytes"], a
assert 0 <= a["report_age_ms"] < 5000, a
' || fail "agent keys in list --json"
is_state api C up && { [ "$(who "$VIP2")" = A ] || fail "api (server C = backend A) not served"; }
kill "$AGENT"
wait_until 6 is_state api C down || fail "C not down after its agent stopped: $(ctl list)"
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: overload diverts, recovery with slow start, timeout down, rejections counted, real agent"
