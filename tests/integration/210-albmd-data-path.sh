#!/usr/bin/env bash
# ALBM: proxy mode's data paths (data-path auto|epoll|sockmap, docs/albmd.md):
#   the automatic fallback to epoll — a probe made to fail (ALBMD_DATA_PATH_DISABLE) and
#   albmd without capabilities — shown in albmctl list, list --json and /metrics;
#   auto stays with epoll (the measurements' winner); a keep-alive connection in the
#   io_uring relay still counts for the scheduler and survives a reload and a drain; with the in-kernel relay (sockmap)
#   and with the io_uring relay (uring) its bytes reach the counters exactly, the idle
#   timeout closes it, and a server's reset ends the client's connection.  Half-close, big transfers and PROXY headers in each mode:
#   tests/run.sh runs 206, 207 and 209 with ALBM_DATA_PATH=epoll, =sockmap and =uring.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 210 albmd albmctl albm-httpd
unset ALBM_DATA_PATH # this test sets the data paths itself

# A TCP server: "echo" echoes each read back; "reset" answers the first read, then resets.
cat >"$TMP/srv.py" <<'PY'
import socket, struct, sys, threading
port, mode = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64)
def serve(c):
    try:
        while True:
            b = c.recv(65536)
            if not b: break
            c.sendall(b)
            if mode == "reset" and b.endswith(b"RESET"):
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PA=$(free_port) PE=$(free_port) PR=$(free_port)
VW=$(free_port) VE=$(free_port) VI=$(free_port) VR=$(free_port) HTTP=$(free_port)
UE=$(free_port) UI=$(free_port) UR=$(free_port) UW=$(free_port)
start_httpd A "$PA"
python3 "$TMP/srv.py" "$PE" echo & track_pid $!
python3 "$TMP/srv.py" "$PR" reset & track_pid $!
wait_port "$PE" 10 && wait_port "$PR" 10 || fail "test servers did not start"
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web { listen 127.0.0.1:$VW; server A 127.0.0.1:$PA; }
service uweb { listen 127.0.0.1:$UW; data-path uring; server A 127.0.0.1:$PA; }
service echo { listen 127.0.0.1:$VE; data-path sockmap; server e 127.0.0.1:$PE; }
service idle { listen 127.0.0.1:$VI; data-path sockmap; idle-timeout 1s; server e 127.0.0.1:$PE; }
service reset { listen 127.0.0.1:$VR; data-path sockmap; server r 127.0.0.1:$PR; }
service uecho { listen 127.0.0.1:$UE; data-path uring; server e 127.0.0.1:$PE; }
service uidle { listen 127.0.0.1:$UI; data-path uring; idle-timeout 1s; server e 127.0.0.1:$PE; }
service ureset { listen 127.0.0.1:$UR; data-path uring; server r 127.0.0.1:$PR; }
CONF
metrics() { curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics"; }
metric() { metrics | awk -v m="$1" '$1 == m { print $2 }'; }

# paths SERVICE... : the data_path of each service in list --json
paths() {
	ctl list --json >"$TMP/l.json" &&
		python3 -c 'import json, sys
d = {s["name"]: s["proxy"]["data_path"] for s in json.load(open(sys.argv[1]))["services"]}
print(" ".join(d[n] for n in sys.argv[2:]))' "$TMP/l.json" "$@"
}

# ---- the fallback: a probe that fails selects epoll, with an info log, shown everywhere
ALBMD_DATA_PATH_DISABLE=sockmap,uring start_albmd "$TMP/albmd.conf"
[ "$(paths web echo uecho)" = "epoll epoll epoll" ] || fail "probe failed, yet: $(paths web echo uecho)"
ctl list | grep -q "^uecho .*data-path epoll (uring)" || fail "list: $(ctl list)"
ctl list | grep -q "^web .*data-path epoll (auto)" || fail "list: $(ctl list)"
ctl list | grep -q "^echo .*data-path epoll (sockmap)" || fail "list: $(ctl list)"
metrics | grep -q '^albm_proxy_data_path{service="echo",path="epoll"} 1$' || fail "/metrics: $(metrics | grep data_path)"
grep -q "data path: uring unavailable (disabled by ALBMD_DATA_PATH_DISABLE): proxy services relay with epoll" "$TMP/albmd.log" ||
	fail "no info line for the fallback: $(cat "$TMP/albmd.log")"
grep -q "service 'echo': data-path sockmap is not available" "$TMP/albmd.log" || fail "no warning for the forced mode"
[ "$(who "$VW")" = A ] || fail "no reply through the epoll fallback"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
echo "  a failing probe: epoll, in list, --json, /metrics and the log"

# ---- without CAP_BPF the program cannot load: sockmap falls back (io_uring needs no
# capability)
if command -v setpriv >/dev/null; then
	chmod 755 "$TMP"
	mkdir -m 777 "$TMP/run"
	sed "s|socket $TMP/albmd.sock|socket $TMP/run/nobody.sock|; s|http 127.0.0.1:$HTTP|http 127.0.0.1:$(free_port)|" \
		"$TMP/albmd.conf" >"$TMP/nobody.conf"
	chmod 644 "$TMP/nobody.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all \
		--bounding-set=-all "$BIN/albmd" -f "$TMP/nobody.conf" >"$TMP/nobody.log" 2>&1 &
	NPID=$!
	track_pid "$NPID"
	wait_until 10 "$BIN/albmctl" -s "$TMP/run/nobody.sock" ping || fail "albmd as nobody: $(cat "$TMP/nobody.log")"
	grep -q "data path: sockmap unavailable" "$TMP/nobody.log" || fail "as nobody: $(cat "$TMP/nobody.log")"
	"$BIN/albmctl" -s "$TMP/run/nobody.sock" list | grep -q "^echo .*data-path epoll (sockmap)" ||
		fail "as nobody: $("$BIN/albmctl" -s "$TMP/run/nobody.sock" list)"
	kill -TERM "$NPID"
	wait "$NPID" 2>/dev/null
	echo "  no capabilities: sockmap falls back to epoll"
fi

# ---- the in-kernel relay
: >"$TMP/albmd.log"
start_albmd "$TMP/albmd.conf"
[ "$(paths web echo uecho)" != "epoll epoll epoll" ] ||
	skip "neither the sockmap nor the io_uring relay is available here ($(grep -o 'unavailable.*' "$TMP/albmd.log" | tr '\n' ' '))"
HAVE_URING=0 HAVE_SOCKMAP=0
[ "$(paths uecho)" = uring ] && HAVE_URING=1
[ "$(paths echo)" = sockmap ] && HAVE_SOCKMAP=1
[ "$(paths web)" = epoll ] || fail "auto is not epoll: $(paths web)"
ctl list | grep -q "^web .*data-path epoll (auto)" || fail "list: $(ctl list)"

# A keep-alive client: once the relay is idle the io_uring relay has the connection;
# it still counts for the scheduler; it survives a reload and a drain.
[ "$HAVE_URING" = 1 ] && {
mkfifo "$TMP/go" "$TMP/ready"
python3 - "$UW" "$TMP/go" "$TMP/ready" <<'PY' &
import http.client, sys
port, go, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def get(n):
    c.request("GET", "/bytes/%d" % n)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and len(body) == n and r.getheader("X-Server") == "A", (r.status, len(body))
for n in (10, 1000, 5):
    get(n)
for step in ("handed", "reloaded", "drained"):
    open(ready, "w").write(step + "\n")
    open(go).read()
    get(100000)
c.close()
PY
CLIENT=$!
track_pid "$CLIENT"
read -r step <"$TMP/ready"
[ "$step" = handed ] || fail "client: $step"
wait_until 5 test "$(metric albm_proxy_fastpath_conns)" = 1 || fail "not handed off: $(metrics | grep fastpath)"
ctl list --json >"$TMP/l.json"
pyjson "$TMP/l.json" '
s = [x for x in d["services"] if x["name"] == "uweb"][0]["servers"][0]
assert s["active_conns"] == 1, s' || fail "the kernel's connection does not count: $(ctl list)"
echo ok >"$TMP/go"
read -r step <"$TMP/ready"
sed -i "s|server A 127.0.0.1:$PA;|server A 127.0.0.1:$PA weight 3;|" "$TMP/albmd.conf"
kill -HUP "$ALBMD_PID"
wait_until 10 sh -c "'$BIN/albmctl' -s '$TMP/albmd.sock' list | grep -q '^  -> A .* 3  '" || fail "reload: $(ctl list)"
echo ok >"$TMP/go"
read -r step <"$TMP/ready"
ctl drain uweb A >/dev/null || fail "drain"
echo ok >"$TMP/go"
wait "$CLIENT" || fail "keep-alive client through the kernel relay, a reload and a drain"
wait_until 5 test "$(metric albm_proxy_fastpath_conns)" = 0 || fail "still handed off: $(metrics | grep fastpath)"
[ "$(metrics | awk '$1 == "albm_proxy_fastpath_handoffs_total{event=\"handoff\"}" { print $2 }')" -ge 1 ] ||
	fail "no hand-off: $(metrics | grep fastpath)"
echo "  uring: a keep-alive connection in the io_uring relay counts, survives a reload and a drain"
}

# Byte counters exact, idle timeout, a server's reset: through the kernel (sockmap:
# from the first exchange) and through the io_uring relay
check_bytes() { # SERVICE PORT
	python3 - "$2" <<'PY' || fail "$1: echo"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
sent = 0
for n in (100, 5000, 70000, 3):
    data = bytes(range(256)) * (n // 256) + b"x" * (n % 256)
    s.sendall(data)
    got = b""
    while len(got) < n:
        b = s.recv(65536)
        assert b, "EOF"
        got += b
    assert got == data
    sent += n
s.close()
assert sent == 75103
PY
	CHK_SVC=$1
	counts() {
		ctl list --json >"$TMP/l.json" && pyjson "$TMP/l.json" "
s = [x for x in d['services'] if x['name'] == '$CHK_SVC'][0]
assert (s['bytes_in'], s['bytes_out']) == (75103, 75103), (s['bytes_in'], s['bytes_out'])
assert s['servers'][0]['active_conns'] == 0, s['servers'][0]"
	}
	wait_until 5 counts || { counts; fail "$1: byte counters: $(ctl list --json)"; }
}
check_idle() { # SERVICE PORT
	python3 - "$2" <<'PY' || fail "$1: idle timeout"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"ping")
assert s.recv(10) == b"ping"
t = time.time()
assert s.recv(10) == b""
assert 0.8 <= time.time() - t < 10, time.time() - t
PY
}
check_reset() { # SERVICE PORT
	python3 - "$2" <<'PY' || fail "$1: reset"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"hello")
assert s.recv(10) == b"hello"
s.sendall(b"RESET")
got = b""
try:
    while True:
        b = s.recv(10)
        if not b: break
        got += b
except ConnectionResetError:
    pass
assert got in (b"", b"RESET"), got
PY
}
if [ "$HAVE_SOCKMAP" = 1 ]; then
	check_bytes echo "$VE"
	check_idle idle "$VI"
	check_reset reset "$VR"
	echo "  sockmap: byte counters exact, idle timeout, a server's reset ends the client's connection"
else
	echo "  (sockmap not available here: $(grep -o 'sockmap unavailable.*' "$TMP/albmd.log"))"
fi
if [ "$HAVE_URING" = 1 ]; then
	check_bytes uecho "$UE"
	check_idle uidle "$UI"
	check_reset ureset "$UR"
	echo "  uring: byte counters exact, idle timeout, a server's reset ends the client's connection"
else
	echo "  (uring not available here: $(grep -o 'uring unavailable.*' "$TMP/albmd.log"))"
fi
kill -0 "$ALBMD_PID" || fail "albmd died"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null

# ---- a config that names no fast path probes nothing (no BPF program, no io_uring)
cat >"$TMP/auto.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$VW; server A 127.0.0.1:$PA; }
CONF
: >"$TMP/albmd.log"
start_albmd "$TMP/auto.conf"
[ "$(who "$VW")" = A ] || fail "auto only: no reply"
! grep -q "data path:" "$TMP/albmd.log" || fail "auto only, yet probed: $(grep 'data path:' "$TMP/albmd.log")"
echo "  auto only: nothing probed"
echo "ok: data paths — fallback shown; auto is epoll and probes nothing; uring keeps counts through a reload and a drain; sockmap and uring: bytes, idle timeout, reset"
