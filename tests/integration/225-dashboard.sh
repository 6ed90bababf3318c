#!/usr/bin/env bash
# ALBM: the live dashboard in a real browser (issue 13 item 10) — albmd with agents
# reporting and some traffic; headless Debian chromium loads GET / and the test reads
# what the page rendered (--dump-dom after a virtual-time budget): the servers' names
# in its tables and charts that drew data points (the page writes the counts into the
# DOM once drawn), not just the HTML source.  Without the chart library the page says
# so and still shows the tables.  Skips when chromium is not installed.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 225 albmd albmctl albm-httpd tools/send_report
CHROMIUM=$(command -v chromium || command -v chromium-browser) || skip "chromium not installed"
CHART_JS=/usr/share/javascript/chart.js/chart.min.js
[ -r "$CHART_JS" ] || skip "libjs-chart.js not installed ($CHART_JS)"

PA=$(free_port) PB=$(free_port) VIP=$(free_port) HTTP=$(free_port) AG=$(free_udp_port)
start_httpd s1 "$PA"
start_httpd s2 "$PB"
make_key "$TMP/agent.key"
cat >"$TMP/albmd.conf" <<CONF
agents {
    listen 127.0.0.1:$AG;
    key-file $TMP/agent.key;
    timeout 5s;
}
control {
    socket $TMP/albmd.sock;
    http 127.0.0.1:$HTTP;
    chart-js $CHART_JS;
}
service web {
    listen 127.0.0.1:$VIP;
    scheduler albm;
    server s1 127.0.0.1:$PA;
    server s2 127.0.0.1:$PB;
}
CONF
start_albmd "$TMP/albmd.conf"
G=$((1 << 30))
"$BIN/tools/send_report" --to "127.0.0.1:$AG" --key-file "$TMP/agent.key" --name s1 \
	--count 60 --interval-ms 100 --mem-total $((8 * G)) --mem-avail $((6 * G)) --cpu 0.3 >/dev/null &
track_pid $!
"$BIN/tools/send_report" --to "127.0.0.1:$AG" --key-file "$TMP/agent.key" --name s2 \
	--count 60 --interval-ms 100 --mem-total $((8 * G)) --mem-avail $((2 * G)) --cpu 0.7 >/dev/null &
track_pid $!
for _ in $(seq 1 20); do who "$VIP" >/dev/null; done
samples() { curl -s --max-time 5 "http://127.0.0.1:$HTTP/api/history" | python3 -c "import json, sys
h = json.load(sys.stdin)
s = h['services'][0]['servers']
print(sum(1 for x in s[0]['mem_available_pct'] if x is not None))"; }
enough_samples() { [ "$(samples)" -ge 3 ]; }
wait_until 20 enough_samples || { curl -s "http://127.0.0.1:$HTTP/api/history" | head -c 1500; tail -5 "$TMP/albmd.log"; fail "fewer than 3 samples with an agent report in /api/history"; }

render() { # OUT: the DOM chromium rendered
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" --virtual-time-budget=6000 \
		--dump-dom "http://127.0.0.1:$HTTP/" >"$1" 2>>"$TMP/chromium.log" ||
		fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
}
render "$TMP/dom.html"
python3 - "$TMP/dom.html" <<'PY' || fail "the dashboard did not render the servers and charts"
import re, sys
dom = open(sys.argv[1]).read()
body = re.search(r"<body([^>]*)>", dom).group(1)
attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', body))
assert attrs.get("data-ready") == "1", attrs
assert int(attrs["data-charts"]) >= 6, attrs
assert int(attrs["data-points"]) > 0, attrs
for name in ("s1", "s2"):
    assert f'data-server="{name}"' in dom, f"no table row for {name}"
# every per-server chart drew points of both servers (5 charts, 2 servers, >= 3 samples)
charts = re.findall(r'<div class="chart" data-points="(\d+)"><h3>([^<]*)</h3>', dom)
got = {t: int(n) for n, t in charts}
assert got.get("Available memory (%)", 0) >= 6, got
assert got.get("CPU (%)", 0) >= 6, got
assert got.get("Active connections", 0) >= 6, got
assert 'id="nochart" class="note" hidden' in dom, "the no-chart note is shown"
print("rendered:", attrs, got)
PY

# ---- the chart library missing: tables only, and a note that says so
sed -i "s|chart-js $CHART_JS;|chart-js $TMP/missing.js;|" "$TMP/albmd.conf"
ctl reload >/dev/null || fail "reload"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/chart.js")" = 404 ] ||
	fail "/chart.js served from a missing file"
render "$TMP/dom2.html"
python3 - "$TMP/dom2.html" <<'PY' || fail "the dashboard without its chart library"
import re, sys
dom = open(sys.argv[1]).read()
body = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', re.search(r"<body([^>]*)>", dom).group(1)))
assert body.get("data-ready") == "1" and body["data-charts"] == "0", body
assert re.search(r'<div id="nochart" class="note">', dom), "no note about the missing library"
assert 'data-server="s1"' in dom and 'data-server="s2"' in dom, "no tables"
PY
echo "ok: the dashboard renders servers and charts with data in chromium; degrades to tables"
