#!/usr/bin/env bash
# ALBM: albm-httpd's limits and cost model through real sockets — FIFO queue under the
# hard in-flight limit, 503 for an oversize request, the paging model's delay, a stalled
# reader not blocking others, memory freed when a client leaves, pipelined keep-alive.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"

TMP=$(mktemp -d /tmp/albm-301.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh

# ---- queue mode: 4 clients, room for one 1M buffer; all served, never over the limit
PQ=$(free_port)
start_httpd q "$PQ" --cpu-per-mb 1ms --max-inflight-bytes 1M --overflow queue
grep -q 'mode physical' "$TMP/httpd-q.log" || fail "startup log does not name the mode: $(cat "$TMP/httpd-q.log")"
"$BIN/albm-bench" --url "http://127.0.0.1:$PQ" --clients 4 --step 1s --mix 1M:100 --seed 3 \
	--csv "$TMP/q.csv" --quiet 2>"$TMP/q.err" || { cat "$TMP/q.err"; fail "bench against q"; }
[ "$(csv_col "$TMP/q.csv" 1 errors)" = 0 ] || fail "queue mode should not fail requests: $(cat "$TMP/q.csv")"
gt0 "$(csv_col "$TMP/q.csv" 1 requests)" || fail "nothing served in queue mode"
stats "$PQ" >"$TMP/q.json"
pyjson "$TMP/q.json" '
assert d["peak_inflight_bytes"] == 1 << 20, d   # exactly one buffer at a time
assert d["queued_total"] > 0 and d["rejected_503"] == 0, d
assert d["config"]["overflow"] == "queue" and d["config"]["max_inflight_bytes"] == 1 << 20, d
' || fail "queue accounting: $(cat "$TMP/q.json")"
# Larger than the limit on its own: 503 at once, even in queue mode.
hdr=$(curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$PQ/bytes/2M")
grep -q '^HTTP/1.1 503' <<<"$hdr" && grep -qi '^X-Server: q' <<<"$hdr" || fail "oversize: $hdr"

# ---- paging model: delay is handed out once in-flight bytes pass the limit
PM=$(free_port)
start_httpd m "$PM" --cpu-per-mb 0 --paging-model 1M --page-penalty 2ms --max-inflight-bytes 64M
grep -q 'mode paging-model' "$TMP/httpd-m.log" || fail "startup log: $(cat "$TMP/httpd-m.log")"
"$BIN/albm-bench" --url "http://127.0.0.1:$PM" --clients 4 --step 1s --mix 1M:100 --seed 4 \
	--csv "$TMP/m.csv" --quiet 2>"$TMP/m.err" || { cat "$TMP/m.err"; fail "bench against m"; }
[ "$(csv_col "$TMP/m.csv" 1 errors)" = 0 ] || fail "paging model run had errors"
stats "$PM" >"$TMP/m.json"
pyjson "$TMP/m.json" '
assert d["mode"] == "paging-model", d
assert d["paging_delay_ms"] > 0 and d["peak_inflight_bytes"] > 1 << 20, d
assert d["model_limit_bytes"] == 1 << 20 and d["model_available_bytes"] == 1 << 20, d
assert d["config"]["paging_limit"] == 1 << 20 and d["config"]["page_penalty_ms"] == 2.0, d
' || fail "paging model: $(cat "$TMP/m.json")"

# ---- a reader that never reads holds a 15M response; others are still served
PS=$(free_port)
start_httpd s "$PS" --cpu-per-mb 0 --max-inflight-bytes 64M
python3 - "$PS" >"$TMP/stall.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /bytes/15M HTTP/1.1\r\nHost: x\r\n\r\n")
print("sent", flush=True)
time.sleep(120) # read nothing (until killed): the server must not block on us
PY
STALL=$!
track_pid "$STALL"
for _ in $(seq 1 50); do grep -q sent "$TMP/stall.out" && break; sleep 0.1; done
"$BIN/albm-bench" --url "http://127.0.0.1:$PS" --clients 2 --step 1s --mix 1:50,64K:50 \
	--timeout 5s --csv "$TMP/s.csv" --quiet 2>/dev/null || fail "bench beside a stalled reader"
[ "$(csv_col "$TMP/s.csv" 1 errors)" = 0 ] && gt0 "$(csv_col "$TMP/s.csv" 1 requests)" ||
	fail "a stalled reader blocked the others: $(cat "$TMP/s.csv")"
stats "$PS" >"$TMP/s.json"
pyjson "$TMP/s.json" 'assert d["inflight_requests"] == 1 and d["inflight_bytes"] == 15 << 20, d' ||
	fail "the stalled response should hold its 15M: $(cat "$TMP/s.json")"
kill "$STALL" 2>/dev/null
# The reader is gone: its buffer is given back.
for _ in $(seq 1 50); do
	stats "$PS" >"$TMP/s2.json"
	pyjson "$TMP/s2.json" 'assert d["inflight_bytes"] == 0' 2>/dev/null && break
	sleep 0.1
done
pyjson "$TMP/s2.json" 'assert d["inflight_bytes"] == 0 and d["inflight_requests"] == 0 and d["aborted"] >= 1, d' ||
	fail "memory not released after the client left: $(cat "$TMP/s2.json")"

# ---- two pipelined requests on one keep-alive connection, then Connection: close
python3 - "$PS" <<'PY' || fail "pipelined keep-alive"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/2K HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
first, rest = data.split(b"\r\n\r\n", 1)
assert b"200 OK" in first and b"Content-Length: 3" in first and b"Connection: keep-alive" in first, first
assert rest[:3] == b"abc", rest[:3]
second, body = rest[3:].split(b"\r\n\r\n", 1)
assert b"Content-Length: 2048" in second and b"Connection: close" in second, second
assert len(body) == 2048, len(body)
PY

# ---- garbage and oversize heads get 400 / 431 (with X-Server), then the connection closes
python3 - "$PS" <<'PY' || fail "bad requests"
import socket, sys
def ask(raw):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(raw)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b
r = ask(b"HELLO\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400") and b"X-Server: s\r\n" in r, r
r = ask(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
assert r.startswith(b"HTTP/1.1 431") and b"X-Server: s\r\n" in r, r
r = ask(b"POST /bytes/1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
assert r.startswith(b"HTTP/1.1 405"), r
PY
echo "httpd limits: ok"
