#!/usr/bin/env bash
# ALBM: half-closed connections time out (issue 11 item 4): `server-fin-timeout` and
# `client-fin-timeout`, HAProxy's names, 30 s by default.
#
#   1. a client sends its request and shuts down writing; the server stays silent and
#      never closes: with `server-fin-timeout 1s` albmd closes the connection within a
#      few seconds (idle-timeout is 10 minutes), the client sees the end;
#   2. the server sends a few bytes and its FIN, then stays open; the client stays open
#      and silent (it never sends its FIN): with `client-fin-timeout 1s` albmd closes,
#      and the server sees its connection end;
#   3. a half-closed connection whose server keeps sending is not cut: the fin timeout
#      is one of inactivity.
# The defaults (30 s) are checked by tests/unit/test_config.c.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 212 albmd albmctl
TOOLS=tests/lib/fault_tools.py

PS=$(free_port) PF=$(free_port) PE=$(free_port)
fault_server silent "$PS" silent
fault_server finhold "$PF" fin-hold --size 10
V1=$(free_port) V2=$(free_port)
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service sfin { listen 127.0.0.1:$V1; server-fin-timeout 1s; server s 127.0.0.1:$PS; }
service cfin { listen 127.0.0.1:$V2; client-fin-timeout 1s; server f 127.0.0.1:$PF; }
CONF
start_albmd "$TMP/albmd.conf"

# ---- 1. server-fin-timeout ---------------------------------------------------------------
out=$(python3 "$TOOLS" fetch 127.0.0.1 "$V1" --send "request" --shut --timeout 20)
echo "1. client half-closed, silent server: $out"
[[ $out == "bytes=0 end=eof "* ]] || fail "the connection did not end by itself: $out"
secs=${out##*secs=}
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$secs" ||
	fail "it took ${secs}s: the server-fin timeout did not act"
grep -q "service 'sfin': server-fin timeout" "$TMP/albmd.log" || fail "not closed by the server-fin timeout"
wait_until 5 stats_is 'd["conns_current"]' 0 || fail "conns_current $(conns) after the timeout"

# ---- 2. client-fin-timeout ---------------------------------------------------------------
python3 "$TOOLS" hold 127.0.0.1 "$V2" --secs 30 >"$TMP/hold.log" 2>&1 &
HOLD=$!
track_pid "$HOLD"
wait_until 10 grep -q "^peer closed" "$TMP/finhold.log" || fail "albmd kept the half-closed connection of a silent client"
echo "2. server finished, silent client: the server saw albmd close after $(awk '/^peer closed/ { print $3 }' "$TMP/finhold.log") s"
grep -q "service 'cfin': client-fin timeout" "$TMP/albmd.log" || fail "not closed by the client-fin timeout"
kill -0 "$HOLD" 2>/dev/null || fail "the client exited: it was meant to stay silent and open"
wait_until 5 stats_is 'd["conns_current"]' 0 || fail "conns_current $(conns) after the timeout"

# ---- 3. inactivity only: a half-closed stream that keeps flowing is not cut ----------------
fault_server drip "$PE" drip
V3=$(free_port)
cat >>"$TMP/albmd.conf" <<CONF
service drip { listen 127.0.0.1:$V3; server-fin-timeout 1s; server d 127.0.0.1:$PE; }
CONF
ctl reload >/dev/null || fail "reload"
# the client's FIN comes first; the server then sends 100 bytes every 0.5 s for 3 s
out=$(python3 "$TOOLS" fetch 127.0.0.1 "$V3" --send "request" --shut --timeout 20)
echo "3. half-closed, the server sends for 3 s: $out"
[[ $out == "bytes=600 end=eof "* ]] || fail "a half-closed stream that kept flowing was cut: $out"
echo "212-albmd-fin-timeouts: ok"
