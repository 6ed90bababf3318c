#!/usr/bin/env bash
# ALBM: albm-bench against misbehaving servers — a short body, a wrong Content-Length,
# garbage, chunked, no answer, nobody listening: each is counted under its error kind,
# never a crash, and the run ends on time; a response without X-Server counts as "unknown".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albm-bench
command -v python3 >/dev/null || skip "python3 not installed"

TMP=$(mktemp -d /tmp/albm-303.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh

cat >"$TMP/bad.py" <<'PY'
# A loopback HTTP server that answers /bytes/N wrongly, in the way argv[2] names.
import socket, sys, threading, time
port, mode = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
def serve(c):
    try:
        req = b""
        while b"\r\n\r\n" not in req:
            b = c.recv(4096)
            if not b:
                return
            req += b
        n = int(req.split(b" ")[1].rsplit(b"/", 1)[1])
        head = "HTTP/1.1 200 OK\r\nX-Server: bad\r\nContent-Length: %d\r\n\r\n"
        if mode == "short":
            c.sendall((head % n).encode() + b"x" * (n // 2))
        elif mode == "length":
            c.sendall((head % (n + 1)).encode() + b"x" * (n + 1))
        elif mode == "garbage":
            c.sendall(b"hello there\r\n\r\n")
        elif mode == "chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        elif mode == "noname":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + b"x" * n)
        elif mode == "hang":
            time.sleep(30)
    finally:
        c.close()
print("ready", flush=True)
deadline = time.time() + 60  # bounded even if the test forgets us
ls.settimeout(1)
while time.time() < deadline:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# run_against MODE [TIMEOUT]: start the bad server, bench it for 2 s with that request
# timeout (default 3s: a Python thread on a loaded machine may take a few hundred ms to
# answer, which must not turn a bad answer into a timeout), leave the JSON in $TMP/MODE.json.
run_against() {
	local mode=$1 tmo=${2:-3s} port pid rc
	port=$(free_port)
	python3 "$TMP/bad.py" "$port" "$mode" >"$TMP/$mode.srv" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_port "$port" 10 || fail "fake server ($mode) did not start"
	timeout 30 "$BIN/albm-bench" --url "http://127.0.0.1:$port" --clients 2 --step 2s \
		--mix 1K:100 --timeout "$tmo" --json "$TMP/$mode.json" --quiet 2>"$TMP/$mode.err"
	rc=$?
	kill "$pid" 2>/dev/null
	[ "$rc" -eq 0 ] || { cat "$TMP/$mode.err"; fail "$mode: albm-bench exited $rc"; }
}

# expect_errors MODE KIND [TIMEOUT]: no success, and every error is of KIND.
expect_errors() {
	run_against "$1" "${3:-}"
	pyjson "$TMP/$1.json" "
s = d['steps'][0]
assert s['requests'] == 0 and s['errors'] > 0, s
assert s['errors_by_kind']['$2'] == s['errors'], s['errors_by_kind']
" || fail "$1: expected only '$2' errors: $(cat "$TMP/$1.json")"
	echo "$1 -> $2 ok"
}

expect_errors short short
expect_errors length length
expect_errors garbage protocol
expect_errors chunked protocol
expect_errors hang timeout 300ms

# Nobody listening: connect errors, and the run still ends by itself.
P=$(free_port)
timeout 30 "$BIN/albm-bench" --url "http://127.0.0.1:$P" --clients 2 --step 1s --mix 1:100 \
	--json "$TMP/refused.json" --quiet 2>/dev/null || fail "refused: exit $?"
pyjson "$TMP/refused.json" "
s = d['steps'][0]
assert s['requests'] == 0 and s['errors_by_kind']['connect'] == s['errors'] > 0, s
assert s['responses'] == 0 and d['servers'] == [], d
" || fail "refused: $(cat "$TMP/refused.json")"
echo "refused -> connect ok"

# A correct answer without X-Server: a success, attributed to "unknown".
run_against noname
pyjson "$TMP/noname.json" "
s = d['steps'][0]
assert s['errors'] == 0 and s['requests'] > 0, s
assert s['servers']['unknown']['share'] == 100.0, s
" || fail "noname: $(cat "$TMP/noname.json")"
echo "bench errors: ok"
