#!/usr/bin/env bash
# ALBM: albmd's relay — byte-exact bulk transfers both ways (splice and copy), half-close
# passed on in each direction, several workers (SO_REUSEPORT) sharing one scheduler,
# PROXY protocol v1 towards the server, idle timeout.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 206 albmd albmctl albm-httpd

# A TCP backend that echoes everything, then half-closes when the client did; with
# "proxy" it first reads one PROXY v1 line and echoes it back as its first line; with
# "blast" it sends 300000 bytes at once and closes, whatever the client does.
cat >"$TMP/echo.py" <<'PY'
import socket, sys, threading
port, mode = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else ""
proxy = mode == "proxy"
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64)
def serve(c):
    try:
        if mode == "blast":
            c.sendall(b"x" * 300000)
            return
        if proxy:
            line = b""
            while not line.endswith(b"\r\n"):
                b = c.recv(1)
                if not b: return
                line += b
            c.sendall(line)
        while True:
            b = c.recv(65536)
            if not b: break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PE=$(free_port) PP=$(free_port) PX=$(free_port) PA=$(free_port) PB=$(free_port)
VIP=$(free_port) VIPE=$(free_port) VIPP=$(free_port) VIPI=$(free_port) VIPX=$(free_port)
python3 "$TMP/echo.py" "$PE" & track_pid $!
python3 "$TMP/echo.py" "$PP" proxy & track_pid $!
python3 "$TMP/echo.py" "$PX" blast & track_pid $!
wait_port "$PE" 10 && wait_port "$PP" 10 && wait_port "$PX" 10 || fail "echo servers did not start"
start_httpd A "$PA"
start_httpd B "$PB"
cat >"$TMP/albmd.conf" <<CONF
workers 2;
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler wlc;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
}
service echo {
    listen 127.0.0.1:$VIPE;
    scheduler rr;
    server e 127.0.0.1:$PE;
}
service pp {
    listen 127.0.0.1:$VIPP;
    proxy-protocol v1;
    server e 127.0.0.1:$PP;
}
service blast {
    listen 127.0.0.1:$VIPX;
    server x 127.0.0.1:$PX;
}
service idle {
    listen 127.0.0.1:$VIPI;
    idle-timeout 1s;
    server e 127.0.0.1:$PE;
}
CONF
start_albmd "$TMP/albmd.conf"
ctl stats | grep -q '^workers *2$' || fail "not 2 workers: $(ctl stats)"

# ---- echo: 8 MiB up, 8 MiB back, byte-exact, with half-close in both directions
python3 - "$VIPE" <<'PY' || fail "echo transfer"
import os, socket, sys, threading
port = int(sys.argv[1])
def run(size):
    data = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    got = bytearray()
    def reader():
        while True:
            b = s.recv(1 << 16)
            if not b: break
            got.extend(b)
    t = threading.Thread(target=reader); t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)     # half-close: the echo server must still answer
    t.join(30)
    s.close()
    assert bytes(got) == data, (size, len(got))
for size in (1, 1000, 65536, 65537, 8 << 20):
    run(size)
ts = [threading.Thread(target=run, args=(1 << 20,)) for _ in range(6)]
[t.start() for t in ts]; [t.join(60) for t in ts]
PY

# ---- HTTP bulk through both workers: byte-exact against the direct download
curl -s --max-time 20 -o "$TMP/direct" "http://127.0.0.1:$PA/bytes/6M" || fail "direct download"
CURLS=()
for i in 1 2 3 4 5 6; do
	curl -s --max-time 30 -o "$TMP/via.$i" "http://127.0.0.1:$VIP/bytes/6M" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
for i in 1 2 3 4 5 6; do
	cmp -s "$TMP/direct" "$TMP/via.$i" || fail "download $i through albmd differs"
done
ctl list --json >"$TMP/l.json"
pyjson "$TMP/l.json" '
w = d["services"][0]
assert sum(s["total_conns"] for s in w["servers"]) == 6, w
assert all(s["total_conns"] >= 1 for s in w["servers"]), w
assert all(s["bytes_out"] >= 6 << 20 for s in w["servers"]), w
' || fail "counters after bulk downloads: $(ctl list)"

# ---- the server ends first: the client (still open for writing) gets every byte, then EOF
python3 - "$VIPX" <<'PY' || fail "server-side close"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
got = 0
while True:
    b = s.recv(65536)
    if not b: break
    got += len(b)
assert got == 300000, got
s.sendall(b"late")  # our side is still open: albmd takes it, then ends the connection
s.close()
PY

# ---- PROXY protocol v1: the server sees the client's address first
line=$(python3 - "$VIPP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"hello")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b: break
    out += b
print(out.decode(errors="replace").replace("\r\n", "|"), end="")
PY
)
[[ "$line" =~ ^PROXY\ TCP4\ 127\.0\.0\.1\ 127\.0\.0\.1\ [0-9]+\ $VIPP\|hello$ ]] || fail "PROXY v1: '$line'"

# ---- idle timeout: a silent connection is closed after ~1 s
python3 - "$VIPI" <<'PY' || fail "idle timeout"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
t = time.time()
assert s.recv(10) == b""
assert 0.8 <= time.time() - t < 10, time.time() - t
PY
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: byte-exact relay both ways, half-close, 2 workers, PROXY v1, idle timeout"
