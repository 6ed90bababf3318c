#!/usr/bin/env bash
# ALBM: albmd's control socket and admin HTTP — albmctl commands, list --json keys,
# malformed and hostile commands (errors, never a crash), socket mode 0600, /metrics
# families, /api/state = list --json.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 202 albmd albmctl albm-httpd

PA=$(free_port) PB=$(free_port) VIP=$(free_port) HTTP=$(free_port)
start_httpd s1 "$PA"
start_httpd s2 "$PB"
cat >"$TMP/albmd.conf" <<CONF
control {
    socket $TMP/albmd.sock;
    http 127.0.0.1:$HTTP;
}
service web {
    listen 127.0.0.1:$VIP;
    scheduler rr;
    server s1 127.0.0.1:$PA weight 2;
    server s2 127.0.0.1:$PB weight 1 maxconn 500;
}
CONF
start_albmd "$TMP/albmd.conf"

# ---- the socket is private
[ "$(stat -c %a "$TMP/albmd.sock")" = 600 ] || fail "socket mode $(stat -c %a "$TMP/albmd.sock")"

# ---- list: the table, and the JSON contract
for _ in 1 2 3 4; do who "$VIP" >/dev/null; done
ctl list >"$TMP/list" || fail "list"
cat "$TMP/list"
grep -q "^web .*127.0.0.1:$VIP .*proxy .*rr" "$TMP/list" || fail "list: no service line"
grep -q -- "-> s2 .*127.0.0.1:$PB .*up" "$TMP/list" || fail "list: no s2 line"
ctl list --json >"$TMP/list.json" || fail "list --json"
pyjson "$TMP/list.json" '
svc = d["services"][0]
for k in ("name", "listen", "mode", "scheduler", "servers"):
    assert k in svc, k
assert svc["name"] == "web" and svc["mode"] == "proxy" and svc["scheduler"] == "rr", svc
s1, s2 = svc["servers"]
for s in (s1, s2):
    for k in ("name", "address", "weight", "effective_weight", "state", "active_conns",
              "total_conns", "agent"):
        assert k in s, k
    assert s["agent"] is None and s["state"] == "up", s
assert s1["weight"] == 2 and s2["weight"] == 1 and s2["maxconn"] == 500, svc
assert s1["total_conns"] == 2 and s2["total_conns"] == 2, svc
' || fail "list --json contract"

# ---- admin commands change what list shows
ctl weight web s1 5 >/dev/null || fail "weight"
ctl drain web s2 >/dev/null || fail "drain"
ctl list --json | grep -q '"state": "drain"' || fail "drain not shown"
ctl disable web s2 >/dev/null || fail "disable"
ctl list --json | grep -q '"state": "down"' || fail "disable not shown as down"
ctl enable web s2 >/dev/null || fail "enable"
ctl add web s3 "127.0.0.1:$PB" weight 4 maxconn 10 >/dev/null || fail "add"
ctl remove web s2 >/dev/null || fail "remove"
ctl scheduler web wlc >/dev/null || fail "scheduler"
ctl list --json >"$TMP/l2.json"
pyjson "$TMP/l2.json" '
svc = d["services"][0]
assert svc["scheduler"] == "wlc", svc
names = [s["name"] for s in svc["servers"]]
assert names == ["s1", "s3"], names
assert svc["servers"][0]["weight"] == 5 and svc["servers"][1]["weight"] == 4, svc
assert all(s["state"] == "up" for s in svc["servers"]), svc
' || fail "state after admin commands"
[ "$(who "$VIP")" = s1 ] || fail "wlc after changes: first pick should be s1"

# ---- errors: a message and a non-zero exit, never a crash
expect_err() {
	local out
	out=$(ctl "$@" 2>&1) && fail "albmctl $* succeeded: $out"
	grep -q "albmctl: " <<<"$out" || fail "albmctl $*: no message: $out"
}
expect_err bogus
expect_err weight web s1
expect_err weight web s1 70000
expect_err weight web s1 -3
expect_err weight nosvc s1 1
expect_err drain web nosrv
expect_err add web s1 "127.0.0.1:$PA"
expect_err add web 'bad/name' "127.0.0.1:$PA"
expect_err add web s9 not-an-address
expect_err add web s9 "127.0.0.1:$PA" weight
expect_err add web s9 "127.0.0.1:$PA" colour blue
expect_err scheduler web nosuch
expect_err list extra
ctl ping | grep -qx pong || fail "ping"

# ---- hostile clients on the raw socket: long lines, binary, floods, half lines
python3 - "$TMP/albmd.sock" <<'PY' || fail "raw socket checks"
import socket, sys
path = sys.argv[1]
def talk(data, eof=False):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(data)
        if eof:
            s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    while not out.endswith(b"\n\n"):
        try:
            c = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not c:
            break
        out += c
    s.close()
    return out
assert talk(b"A" * 10000 + b"\n").startswith(b"ERR "), "long line"
assert talk(b"list\x00\xff\x01\n").startswith(b"ERR "), "binary"
assert talk(b" ".join([b"x"] * 40) + b"\n").startswith(b"ERR too many"), "many words"
assert talk(b"\n").startswith(b"ERR "), "empty"
r = talk(b"ping\nping\nlist --json\n")
assert r.startswith(b"OK\npong\n\n"), r[:40]
r = talk(b"ping", eof=True)  # no newline, then EOF: answered anyway
assert r == b"OK\npong\n\n", r
for i in range(100):  # connect and vanish
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(b"li"); s.close()
PY
ctl ping >/dev/null || fail "albmd does not answer after hostile clients"
kill -0 "$ALBMD_PID" || fail "albmd died"

# ---- admin HTTP: /metrics and /api/state
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics" || fail "GET /metrics"
for m in albm_connections_total albm_service_connections_total albm_server_connections \
	albm_server_bytes_in_total albm_server_bytes_out_total albm_server_state \
	albm_server_effective_weight albm_server_picks_total albm_server_connect_failures_total \
	albm_server_retries_total albm_service_picks_total; do
	grep -q "^# TYPE $m " "$TMP/metrics" || fail "/metrics lacks $m"
done
grep -q '^albm_server_state{service="web",server="s1",state="up"} 1$' "$TMP/metrics" ||
	fail "/metrics: s1 not up: $(grep albm_server_state "$TMP/metrics")"
grep -Eq '^albm_server_bytes_out_total\{service="web",server="s1"\} [1-9]' "$TMP/metrics" ||
	fail "/metrics: no bytes counted for s1"
curl -s --max-time 5 "http://127.0.0.1:$HTTP/api/state" >"$TMP/state.json" || fail "GET /api/state"
ctl list --json >"$TMP/list3.json"
python3 - "$TMP/state.json" "$TMP/list3.json" <<'PY' || fail "/api/state differs from list --json"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a == b, (a, b)
PY
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/nope")
[ "$code" = 404 ] || fail "/nope: $code"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$HTTP/metrics")
[ "$code" = 405 ] || fail "POST /metrics: $code"
printf 'garbage\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP; cat >&3; head -1 <&3" |
	grep -q "400" || fail "garbage request not answered 400"
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: albmctl commands, JSON contract, hostile input, /metrics, /api/state"
