#!/usr/bin/env bash
# ALBM: a reset reaches the other side as a reset, both ways, and is counted; a clean
# end of stream stays a FIN (issue 11 item 3).
#
# A backend sends 4 MiB and then resets (SO_LINGER 0): a client through albmd must see
# ECONNRESET, not a clean end of stream after fewer bytes (the truncation was invisible).
# Checked with splice (the default) and in copy mode (splice off), then the same 4 MiB
# ending with a FIN (all bytes, clean EOF), then a client that resets after sending:
# the backend sees a reset.  server_aborts / client_aborts count them.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 211 albmd albmctl
TOOLS=tests/lib/fault_tools.py
PR=$(free_port) PF=$(free_port) PE=$(free_port)
fault_server rst "$PR" blast-rst --size $((4 << 20))
fault_server fin "$PF" blast-fin --size $((4 << 20))
fault_server echo "$PE" echo-log
V1=$(free_port) V2=$(free_port) V3=$(free_port)
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service rst { listen 127.0.0.1:$V1; server r 127.0.0.1:$PR; }
service fin { listen 127.0.0.1:$V2; server f 127.0.0.1:$PF; }
service echo { listen 127.0.0.1:$V3; server e 127.0.0.1:$PE; }
CONF
start_albmd "$TMP/albmd.conf"
svc_stat() { svc_json "$1" "s['$2']"; }
srv_stat() { svc_json "$1" "s['servers'][0]['$2']"; }
fetch() { python3 "$TOOLS" fetch 127.0.0.1 "$@"; }
test_lines() { [ "$(grep -c '^peer ' "$TMP/echo.log")" = "$1" ]; }

# ---- 1. backend reset after 4 MiB: the client sees a reset (splice, then copy mode) ------
for pass in splice copy; do
	if [ "$pass" = copy ]; then
		sed -i '1i splice off;' "$TMP/albmd.conf"
		ctl reload >/dev/null || fail "reload (splice off)"
	fi
	for i in 1 2 3; do
		out=$(fetch "$V1" --send "GET / HTTP/1.0"$'\r\n\r\n')
		echo "1. $pass, try $i: $out"
		case $out in
		*end=reset*) ;;
		*) fail "$pass: the backend's reset reached the client as '$out' (want end=reset)" ;;
		esac
	done
done
wait_until 5 svc_is rst "s['server_aborts']" 6 ||
	fail "service server_aborts $(svc_stat rst server_aborts), want 6"
[ "$(srv_stat rst server_aborts)" = 6 ] || fail "server server_aborts $(srv_stat rst server_aborts)"
[ "$(svc_stat rst client_aborts)" = 0 ] || fail "client_aborts counted for a server reset"

# ---- 2. a clean FIN stays a FIN: every byte, then EOF ------------------------------------
for i in 1 2; do
	out=$(fetch "$V2" --send "GET / HTTP/1.0"$'\r\n\r\n')
	echo "2. FIN, try $i: $out"
	[[ $out == "bytes=$((4 << 20)) end=eof "* ]] || fail "a clean end became '$out'"
done
[ "$(svc_stat fin server_aborts)" = 0 ] || fail "server_aborts counted for a FIN"

# ---- 3. the other way: a client reset reaches the server as a reset ----------------------
python3 "$TOOLS" abort 127.0.0.1 "$V3" --send-bytes 5000 >/dev/null || fail "abort client"
wait_until 5 grep -q "^peer " "$TMP/echo.log" || fail "the backend never saw the end"
echo "3. client reset, the backend saw: $(grep '^peer ' "$TMP/echo.log")"
grep -q "^peer reset 5000" "$TMP/echo.log" || fail "the client's reset reached the server as: $(grep '^peer ' "$TMP/echo.log")"
wait_until 5 svc_is echo "s['client_aborts']" 1 || fail "client_aborts $(svc_stat echo client_aborts), want 1"
# and a clean close stays clean
fetch "$V3" --send hello --shut >/dev/null
wait_until 5 test_lines 2 || fail "second echo not ended"
tail -1 "$TMP/echo.log" | grep -q "^peer eof 5" || fail "a clean close became: $(tail -1 "$TMP/echo.log")"
[ "$(svc_stat echo client_aborts)" = 1 ] || fail "a clean close counted as an abort"
echo "211-albmd-resets: ok"
