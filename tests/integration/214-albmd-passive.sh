#!/usr/bin/env bash
# ALBM: albmd's passive latency figures, measured on real connections (issue 15 item 3):
# a server whose answer takes a known CPU time (albm-httpd --cpu-per-mb: the head goes out
# only after the body is computed) has a time to the first byte (TTFB) of at least that
# CPU time and at most what the client itself saw; a fast server's TTFB is a fraction of
# it; connect and duration are measured per connection; a refused connect and a server
# that hangs up unanswered count as errors; list --json and /metrics show the figures.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 210 albmd albmctl albm-httpd

SLOW_MS=400 # CPU per request of the slow server (1 MiB at --cpu-per-mb 400ms)
PS=$(free_port) PF=$(free_port) PX=$(free_port) PC=$(free_port) VIP=$(free_port) \
	VBAD=$(free_port) HTTP=$(free_port)
start_httpd slow "$PS" --cpu-per-mb "${SLOW_MS}ms"
start_httpd fast "$PF" --cpu-per-mb 0
# a server that accepts, reads the request and closes without answering
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(4096); c.close()' "$PC" &
track_pid $!
wait_port "$PC" 10 || fail "closer did not listen"
# PX: nothing listens there (connect refused)
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler rr;
    server slow 127.0.0.1:$PS;
    server fast 127.0.0.1:$PF;
}
service bad {
    listen 127.0.0.1:$VBAD;
    scheduler rr;
    retries 0;
    max-fails 0;
    server refuser 127.0.0.1:$PX;
    server closer 127.0.0.1:$PC;
}
CONF
start_albmd "$TMP/albmd.conf"

# a server's field (SERVICE SERVER KEY [SUBKEY]) in list --json
srv_field() {
	ctl list --json | python3 -c "import json,sys
svc = [s for s in json.load(sys.stdin)['services'] if s['name'] == sys.argv[1]][0]
v = [s for s in svc['servers'] if s['name'] == sys.argv[2]][0][sys.argv[3]]
print(v[sys.argv[4]] if len(sys.argv) > 4 else v)" "$@"
}
at_least() { [ "$(srv_field "$1" "$2" "$3" "$4")" -ge "$5" ]; }

# ---- 6 requests, rr: 3 to each server; the client's own time to the first byte
max_client_ms=0
for i in 1 2 3 4 5 6; do
	out=$(curl -s -o /dev/null --max-time 30 -w '%{http_code} %header{x-server} %{time_starttransfer}' \
		"http://127.0.0.1:$VIP/bytes/1M") || fail "request $i failed"
	read -r code server t <<<"$out"
	[ "$code" = 200 ] || fail "request $i: status $code"
	if [ "$server" = slow ]; then
		ms=$(python3 -c "print(int(float('$t') * 1000 + 1))")
		[ "$ms" -gt "$max_client_ms" ] && max_client_ms=$ms
	fi
done
[ "$max_client_ms" -gt 0 ] || fail "no request reached the slow server"
wait_until 5 at_least web slow passive_samples ttfb 3 && wait_until 5 at_least web fast passive_samples ttfb 3 &&
	wait_until 5 at_least web slow passive_samples duration 3 ||
	fail "figures not published: $(ctl list --json)"

python3 - "$SLOW_MS" "$max_client_ms" <<PY || fail "passive figures out of range: $(ctl list --json)"
import json, subprocess, sys
slow_ms, client_ms = int(sys.argv[1]), int(sys.argv[2])
st = json.loads(subprocess.check_output(["$BIN/albmctl", "-s", "$TMP/albmd.sock", "list", "--json"]))
web = [s for s in st["services"] if s["name"] == "web"][0]
srv = {s["name"]: s for s in web["servers"]}
slow, fast = srv["slow"], srv["fast"]
for s in (slow, fast):
    assert s["passive_samples"] == {"connect": 3, "ttfb": 3, "duration": 3}, s["passive_samples"]
    assert s["passive_errors"] == 0, s
    # a loopback connect: far below any answer
    assert 0 <= s["connect_ms"]["ewma"] < s["ttfb_ms"]["ewma"] + 1, s
    # a connection lasts at least until its first byte
    assert s["duration_ms"]["ewma"] >= s["ttfb_ms"]["ewma"] - 1, s
    assert s["ttfb_ms"]["p90"] >= s["ttfb_ms"]["ewma"] * 0.5, s
# the slow server computes SLOW_MS of CPU before its first byte: albmd's TTFB is at least
# that, and no more than the client's own time to the first byte (which also includes
# the client's connect to albmd and albmd's to the server)
for k in ("ewma", "p90"):
    v = slow["ttfb_ms"][k]
    assert slow_ms <= v <= client_ms, (k, v, slow_ms, client_ms)
# the fast one answers the same request with no computation
assert fast["ttfb_ms"]["ewma"] < slow["ttfb_ms"]["ewma"] / 4, (fast["ttfb_ms"], slow["ttfb_ms"])
print("slow ttfb", slow["ttfb_ms"], "fast ttfb", fast["ttfb_ms"], "client", client_ms)
PY
echo "ok: TTFB of the slow server >= its ${SLOW_MS} ms of CPU and <= the client's ${max_client_ms} ms; fast < 1/4 of it"

# ---- errors: a refused connect, a server that closes unanswered
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$VBAD/bytes/10" # refuser (rr: first)
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$VBAD/bytes/10" # closer
wait_until 5 eval '[ "$(srv_field bad refuser passive_errors)" -ge 1 ] && [ "$(srv_field bad closer passive_errors)" -ge 1 ]' ||
	fail "errors not counted: $(ctl list --json)"
[ "$(srv_field web slow passive_errors)" = 0 ] || fail "the slow server has errors"
echo "ok: a refused connect and an unanswered close count as passive errors"

# ---- /metrics
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics" || fail "GET /metrics"
python3 - "$SLOW_MS" "$TMP/metrics" <<'PY' || { grep passive "$TMP/metrics"; fail "/metrics"; }
import re, sys
slow_ms, text = int(sys.argv[1]), open(sys.argv[2]).read()
def val(name, labels):
    m = re.search(r'^%s\{%s\} (\S+)$' % (re.escape(name), re.escape(labels)), text, re.M)
    assert m, (name, labels)
    return float(m.group(1))
assert val("albm_server_ttfb_seconds", 'service="web",server="slow",stat="ewma"') >= slow_ms / 1000
assert val("albm_server_ttfb_seconds", 'service="web",server="slow",stat="p90"') >= slow_ms / 1000
assert val("albm_server_connect_seconds", 'service="web",server="fast",stat="ewma"') >= 0
assert val("albm_server_duration_seconds", 'service="web",server="fast",stat="p90"') > 0
assert val("albm_server_passive_samples_total", 'service="web",server="slow",figure="ttfb"') == 3
assert val("albm_server_passive_errors_total", 'service="bad",server="closer"') >= 1
# never measured: no sample of the latency families
assert not re.search(r'^albm_server_ttfb_seconds\{service="bad",server="refuser"', text, re.M)
PY
echo "ok: /metrics has the passive families"
