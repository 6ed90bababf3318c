#!/usr/bin/env bash
# ALBM: albmd under systemd's protocols, without systemd: READY=1 only once the
# service's listener accepts (Type=notify), RELOADING=1 then READY=1 around a SIGHUP,
# STOPPING=1 on SIGTERM; with stderr as the journal (JOURNAL_STREAM) log lines carry
# "<N>" priorities and no time stamp.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 604 albmd albmctl
WEB=$(free_port)
cat >"$TMP/a.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$WEB; server s1 127.0.0.1:1; }
CONF

# The notify socket: each datagram as one line "<ms since start> <payload with \n as |>";
# on READY=1 it connects to the service at once, to see that it is listening.
python3 - "$TMP/notify.sock" "$WEB" >"$TMP/notify.log" 2>&1 <<'PY' &
import socket, sys, time
path, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
t0 = time.monotonic()
while True:
    msg = s.recv(4096).decode()
    line = "%d %s" % ((time.monotonic() - t0) * 1000, msg.replace("\n", "|"))
    if "READY=1" in msg:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            line += " listening"
        except OSError as e:
            line += " NOT-listening(%s)" % e
    print(line, flush=True)
    if "STOPPING=1" in msg:
        break
PY
PY_PID=$!
track_pid "$PY_PID"
wait_until 5 test -S "$TMP/notify.sock" || fail "notify socket not created"

NOTIFY_SOCKET=$TMP/notify.sock "$BIN/albmd" -f "$TMP/a.conf" >"$TMP/albmd.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 grep -q READY=1 "$TMP/notify.log" || { cat "$TMP/albmd.log"; fail "no READY=1"; }
grep -q "READY=1.* listening$" "$TMP/notify.log" || fail "READY=1 before the listener: $(cat "$TMP/notify.log")"
grep -q "STATUS=1 service(s)" "$TMP/notify.log" || fail "no STATUS with READY: $(cat "$TMP/notify.log")"

readies() { [ "$(grep -c READY=1 "$TMP/notify.log")" -ge "$1" ]; }
kill -HUP "$ALBMD_PID"
wait_until 10 readies 2 || fail "no READY=1 after SIGHUP: $(cat "$TMP/notify.log")"
awk '/RELOADING=1/ { r = NR } /READY=1/ && r && NR > r { ok = 1 } END { exit !ok }' "$TMP/notify.log" ||
	fail "want RELOADING=1 then READY=1: $(cat "$TMP/notify.log")"
grep -q "RELOADING=1|MONOTONIC_USEC=[0-9]" "$TMP/notify.log" || fail "RELOADING without MONOTONIC_USEC"

kill -TERM "$ALBMD_PID"
wait_until 10 grep -q STOPPING=1 "$TMP/notify.log" || fail "no STOPPING=1 on SIGTERM: $(cat "$TMP/notify.log")"
wait "$ALBMD_PID" || fail "albmd exit status $? after SIGTERM"
echo "  notify: $(cut -d' ' -f2- "$TMP/notify.log" | cut -c1-40 | tr '\n' ';')"

# ---- the journal: stderr is the stream JOURNAL_STREAM names
: >"$TMP/journal"
js=$(stat -c '%d:%i' "$TMP/journal")
JOURNAL_STREAM=$js "$BIN/albmd" -f "$TMP/a.conf" 2>>"$TMP/journal" &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 grep -q started "$TMP/journal" || fail "albmd did not start: $(cat "$TMP/journal")"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID"
grep -qx "<6>started: 1 service(s), 1 worker(s), control $TMP/albmd.sock" "$TMP/journal" ||
	fail "journal format: $(cat "$TMP/journal")"
grep -v '^<[0-7]>' "$TMP/journal" && fail "a line without a priority prefix"
grep -q '^<[0-7]>[0-9]\{4\}-' "$TMP/journal" && fail "a time stamp under the journal"
# the same variable with stderr elsewhere (inherited): normal lines
JOURNAL_STREAM=$js timeout 1 "$BIN/albmd" -f "$TMP/a.conf" 2>"$TMP/plain"
grep -q '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T.* albmd\[info\] started' "$TMP/plain" ||
	fail "JOURNAL_STREAM of another stream changed the format: $(cat "$TMP/plain")"
echo "704-sd-notify: ok"
