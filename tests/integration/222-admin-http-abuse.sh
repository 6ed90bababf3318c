#!/usr/bin/env bash
# ALBM: the admin HTTP under local abuse (issue 11 item 5) and its token (issue 13 item 10)
# - 70 idle connections do not lock scrapes out: at the cap the longest-idle client is
#   evicted, and idle clients are closed after the 3 s header timeout;
# - a head with a NUL byte, or a bad request line, is answered 400 at once, not at the
#   timeout; a head over 8 KiB gets 431;
# - http-token-file: data routes want `Authorization: Bearer TOKEN` (401 otherwise),
#   the page loads without it; a non-loopback address without a token is refused,
#   and so is a token file others can read.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 222 albmd albmctl albm-httpd

PA=$(free_port) VIP=$(free_port) HTTP=$(free_port)
start_httpd s1 "$PA"
head -c 24 /dev/urandom | base64 >"$TMP/token"
chmod 600 "$TMP/token"
TOKEN=$(cat "$TMP/token")
cat >"$TMP/albmd.conf" <<CONF
control {
    socket $TMP/albmd.sock;
    http 127.0.0.1:$HTTP;
    http-token-file $TMP/token;
}
service web {
    listen 127.0.0.1:$VIP;
    server s1 127.0.0.1:$PA;
}
CONF

# ---- config: beyond loopback only with a token; a readable token file is refused
sed "s|http 127.0.0.1:$HTTP;|http 0.0.0.0:$HTTP;|; /http-token-file/d" "$TMP/albmd.conf" >"$TMP/open.conf"
out=$("$BIN/albmd" --check -f "$TMP/open.conf" 2>&1) && fail "--check accepted 0.0.0.0 without a token"
grep -q "not a loopback address.*http-token-file" <<<"$out" || fail "no clear error: $out"
sed "s|http 127.0.0.1:$HTTP;|http 0.0.0.0:$HTTP;|" "$TMP/albmd.conf" >"$TMP/tok.conf"
"$BIN/albmd" --check -f "$TMP/tok.conf" >/dev/null || fail "--check refused 0.0.0.0 with a token"
cp "$TMP/token" "$TMP/token.open" && chmod 644 "$TMP/token.open"
sed "s|$TMP/token;|$TMP/token.open;|" "$TMP/albmd.conf" >"$TMP/rd.conf"
out=$("$BIN/albmd" --check -f "$TMP/rd.conf" 2>&1) && fail "--check accepted a world-readable token"
grep -q "chmod 600" <<<"$out" || fail "no chmod hint: $out"

start_albmd "$TMP/albmd.conf"
code() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }

# ---- the token
[ "$(code "http://127.0.0.1:$HTTP/metrics")" = 401 ] || fail "/metrics without a token"
[ "$(code -H "Authorization: Bearer wrong-token-xxxxxxxx" "http://127.0.0.1:$HTTP/api/state")" = 401 ] ||
	fail "/api/state with a wrong token"
[ "$(code -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics")" = 200 ] ||
	fail "/metrics with the token"
[ "$(code -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/api/history")" = 200 ] ||
	fail "/api/history with the token"
[ "$(code "http://127.0.0.1:$HTTP/")" = 200 ] || fail "the page needs no token"
curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$HTTP/metrics" | grep -qi "^WWW-Authenticate: Bearer" ||
	fail "401 without WWW-Authenticate"

# ---- hostile heads, answered at once
python3 - "$HTTP" "$TOKEN" <<'PY' || fail "hostile heads"
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
def ask(data, close_write=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=8)
    t = time.monotonic()
    s.sendall(data)
    out = b""
    while True:
        try:
            c = s.recv(65536)
        except ConnectionResetError:
            break
        if not c:
            break
        out += c
    return out, time.monotonic() - t
for bad in (b"GET /\x00 HTTP/1.0\r\n", b"GET /metrics HTTP/1.0\r\nX: a\x00b\r\n",
            b"\x00\x01\x02", b"get /metrics HTTP/1.0\r\n", b"GET /metrics FTP/1.0\r\n",
            b"GET metrics HTTP/1.0\r\n"):
    out, dt = ask(bad)
    assert out.startswith(b"HTTP/1.0 400"), (bad, out[:40])
    assert dt < 1.0, f"{bad!r} answered after {dt:.1f} s"
out, _ = ask(b"BREW /pot HTTP/1.0\r\n\r\n")
assert out.startswith(b"HTTP/1.0 405"), out[:40]
out, dt = ask(b"GET /metrics HTTP/1.0\r\n" + b"X-Pad: " + b"a" * 9000 + b"\r\n\r\n")
assert out.startswith(b"HTTP/1.0 431"), out[:40]
out, _ = ask(b"GET /api/state HTTP/1.0\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n")
assert out.startswith(b"HTTP/1.0 200"), out[:40]
print("hostile heads: 400 at once, 431 for a large head")
PY

# ---- 70 idle clients: scrapes still answered, quickly; idle ones time out
python3 - "$HTTP" "$TOKEN" <<'PY' || fail "idle clients locked the scrapes out"
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(70)]
time.sleep(0.3)
req = b"GET /metrics HTTP/1.0\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n"
for i in range(5):
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req)
    out = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
    dt = time.monotonic() - t
    assert out.startswith(b"HTTP/1.0 200"), (i, out[:60])
    assert dt < 1.0, f"scrape {i} took {dt:.1f} s"
# the header timeout (3 s) closes every idle client, evicted or not
deadline = time.monotonic() + 8
for s in idle:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        assert s.recv(1) == b"", "an idle client got data"
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("an idle client was still open after 8 s")
print("70 idle clients: 5 scrapes answered at once; idle ones closed by the header timeout")
PY
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: admin HTTP holds against idle floods and bad heads; bearer token enforced"
