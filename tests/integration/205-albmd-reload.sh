#!/usr/bin/env bash
# ALBM: SIGHUP / albmctl reload apply a new config without dropping established
# connections (even to a removed server or service), keep listening sockets, reject a
# bad config (the old one keeps running); SIGTERM stops accepting and drains.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 205 albmd albmctl albm-httpd

PA=$(free_port) PB=$(free_port) PC=$(free_port) VIP=$(free_port) VIP2=$(free_port) VIP3=$(free_port)
start_httpd A "$PA"
start_httpd B "$PB"
start_httpd C "$PC"
conf_v1() {
	cat <<CONF
control { socket $TMP/albmd.sock; }
drain-timeout 20s;
service web {
    listen 127.0.0.1:$VIP;
    scheduler rr;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
}
service old {
    listen 127.0.0.1:$VIP2;
    scheduler rr;
    server A 127.0.0.1:$PA;
}
CONF
}
conf_v2() {
	cat <<CONF
control { socket $TMP/albmd.sock; }
drain-timeout 20s;
service web {
    listen 127.0.0.1:$VIP;
    scheduler wrr;
    server B 127.0.0.1:$PB weight 1;
    server C 127.0.0.1:$PC weight 2;
}
service new {
    listen 127.0.0.1:$VIP3;
    scheduler rr;
    server C 127.0.0.1:$PC;
}
CONF
}
conf_v1 >"$TMP/albmd.conf"
start_albmd "$TMP/albmd.conf"

# one request on an already open connection: prints the X-Server it got
ask() { # FD
	printf 'GET / HTTP/1.0\r\n\r\n' >&"$1" || return 1
	timeout 5 cat <&"$1" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]erver: //p'
}

# ---- connections held open across the reload: web -> A (A is removed), old (removed)
exec {F1}<>"/dev/tcp/127.0.0.1/$VIP" || fail "connect web"
exec {F2}<>"/dev/tcp/127.0.0.1/$VIP2" || fail "connect old"
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *2$'" || fail "2 conns"
ctl list --json | grep -q '"name": "A"' || fail "no A"

# ---- reload with SIGHUP: servers, scheduler and services change
conf_v2 >"$TMP/albmd.conf"
kill -HUP "$ALBMD_PID"
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^reloads_ok *1$'" ||
	{ cat "$TMP/albmd.log"; fail "reload not applied"; }
ctl list --json >"$TMP/v2.json"
pyjson "$TMP/v2.json" '
names = [v["name"] for v in d["services"]]
assert names == ["web", "new"], names
web = d["services"][0]
assert web["scheduler"] == "wrr", web
assert [s["name"] for s in web["servers"]] == ["B", "C"], web
' || fail "v2 not in effect: $(ctl list)"
got=$(sequence 3 "$VIP")
[ "$(count_in C "$got")" -eq 2 ] && [ "$(count_in B "$got")" -eq 1 ] && [ "$(who "$VIP3")" = C ] || fail "after reload: web '$got', new '$(who "$VIP3")'"
(exec 3<>"/dev/tcp/127.0.0.1/$VIP2") 2>/dev/null && fail "removed service still accepts"
# the established connections survived and still work
[ "$(ask "$F1")" = A ] || fail "connection to removed server A did not survive the reload"
[ "$(ask "$F2")" = A ] || fail "connection to removed service did not survive the reload"
exec {F1}>&- {F2}>&-

# ---- a bad config is rejected; the running one stays
cp "$TMP/albmd.conf" "$TMP/good.conf"
printf 'service web {\n    listen 127.0.0.1:%s;\n    scheduler nope;\n}\n' "$VIP" >"$TMP/albmd.conf"
kill -HUP "$ALBMD_PID"
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^reloads_failed *1$'" ||
	fail "bad reload not counted"
grep -q "reload of .* rejected" "$TMP/albmd.log" || fail "bad reload not logged"
out=$(ctl reload 2>&1) && fail "albmctl reload of a bad config succeeded"
grep -q "albmd.conf:3: unknown scheduler 'nope'" <<<"$out" || fail "albmctl reload error: $out"
got=$(sequence 3 "$VIP")
[ "$(count_in C "$got")" -eq 2 ] && [ "$(count_in B "$got")" -eq 1 ] || fail "old config not running: $got"
# a config whose listen address is taken by someone else is rejected before any change
printf 'control { socket %s; }\nservice web {\n listen 127.0.0.1:%s;\n server B 127.0.0.1:%s;\n}\n' \
	"$TMP/albmd.sock" "$PA" "$PB" >"$TMP/albmd.conf"
out=$(ctl reload 2>&1) && fail "reload onto a taken address succeeded"
grep -q "Address already in use" <<<"$out" || fail "taken address: $out"
ctl list --json | grep -q '"name": "new"' || fail "failed reload changed the services"
cp "$TMP/good.conf" "$TMP/albmd.conf"
ctl reload >/dev/null || fail "albmctl reload of the good config"

# ---- SIGTERM: stop accepting, let the live connection finish, then exit 0
exec {F3}<>"/dev/tcp/127.0.0.1/$VIP" || fail "connect"
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *1$'" || fail "1 conn"
kill -TERM "$ALBMD_PID"
wait_until 5 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$VIP) 2>/dev/null" || fail "still accepting after SIGTERM"
kill -0 "$ALBMD_PID" || fail "albmd exited with a live connection"
[ -n "$(ask "$F3")" ] || fail "live connection broken by SIGTERM"
exec {F3}>&-
wait_until 5 sh -c "! kill -0 $ALBMD_PID 2>/dev/null" || fail "albmd did not exit after the drain"
wait "$ALBMD_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "albmd exit status $rc"
[ -e "$TMP/albmd.sock" ] && fail "control socket left behind"

# ---- drain-timeout: a connection that never ends does not keep albmd forever
sed -i 's/drain-timeout 20s;/drain-timeout 1s;/' "$TMP/albmd.conf"
start_albmd "$TMP/albmd.conf"
exec {F4}<>"/dev/tcp/127.0.0.1/$VIP" || fail "connect"
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *1$'" || fail "1 conn"
kill -TERM "$ALBMD_PID"
wait_until 10 sh -c "! kill -0 $ALBMD_PID 2>/dev/null" || fail "drain-timeout not honoured"
exec {F4}>&-
grep -q "drain timeout: closing 1 connection" "$TMP/albmd.log" || fail "drain timeout not logged"
echo "ok: reload keeps connections and sockets, bad configs rejected, SIGTERM drains"
