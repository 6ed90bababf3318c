#!/usr/bin/env bash
# ALBM: the per-connection log (issue 13 item 9), HAProxy-style, off by default.
#
#   1. off: no file, no line counted;
#   2. `access-log FILE`: one line per connection with client, accept date, service,
#      server, Tw/Tc/Tt, bytes each way and the termination state: "--" for a normal
#      end, "SD" for a server reset while relaying, "SC" when no server could be
#      connected (its last server named), "CQ" for a client that left the queue, "sQ" for
#      a queue timeout; counters access_log_lines / access_log_dropped;
#   3. a reload reopens the file (logrotate: move it, SIGHUP, a new file);
#   4. a missing directory rejects the reload with the path in the message;
#   5. `access-log syslog SOCKET`: one RFC 3164 datagram per line, facility local0.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 213 albmd albmctl albm-httpd
TOOLS=tests/lib/fault_tools.py

P1=$(free_port) PR=$(free_port) PS=$(free_port) DEAD=$(free_port)
start_httpd s1 "$P1"
fault_server rst "$PR" blast-rst --size $((1 << 20))
fault_server silent "$PS" silent
V1=$(free_port) V2=$(free_port) V3=$(free_port) V4=$(free_port)
conf() { # ACCESS-LOG-LINE
	cat >"$TMP/albmd.conf" <<CONF
$1
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$V1; server s1 127.0.0.1:$P1; }
service rst { listen 127.0.0.1:$V2; server r 127.0.0.1:$PR; }
service dead { listen 127.0.0.1:$V3; retries 0; server gone 127.0.0.1:$DEAD; }
service full {
	listen 127.0.0.1:$V4;
	queue-timeout 1s;
	server q 127.0.0.1:$PS maxconn 1;
}
CONF
}
lines() { stats_json 'd["access_log_lines"]'; }
lines_ge() { [ "$(lines)" -ge "$1" ]; }

# ---- 1. off by default --------------------------------------------------------------------
conf ""
start_albmd "$TMP/albmd.conf"
[ -n "$(who "$V1")" ] || fail "no answer through albmd"
sleep 0.5 # past a sweep: nothing may be written
[ "$(lines)" = 0 ] || fail "lines written with the log off"

# ---- 2. to a file --------------------------------------------------------------------------
conf "access-log $TMP/access.log;"
ctl reload >/dev/null || fail "reload with access-log"
[ -f "$TMP/access.log" ] || fail "the log file was not created"
for i in 1 2; do [ -n "$(who "$V1" /bytes/1000)" ] || fail "GET $i"; done
python3 "$TOOLS" fetch 127.0.0.1 "$V2" --send x >/dev/null
python3 "$TOOLS" fetch 127.0.0.1 "$V3" --send x >/dev/null
# full: one client holds the only slot, a second waits and leaves, a third times out
python3 "$TOOLS" hold 127.0.0.1 "$V4" --send x --secs 30 >/dev/null &
track_pid $!
wait_until 5 svc_is full "s['active_conns']" 1 || fail "the first client did not connect"
python3 "$TOOLS" fetch 127.0.0.1 "$V4" --timeout 0.3 >/dev/null # sent nothing: leaves the queue
python3 "$TOOLS" fetch 127.0.0.1 "$V4" --send x --timeout 5 >/dev/null   # waits 1 s: timeout
wait_until 5 lines_ge 6 || fail "access_log_lines $(lines), want 6: $(cat "$TMP/access.log")"
cat "$TMP/access.log"
re='^127\.0\.0\.1:[0-9]+ \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\] '
line_of() { grep -E "$re$1" "$TMP/access.log"; }
line_of 'web s1 0/[0-9]+/[0-9]+ [0-9]+ 1[0-9]{3} -- 0$' >/dev/null || fail "no normal line for web"
[ "$(line_of 'web s1 ' | wc -l)" = 2 ] || fail "want 2 lines for web"
line_of 'rst r 0/[0-9]+/[0-9]+ 1 [0-9]+ SD 0$' >/dev/null || fail "no SD line for the server reset"
line_of 'dead gone 0/-1/[0-9]+ 0 0 SC 0$' >/dev/null || fail "no SC line for the refused connect"
line_of 'full - [0-9]+/-1/[0-9]+ 0 0 CQ 0$' >/dev/null || fail "no CQ line for the client that left the queue"
line_of 'full - (9[0-9]{2}|1[0-9]{3})/-1/[0-9]+ 0 0 sQ 0$' >/dev/null || fail "no sQ line for the queue timeout"
[ "$(stats_json 'd["access_log_dropped"]')" = 0 ] || fail "lines dropped"

# ---- 3. a reload reopens the file ----------------------------------------------------------
mv "$TMP/access.log" "$TMP/access.log.1"
kill -HUP "$ALBMD_PID"
wait_until 5 test -f "$TMP/access.log" || fail "SIGHUP did not reopen the log"
[ -n "$(who "$V1")" ] || fail "GET after rotation"
wait_until 5 grep -q "web s1" "$TMP/access.log" || fail "no line in the new file"
n_old=$(wc -l <"$TMP/access.log.1")
echo "3. rotated: $n_old lines in the old file, $(wc -l <"$TMP/access.log") in the new one"

# ---- 4. a bad path rejects the reload ------------------------------------------------------
conf "access-log $TMP/missing/dir/access.log;"
out=$(ctl reload 2>&1) && fail "a reload with an unwritable access-log was accepted"
echo "4. $out"
[[ $out == *"access-log $TMP/missing/dir/access.log: No such file or directory"* ]] || fail "unclear error: $out"

# ---- 5. syslog ---------------------------------------------------------------------------
python3 - "$TMP/log.sock" >"$TMP/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)
PY
track_pid $!
wait_until 5 test -S "$TMP/log.sock" || fail "syslog receiver did not start"
conf "access-log syslog $TMP/log.sock;"
ctl reload >/dev/null || fail "reload with access-log syslog"
[ -n "$(who "$V1")" ] || fail "GET with syslog"
wait_until 5 grep -q "web s1" "$TMP/syslog.txt" || fail "no datagram: $(cat "$TMP/syslog.txt")"
echo "5. $(grep "web s1" "$TMP/syslog.txt" | head -1)"
grep -qE "^<134>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} albmd\[$ALBMD_PID\]: 127\.0\.0\.1:[0-9]+ \[" "$TMP/syslog.txt" ||
	fail "not an RFC 3164 local0.info line: $(head -1 "$TMP/syslog.txt")"
echo "213-albmd-access-log: ok"
