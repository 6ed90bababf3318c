#!/usr/bin/env bash
# ALBM fault suite: agents lost, and agents whose clock is wrong.
#
# Two servers with agents (signed reports every 100 ms; `timeout 1s`, `max-age 30s`),
# scheduler rr, mode proxy on loopback; 4 long downloads run during each case.
#   agent-loss   s1's agent stops.  By design s1 goes down after the agent timeout (albmd
#                cannot see its memory any more); must hold: its established downloads
#                complete (down never cuts a connection), new requests all go to s2 and
#                succeed, the JSON says why (agent timed_out), s1 is up again as soon as
#                reports resume; no busy loop.
#   clock-skew   s1's agent clock runs 10 s ahead (within max-age): its reports are
#                accepted, s1 stays up.  Then 90 s ahead (beyond max-age): albmd cannot
#                date them, rejects them as stale (counted, logged as "from the future")
#                and s1 goes down after the timeout, as for a silent agent (expected, by
#                design: replay protection); established downloads complete.  Its clock
#                set right again (same agent run), s1 is back at once.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 840 albmd albmctl albm-httpd albm-agent tools/send_report
# shellcheck source=lib.sh
. tests/faults/lib.sh

make_key "$TMP/agent.key"
P1=$(free_port) P2=$(free_port) VIP=$(free_port) UDP=$(free_udp_port)
start_httpd s1 "$P1"
start_httpd s2 "$P2"
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
agents { listen 127.0.0.1:$UDP; key-file $TMP/agent.key; timeout 1s; max-age 30s; }
service web {
	listen 127.0.0.1:$VIP;
	scheduler rr;
	slow-start off;
	server s1 127.0.0.1:$P1;
	server s2 127.0.0.1:$P2;
}
CONF
start_albmd "$TMP/albmd.conf"
agent() { # NAME [send_report options]: reports every 100 ms for up to 2 minutes, tracked
	local name=$1
	shift
	"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name "$name" \
		--count 1200 --interval-ms 100 "$@" &
	AGENT_PID[${name#s}]=$!
	track_pid $!
}
state_is() { [ "$(svc_json web "[x['state'] for x in s['servers'] if x['name'] == '$1'][0]")" = "$2" ]; }
agent_of() { svc_json web "[x['agent'] for x in s['servers'] if x['name'] == '$1'][0]"; }
requests() { sequence "$1" "$VIP"; }
agent s1
agent s2
wait_until 5 state_is s1 up && wait_until 5 state_is s2 up || fail "servers not up: $(ctl list)"

# ---- agent loss -------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/loss.flows"
kill "${AGENT_PID[1]}"
wait_until 5 state_is s1 down || fail "agent-loss: s1 is not down after its agent stopped: $(ctl list)"
echo "agent-loss: s1's agent: $(agent_of s1)"
[ "$(svc_json web "[x['agent']['timed_out'] for x in s['servers'] if x['name'] == 's1'][0]")" = True ] ||
	fail "agent-loss: the JSON does not say the agent timed out"
out=$(requests 6)
echo "agent-loss: 6 requests while s1's agent is silent: $out"
[ "$(count_in s2 "$out")" = 6 ] || fail "agent-loss: new requests not all on s2: $out"
flows_wait "$TMP/loss.flows" 30 || fail "agent-loss: downloads did not end"
echo "agent-loss: $(grep '^flows ' "$TMP/loss.flows")"
[ "$(flows_lost "$TMP/loss.flows")" = 0 ] || fail "agent-loss: established downloads lost: $(cat "$TMP/loss.flows")"
cpu=$(cpu_pct "$ALBMD_PID")
[ "$cpu" -lt "$(busy_limit)" ] || fail "agent-loss: albmd at ${cpu}% CPU"
agent s1
wait_until 5 state_is s1 up || fail "agent-loss: s1 did not come back with its reports"
row "agents: agent loss" "expected: s1 down after timeout; back on reports" "0/4 (down keeps flows)" "$cpu"

# ---- clock skew ----------------------------------------------------------------------------
# One agent run (one boot id) whose clock is stepped: +10 s, then +90 s, then right again
# (an NTP step while it runs; its sequence numbers keep growing).
cpu_mark "$ALBMD_PID"
kill "${AGENT_PID[1]}"
agent s1 --boot-id 4242 --seq 0 --skew-ms 10000
sleep 1.5 # past the agent timeout: s1 would be down if the skewed reports were refused
state_is s1 up || fail "clock-skew: 10 s ahead (within max-age) was refused: $(ctl list)"
stale0=$(stats_json 'd["reports_rejected"]["stale"]')
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/skew.flows"
kill "${AGENT_PID[1]}"
agent s1 --boot-id 4242 --seq 100000 --skew-ms 90000
wait_until 5 state_is s1 down || fail "clock-skew: reports 90 s ahead kept s1 up"
stale=$(($(stats_json 'd["reports_rejected"]["stale"]') - stale0))
[ "$stale" -ge 3 ] || fail "clock-skew: stale rejections not counted ($stale)"
grep -q "report from the future" "$TMP/albmd.log" || fail "clock-skew: the log does not say why"
flows_wait "$TMP/skew.flows" 30 || fail "clock-skew: downloads did not end"
[ "$(flows_lost "$TMP/skew.flows")" = 0 ] || fail "clock-skew: established downloads lost"
[ "$(count_in s2 "$(requests 4)")" = 4 ] || fail "clock-skew: new requests did not go to s2"
cpu=$(cpu_pct "$ALBMD_PID")
kill "${AGENT_PID[1]}"
agent s1 --boot-id 4242 --seq 200000
wait_until 5 state_is s1 up || fail "clock-skew: s1 did not come back once its clock was right"
row "agents: clock skew +10 s / +90 s" "expected: +10 s kept; +90 s stale ($stale), down" "0/4" "$cpu"
echo "40-agents: ok"
