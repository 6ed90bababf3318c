#!/usr/bin/env bash
# ALBM: make docs/dashboard.png — albmd's live dashboard after a short scenario on loopback
#
#   scripts/dashboard-screenshot.sh [OUT.png] [SECONDS]
#
# Three albm-httpd servers behind albmd (scheduler albm), simulated agents whose available
# memory and CPU drift (s3 runs out of memory half-way and reports overload, then
# recovers), a client loop for traffic; then headless chromium takes the screenshot.
# Needs: make bins, chromium, libjs-chart.js.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/dashboard.png}
SECS=${2:-90}
BIN=${BUILD:-build}
TMP=$(mktemp -d /tmp/albm-shot.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
P1=$(port) P2=$(port) P3=$(port) VIP=$(port) HTTP=$(port) AG=$(port)
for i in 1 2 3; do
	eval "p=\$P$i"
	"$BIN/albm-httpd" --listen "127.0.0.1:$p" --name "s$i" >/dev/null 2>&1 &
	PIDS+=($!)
done
"$BIN/albm-agent" --gen-key "$TMP/key" >/dev/null
cat >"$TMP/albmd.conf" <<CONF
agents { listen 127.0.0.1:$AG; key-file $TMP/key; timeout 3s; }
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler albm;
    server s1 127.0.0.1:$P1 weight 2;
    server s2 127.0.0.1:$P2;
    server s3 127.0.0.1:$P3;
}
CONF
"$BIN/albmd" -f "$TMP/albmd.conf" >"$TMP/albmd.log" 2>&1 &
PIDS+=($!)
sleep 1
# agents: one report per server a second, memory and CPU drifting with the load
python3 - "$BIN/tools/send_report" "$AG" "$TMP/key" "$((SECS + 30))" <<'PY' &
import math, subprocess, sys, time
tool, ag, key, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
G = 1 << 30
t0 = time.time()
seq = {n: 0 for n in ("s1", "s2", "s3")}
while time.time() - t0 < secs:
    t = time.time() - t0
    for i, n in enumerate(("s1", "s2", "s3")):
        avail = 0.6 - 0.15 * math.sin(t / 12 + i) - 0.05 * i
        state = "ok"
        if n == "s3" and secs * 0.35 < t < secs * 0.55:
            avail, state = 0.04, "overloaded"
        cpu = min(0.95, 0.25 + 0.2 * math.sin(t / 9 + 2 * i) + 0.1 * i)
        seq[n] += 1
        subprocess.run([tool, "--to", "127.0.0.1:" + ag, "--key-file", key, "--name", n,
                        "--boot-id", str(100 + i), "--seq", str(seq[n] - 1),
                        "--mem-total", str(8 * G), "--mem-avail", str(int(avail * 8 * G)),
                        "--cpu", "%.3f" % cpu, "--state", state], check=True)
    time.sleep(1)
PY
PIDS+=($!)
# traffic: 6 concurrent clients at a varying rate (bounded: SECS + 30 s)
python3 - "$VIP" "$((SECS + 30))" <<'PY' &
import math, socket, sys, threading, time
vip, secs = int(sys.argv[1]), int(sys.argv[2])
t0 = time.time()
def client(k):
    while time.time() - t0 < secs:
        t = time.time() - t0
        try:
            s = socket.create_connection(("127.0.0.1", vip), timeout=2)
            s.sendall(b"GET /bytes/200K HTTP/1.0\r\n\r\n")
            while s.recv(65536):
                pass
            s.close()
        except OSError:
            pass
        time.sleep(0.02 + 0.03 * (1 + math.sin(t / 10 + k)))
threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
for th in threads:
    th.start()
for th in threads:
    th.join()
PY
PIDS+=($!)
sleep "$SECS"
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$TMP/chrome" \
	--hide-scrollbars --window-size=1400,1500 --virtual-time-budget=4000 \
	--screenshot="$(realpath -m "$OUT")" "http://127.0.0.1:$HTTP/" 2>/dev/null
echo "wrote $OUT"
