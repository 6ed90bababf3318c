#!/usr/bin/env bash
# ALBM: at start-up albmd raises its soft RLIMIT_NOFILE to the hard limit, and warns
# when maxconn needs more descriptors than that (the issue's `ulimit -n 64`, maxconn 20000).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 605 albmd albmctl
WEB=$(free_port)
conf() { # MAXCONN
	cat >"$TMP/a.conf" <<CONF
maxconn $1;
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$WEB; server s1 127.0.0.1:1; }
CONF
}
soft_limit() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }

# soft 64, hard 4096, maxconn 200 (~1.5k descriptors): raised, no warning
conf 200
(ulimit -Sn 64 && ulimit -Hn 4096 && exec "$BIN/albmd" -f "$TMP/a.conf" >"$TMP/a.log" 2>&1) &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 grep -q started "$TMP/a.log" || fail "albmd did not start: $(cat "$TMP/a.log")"
[ "$(soft_limit "$ALBMD_PID")" = 4096 ] || fail "soft limit $(soft_limit "$ALBMD_PID"), want 4096"
grep -q "file descriptors" "$TMP/a.log" && fail "warned although 4096 is enough: $(cat "$TMP/a.log")"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID"

# hard 64 and maxconn 20000: it still starts, and says what to do
conf 20000
(ulimit -n 64 && exec "$BIN/albmd" -f "$TMP/a.conf" >"$TMP/b.log" 2>&1) &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 grep -q started "$TMP/b.log" || fail "albmd did not start: $(cat "$TMP/b.log")"
grep -q "warn\] file descriptors: the limit is 64 but the config allows 20000 connections, which may need [0-9]* .*LimitNOFILE=.*ulimit -Hn" "$TMP/b.log" ||
	fail "no descriptor warning: $(cat "$TMP/b.log")"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID"
echo "705-fd-limit: ok"
