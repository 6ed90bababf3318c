#!/usr/bin/env bash
# ALBM: agent reports across an albmd restart (issue 11 items 9 and 10)
# - a report captured on the wire, replayed after albmd restarted, is rejected as a
#   replay: the replay state is persisted in state-dir (clean stop) and, while albmd
#   runs, at most every 2 s (a kill -9 loses at most that much);
# - a flood of garbage does not hide other rejection reasons in the log: each reason
#   has its own rate limit.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 223 albmd albmctl albm-httpd albm-agent tools/send_report

PA=$(free_port) VIP=$(free_port) AG=$(free_udp_port)
start_httpd s1 "$PA"
make_key "$TMP/agent.key"
make_key "$TMP/other.key"
mkdir "$TMP/state"
cat >"$TMP/albmd.conf" <<CONF
state-dir $TMP/state;
agents {
    listen 127.0.0.1:$AG;
    key-file $TMP/agent.key;
    timeout 30s;
}
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler albm;
    server s1 127.0.0.1:$PA;
}
CONF

# Capture reports: send_report to a UDP socket of ours, saved as files.
capture() { # FILE ARGS...: one datagram of send_report ARGS into FILE
	local file=$1
	shift
	python3 - "$file" "$BIN/tools/send_report" "$@" <<'PY' || fail "capture"
import socket, subprocess, sys
out, tool, args = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
subprocess.run([tool, "--to", "127.0.0.1:%d" % s.getsockname()[1]] + args, check=True)
open(out, "wb").write(s.recv(4096))
PY
}
send_raw() { python3 -c "import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(open(sys.argv[1], 'rb').read(), ('127.0.0.1', int(sys.argv[2])))" "$1" "$AG"; }
rejected() { ctl stats --json | python3 -c "import json, sys; print(json.load(sys.stdin)['reports_rejected']['$1'])"; }
# wait_until takes a command, not a value: these re-read the counters each time
# is_rejected REASON N [-ge]: exactly N (or at least N) rejected for REASON
is_rejected() {
	local n
	n=$(rejected "$1")
	if [ "${3:-}" = -ge ]; then [ "$n" -ge "$2" ]; else [ "$n" -eq "$2" ]; fi
}
is_accepted() { [ "$(accepted)" = "$1" ]; }
accepted() { ctl list --json | python3 -c "import json, sys; print(json.load(sys.stdin)['services'][0]['servers'][0]['agent'] is not None)"; }

capture "$TMP/r1" --key-file "$TMP/agent.key" --name s1 --boot-id 77 --seq 1
capture "$TMP/r2" --key-file "$TMP/agent.key" --name s1 --boot-id 77 --seq 2

start_albmd "$TMP/albmd.conf"
send_raw "$TMP/r1"
wait_until 5 is_accepted True || fail "the captured report was not accepted the first time"
send_raw "$TMP/r1"
wait_until 5 is_rejected replay 1 || fail "a replay within one run was not rejected"

# ---- clean restart: the state is written at the stop, read at the start
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
grep -q "^s1 " "$TMP/state/agents.replay" || fail "no replay state written: $(cat "$TMP/state/agents.replay" 2>&1)"
start_albmd "$TMP/albmd.conf"
grep -q "replay state of 1 agent(s) restored" "$TMP/albmd.log" || fail "state not restored"
send_raw "$TMP/r1"
wait_until 5 is_rejected replay 1 || fail "the captured report was accepted again after a restart"
[ "$(accepted)" = False ] || fail "the replayed report was taken as a measurement"
send_raw "$TMP/r2" # newer: accepted
wait_until 5 is_accepted True || fail "a newer report was not accepted after the restart"

# ---- kill -9: what was persisted (every 2 s) still holds
# the periodic write (every 2 s) takes r2 to disk (send_report sends --seq + 1: seq 3
# of boot 77 = 0x4d)
wait_until 10 grep -q "^s1 000000000000004d 3 " "$TMP/state/agents.replay" ||
	fail "r2 never written to the state file: $(cat "$TMP/state/agents.replay")"
kill -KILL "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
start_albmd "$TMP/albmd.conf"
send_raw "$TMP/r2"
wait_until 5 is_rejected replay 1 || fail "a report older than the last write was accepted after kill -9"

# ---- per-reason rate limits: garbage does not hide bad MACs or replays
python3 -c "import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b'garbage %d' % i, ('127.0.0.1', int(sys.argv[1])))" "$AG"
wait_until 5 is_rejected malformed 150 -ge || fail "garbage not counted"
"$BIN/tools/send_report" --to "127.0.0.1:$AG" --key-file "$TMP/other.key" --name s1 >/dev/null ||
	fail "send forged"
send_raw "$TMP/r1"
wait_until 5 is_rejected bad_mac 1 || fail "forged report not counted"
wait_until 5 grep -q "report rejected (bad_mac)" "$TMP/albmd.log" ||
	fail "the bad MAC is hidden in the log behind the garbage flood"
wait_until 5 grep -q "report rejected (replay)" "$TMP/albmd.log" || fail "replay line missing"
n=$(grep -c "report rejected (malformed)" "$TMP/albmd.log")
[ "$n" -le 10 ] || fail "malformed reports logged $n times (limit 10 per 5 s)"
echo "ok: replay rejected after restart (clean and kill -9), per-reason log limits"
