#!/usr/bin/env bash
# ALBM: L7 health checks (issue 13 item 12) and the state-transition log (issue 13 item 9)
# - `health-check http PATH expect STATUS`: a server answering another status, or not
#   answering in time, goes down; when it answers the expected status again it is back;
# - behind `proxy-protocol v1|v2` the check sends the PROXY header first (the server
#   below refuses a connection without one), and without it the same server fails;
# - the transitions are logged at info: "up -> down (health check failed)", "-> up (back)".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 224 albmd albmctl albm-httpd

PA=$(free_port) PB=$(free_port) PP=$(free_port) PS=$(free_port)
V1=$(free_port) V2=$(free_port) V3=$(free_port) V4=$(free_port) V5=$(free_port)
start_httpd s1 "$PA"
echo 500 >"$TMP/status"

# PB: answers the status in $TMP/status.  PP: answers 200 only after a PROXY header (v1
# or v2), 400 without.  PS: accepts and never answers.
cat >"$TMP/servers.py" <<'PY'
import socket, socketserver, sys, threading, time
tmp, pb, pp, ps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"
def answer(h, code):
    h.request.sendall(b"HTTP/1.0 %d X\r\nContent-Length: 0\r\n\r\n" % code)
def read_head(h, first=b""):
    data = first
    while b"\r\n\r\n" not in data:
        c = h.request.recv(4096)
        if not c:
            return None
        data += c
    return data
class Status(socketserver.BaseRequestHandler):
    def handle(self):
        if read_head(self) is not None:
            answer(self, int(open(tmp + "/status").read()))
class Proxy(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while len(data) < 16:
            c = self.request.recv(4096)
            if not c:
                return
            data += c
        ok = False
        if data.startswith(b"PROXY TCP4 ") and b"\r\n" in data:
            data, ok = data.split(b"\r\n", 1)[1], True
        elif data.startswith(SIG2) and data[12] == 0x21 and data[13] == 0x11:
            n = 16 + int.from_bytes(data[14:16], "big")
            data, ok = data[n:], True
        if read_head(self, data) is not None:
            answer(self, 200 if ok else 400)
class Silent(socketserver.BaseRequestHandler):
    def handle(self):
        time.sleep(30)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
for port, h in ((pb, Status), (pp, Proxy), (ps, Silent)):
    threading.Thread(target=S(("127.0.0.1", port), h).serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
python3 "$TMP/servers.py" "$TMP" "$PB" "$PP" "$PS" >"$TMP/servers.log" 2>&1 &
track_pid $!
wait_port "$PB" && wait_port "$PP" && wait_port "$PS" || fail "test servers did not start"

hc="interval 200ms timeout 500ms rise 2 fall 2"
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$V1;
    scheduler rr;
    health-check http /status/200 expect 200 $hc;
    server s1 127.0.0.1:$PA;
    server s2 127.0.0.1:$PB;
    server s3 127.0.0.1:$PS;
}
service wants204 {
    listen 127.0.0.1:$V5;
    health-check http /status/200 expect 204 $hc;
    server s1 127.0.0.1:$PA;
}
service ppv1 {
    listen 127.0.0.1:$V2;
    proxy-protocol v1;
    health-check http /health host example.test $hc;
    server p1 127.0.0.1:$PP;
}
service ppv2 {
    listen 127.0.0.1:$V3;
    proxy-protocol v2;
    health-check http /health $hc;
    server p1 127.0.0.1:$PP;
}
service nopp {
    listen 127.0.0.1:$V4;
    health-check http /health $hc;
    server p1 127.0.0.1:$PP;
}
CONF
"$BIN/albmd" --check -f "$TMP/albmd.conf" >/dev/null || fail "--check"
start_albmd "$TMP/albmd.conf"

state() { # SERVICE SERVER -> up / down ...
	ctl list --json | python3 -c "import json, sys
for s in json.load(sys.stdin)['services']:
    for v in s['servers']:
        if s['name'] == sys.argv[1] and v['name'] == sys.argv[2]:
            print(v['state'], v['health'])" "$1" "$2"
}
is_state() { [ "$(state "$1" "$2")" = "$3" ]; }

wait_until 10 is_state web s2 "down down" || fail "s2 (status 500) not down: $(state web s2)"
wait_until 10 is_state web s3 "down down" || fail "s3 (silent) not down: $(state web s3)"
is_state web s1 "up up" || fail "s1 (status 200) not up: $(state web s1)"
wait_until 10 is_state wants204 s1 "down down" || fail "expect 204 against a 200 server: $(state wants204 s1)"
is_state ppv1 p1 "up up" || fail "PROXY v1 check failed: $(state ppv1 p1)"
is_state ppv2 p1 "up up" || fail "PROXY v2 check failed: $(state ppv2 p1)"
wait_until 10 is_state nopp p1 "down down" || fail "a PROXY server passed without the header"
# traffic goes to s1 only while the others are down
[ "$(sequence 4 "$V1")" = "s1 s1 s1 s1" ] || fail "traffic reached a failed server"
# the health-check counter in /metrics-land
ctl list --json | python3 -c "import json, sys
v = {x['name']: x for x in json.load(sys.stdin)['services'][0]['servers']}
assert v['s2']['health_check_failures'] >= 2 and v['s1']['health_check_failures'] == 0, v" ||
	fail "health_check_failures"

echo 200 >"$TMP/status"
wait_until 10 is_state web s2 "up up" || fail "s2 not back after answering 200: $(state web s2)"
grep -q "server 's2' up -> down (health check failed)" "$TMP/albmd.log" ||
	fail "no transition line for s2 going down"
wait_until 5 grep -q "server 's2' down (health check failed) -> up (back)" "$TMP/albmd.log" ||
	fail "no transition line for s2 coming back"

# rate limit: a flapping server gets at most 5 transition lines per 10 s window, then a
# summary.  24 transitions: the loop takes ~7 s, longer on a loaded machine, so the bound
# counts the windows the loop actually spanned
t0=$(date +%s)
for _ in $(seq 1 12); do
	ctl disable web s1 >/dev/null
	sleep 0.3 # the log looks every 100 ms
	ctl enable web s1 >/dev/null
	sleep 0.3
done
windows=$((($(date +%s) - t0) / 10 + 2))
n=$(grep -c "service 'web': server 's1' .*->" "$TMP/albmd.log")
[ "$n" -ge 2 ] && [ "$n" -le $((5 * windows)) ] && [ "$n" -lt 24 ] ||
	{ grep "server 's1'" "$TMP/albmd.log"; fail "s1 flapping logged $n transition lines in $windows windows"; }
# the summary names the state at the end of its window (up or disabled) and the count
wait_until 15 grep -qE "service 'web': server 's1' is (up|disabled) \([0-9]+ transition\(s\) not logged\)" "$TMP/albmd.log" ||
	{ grep "server 's1'" "$TMP/albmd.log"; fail "no summary line after suppressed transitions"; }
echo "ok: HTTP checks (status, timeout, PROXY v1/v2), transitions logged and rate-limited"
