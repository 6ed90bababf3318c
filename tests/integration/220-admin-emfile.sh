#!/usr/bin/env bash
# ALBM: the control socket and the admin HTTP listener under descriptor exhaustion
# (issue 11 item 2) — with a low `ulimit -n` and connections pending on both listeners,
# albmd must not spin (its CPU, read from /proc/PID/stat over 2 s, stays low), must
# count the failures by cause and log them rate-limited, and must accept again once
# descriptors are free.  Also: the control socket path is unlinked only when it is a
# socket (issue 11 item 7).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 220 albmd albmctl albm-httpd

PA=$(free_port) VIP=$(free_port) HTTP=$(free_port)
start_httpd s1 "$PA"
cat >"$TMP/albmd.conf" <<CONF
control {
    socket $TMP/albmd.sock;
    http 127.0.0.1:$HTTP;
}
service web {
    listen 127.0.0.1:$VIP;
    server s1 127.0.0.1:$PA;
}
CONF

# ---- item 7: a file at the socket path is not ours to delete
echo "precious" >"$TMP/file.sock"
sed "s|$TMP/albmd.sock|$TMP/file.sock|" "$TMP/albmd.conf" >"$TMP/bad.conf"
out=$(timeout 5 "$BIN/albmd" -f "$TMP/bad.conf" 2>&1) && fail "albmd started over a regular file: $out"
grep -q "not a socket" <<<"$out" || fail "no clear error: $out"
[ "$(cat "$TMP/file.sock")" = precious ] || fail "the file at the socket path was changed"
mkdir "$TMP/dir.sock"
sed "s|$TMP/albmd.sock|$TMP/dir.sock|" "$TMP/albmd.conf" >"$TMP/bad2.conf"
timeout 5 "$BIN/albmd" -f "$TMP/bad2.conf" >/dev/null 2>&1 && fail "albmd started over a directory"
[ -d "$TMP/dir.sock" ] || fail "the directory at the socket path is gone"
# a stale socket (a crashed albmd's) is replaced
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$TMP/albmd.sock"
[ -S "$TMP/albmd.sock" ] || fail "no stale socket made"

# ---- albmd with 64 descriptors
(ulimit -n 64 && exec "$BIN/albmd" -f "$TMP/albmd.conf" --log-level info) >>"$TMP/albmd.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
# shellcheck disable=SC2034 # read by the sourced test library
ALBMD_SOCK=$TMP/albmd.sock
wait_until 10 ctl ping || { cat "$TMP/albmd.log"; fail "albmd did not start"; }

# Fill albmd's descriptor table with idle control clients, then leave one control
# and one HTTP connection pending in the backlogs; measure albmd's CPU meanwhile.
python3 - "$ALBMD_PID" "$TMP/albmd.sock" "$HTTP" >"$TMP/cpu.out" 2>&1 <<'PY' || { cat "$TMP/cpu.out"; fail "exhaustion run"; }
import os, socket, sys, time
pid, path, http = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def nfds():
    return len(os.listdir(f"/proc/{pid}/fd"))
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
held = []
deadline = time.time() + 30
while nfds() < 64 and time.time() < deadline:
    before = nfds()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    held.append(s)
    t = time.time() + 3  # albmd accepts it: one more descriptor
    while nfds() <= before and time.time() < t:
        time.sleep(0.005)
assert nfds() >= 64, f"albmd holds {nfds()} descriptors, expected 64"
# pending ones: albmd cannot accept them (EMFILE)
pc = socket.socket(socket.AF_UNIX); pc.setblocking(False)
try:
    pc.connect(path)
except BlockingIOError:
    pass
ph = socket.create_connection(("127.0.0.1", http))
ph.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
time.sleep(0.3)
c0, t0 = cpu(), time.time()
time.sleep(2.0)
c1, t1 = cpu(), time.time()
share = (c1 - c0) / (t1 - t0)
print(f"albmd CPU while exhausted: {share * 100:.1f} % of a core over {t1 - t0:.1f} s")
assert share < 0.20, f"albmd busy-loops under EMFILE: {share * 100:.0f} % of a core"
# free the descriptors: the pending scrape must be answered now
for s in held:
    s.close()
ph.settimeout(5)
data = b""
while True:
    c = ph.recv(65536)
    if not c:
        break
    data += c
assert data.startswith(b"HTTP/1.0 200"), data[:80]
print("pending scrape answered once descriptors were free")
PY
cat "$TMP/cpu.out"
wait_until 10 ctl ping || fail "the control socket does not accept again"
ctl stats --json >"$TMP/stats.json" || fail "stats"
pyjson "$TMP/stats.json" '
c, h = d["control_accept_errors"], d["http_accept_errors"]
assert c["emfile"] > 0, c
assert h["emfile"] > 0, h
# paused, not spinning: a few retries a second, not thousands
assert c["emfile"] < 200 and h["emfile"] < 200, (c, h)
' || fail "accept errors not counted by cause: $(cat "$TMP/stats.json")"
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics"
grep -Eq '^albm_listener_accept_errors_total\{listener="control",reason="emfile"\} [1-9]' "$TMP/metrics" ||
	fail "/metrics lacks the control listener's emfile count"
n=$(grep -c "accept4: Too many open files" "$TMP/albmd.log")
[ "$n" -ge 1 ] && [ "$n" -le 12 ] || fail "accept4 EMFILE logged $n times (want rate-limited, >= 1)"
grep -q "accepting paused" "$TMP/albmd.log" || fail "no 'accepting paused' in the log"

# ---- a clean stop removes its own socket
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
[ -e "$TMP/albmd.sock" ] && fail "albmd left its socket behind"
echo "ok: no busy loop under EMFILE (control and HTTP), counted by cause, rate-limited log, socket path safe"
