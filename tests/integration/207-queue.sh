#!/usr/bin/env bash
# ALBM: albmd's connection queue (HAProxy's `timeout queue`) — a client for whom every
# server is full waits and is served when one frees (FIFO), is closed after
# queue-timeout (counted), leaves the queue when it hangs up, is refused beyond
# queue-max; with no live server (drained) it is closed at once; a reload that removes
# the service closes its waiting clients; SIGTERM serves them before exiting.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 207 albmd albmctl

# A slow backend: reads one request line, holds it HOLD seconds, then answers
# "<request> <connections it was holding> " + 100000 x and closes.
cat >"$TMP/slow.py" <<'PY'
import socket, sys, threading, time
port, hold = int(sys.argv[1]), float(sys.argv[2])
lock = threading.Lock()
active = 0
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64)
def serve(c):
    global active
    counted = False
    try:
        req = b""
        while not req.endswith(b"\n"):
            b = c.recv(100)
            if not b:
                return
            req += b
        with lock:
            active += 1
            counted, now = True, active
        time.sleep(hold)
        c.sendall(req.strip() + b" %d " % now + b"x" * 100000)
    except OSError:
        pass
    finally:
        if counted:
            with lock:
                active -= 1
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# Client helpers shared by the scenarios below (imported as "q").
cat >"$TMP/q.py" <<'PY'
import json, os, socket, struct, subprocess, threading, time
CTL = [os.environ["BIN"] + "/albmctl", "-s", os.environ["ALBMD_SOCK"]]

def svc(name):
    out = subprocess.check_output(CTL + ["list", "--json"], timeout=10)
    for s in json.loads(out)["services"]:
        if s["name"] == name:
            return s
    return None

def wait_for(what, cond, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)

class Client:
    """One connection that sends "GET tag\\n" (optionally half-closing) and reads
    until the end in a thread; .data, .err and .closed_at when done."""
    def __init__(self, port, tag, halfclose=False, send=True):
        self.tag, self.data, self.err, self.closed_at = tag, b"", None, None
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if send:
            self.s.sendall(b"GET %s\n" % tag.encode())
        if halfclose:
            self.s.shutdown(socket.SHUT_WR)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
    def _read(self):
        try:
            while True:
                b = self.s.recv(65536)
                if not b:
                    break
                self.data += b
        except OSError as e:
            self.err = e
        self.closed_at = time.time()
    def hangup(self, reset=False):
        """Close: a FIN, or with reset an RST (SO_LINGER 0)."""
        # a blocked recv() keeps the socket alive through close(): wake the reader first
        self.s.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
        self.t.join(10)
        if reset:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()
    def done(self):
        return self.closed_at is not None
    def join(self, secs=30):
        self.t.join(secs)
        assert self.done(), self.tag + ": still open"
        self.s.close()
        return self
    def full(self):
        """The whole answer arrived; returns how many connections the backend held."""
        prefix = b"GET %s " % self.tag.encode()
        assert self.data.startswith(prefix), (self.tag, self.data[:40], self.err)
        held, _, body = self.data[len(prefix):].partition(b" ")
        assert body == b"x" * 100000, (self.tag, len(body))
        return int(held)
    def refused(self):
        """Closed without a byte of answer."""
        assert self.data == b"", (self.tag, self.data[:40])
PY

P1=$(free_port) P2=$(free_port) P3=$(free_port)
VQ=$(free_port) VT=$(free_port) VW=$(free_port) VO=$(free_port) PH=$(free_port)
python3 "$TMP/slow.py" "$P1" 2 & track_pid $!
python3 "$TMP/slow.py" "$P2" 2 & track_pid $!
python3 "$TMP/slow.py" "$P3" 4 & track_pid $!
wait_port "$P1" 10 && wait_port "$P2" 10 && wait_port "$P3" 10 || fail "backends did not start"
conf() { # $1 = include the service "w"
	cat <<CONF
workers 2;
control { socket $TMP/albmd.sock; http $PH; }
drain-timeout 20s;
service q {
    listen 127.0.0.1:$VQ;
    scheduler wlc;
    queue-timeout 30s;
    server s 127.0.0.1:$P1 maxconn 1;
}
service t {
    listen 127.0.0.1:$VT;
    scheduler wlc;
    queue-timeout 300ms;
    server s 127.0.0.1:$P2 maxconn 1;
}
service off {
    listen 127.0.0.1:$VO;
    scheduler rr;
    queue-timeout $([ "$1" = yes ] && echo off || echo 200ms);
    server s 127.0.0.1:$P2 maxconn 1;
}
CONF
	[ "$1" = yes ] && cat <<CONF
service w {
    listen 127.0.0.1:$VW;
    scheduler wlc;
    queue-timeout 60s;
    queue-max 1;
    server s 127.0.0.1:$P3 maxconn 1;
}
CONF
}
conf yes >"$TMP/albmd.conf"
start_albmd "$TMP/albmd.conf"
conf no >"$TMP/albmd.conf" # read by the reload below: "w" removed, "off" queues
albmd_conf_data_path "$TMP/albmd.conf" # ALBM_DATA_PATH (tests/run.sh), if set
export BIN ALBMD_SOCK PYTHONPATH=$TMP
PORTS=("$VQ" "$VT" "$VW" "$VO")

# ---- two clients, one server slot: the second waits (its request half-closed behind
# it) and is served after the first; the backend never holds two at once
python3 - "${PORTS[@]}" <<'PY' || fail "queued client not served"
import sys, time
from q import *
vq = int(sys.argv[1])
c1 = Client(vq, "one")
wait_for("c1 at the server", lambda: svc("q")["servers"][0]["active_conns"] == 1)
c2 = Client(vq, "two", halfclose=True)
wait_for("c2 queued", lambda: svc("q")["queued"] == 1)
c1.join(); c2.join()
assert c1.full() == 1 and c2.full() == 1, "backend held two connections at once"
assert c2.closed_at >= c1.closed_at, "the queued client finished first"
s = svc("q")
assert s["queued_total"] >= 1 and s["queued"] == 0 and s["queue_timeouts"] == 0, s
assert s["no_server"] == 0 and s["total_conns"] == 2, s
PY

# ---- queue-timeout 300ms, the slot held 2 s: the second client is closed, counted once
python3 - "${PORTS[@]}" <<'PY' || fail "queue timeout"
import sys
from q import *
vt = int(sys.argv[2])
c1 = Client(vt, "one")
wait_for("c1 at the server", lambda: svc("t")["servers"][0]["active_conns"] == 1)
c2 = Client(vt, "two")
c2.join(10)
assert not c1.done(), "c2 was not closed while c1 held the server"
c2.refused()
c1.join()
assert c1.full() == 1
s = svc("t")
assert s["queue_timeouts"] == 1 and s["queued_total"] == 1 and s["queued"] == 0, s
PY
grep -q "service 't': client .* waited [0-9]* ms without a free server (queue-timeout): closed" \
	"$TMP/albmd.log" || fail "queue timeout not logged"

# ---- queue-timeout off: the old behaviour, closed at once and counted as no_server
python3 - "${PORTS[@]}" <<'PY' || fail "queue-timeout off"
import sys
from q import *
vo = int(sys.argv[4])
c1 = Client(vo, "one")
wait_for("c1 at the server", lambda: svc("off")["servers"][0]["active_conns"] == 1)
c2 = Client(vo, "two")
c2.join(10)
assert not c1.done(), "c2 was not closed at once"
c2.refused()
c1.join(); c1.full()
s = svc("off")
assert s["no_server"] == 1 and s["queued_total"] == 0, s
PY

# ---- a waiting client that hangs up leaves the queue; queue-max 1 refuses a third;
# a reload that removes the service closes the waiting client, not the served one
python3 - "${PORTS[@]}" <<'PY' || fail "hang-up / queue-max"
import sys
from q import *
vw = int(sys.argv[3])
c1 = Client(vw, "one")
wait_for("c1 at the server", lambda: svc("w")["servers"][0]["active_conns"] == 1)
c2 = Client(vw, "two")
wait_for("c2 queued", lambda: svc("w")["queued"] == 1)
c3 = Client(vw, "three")         # queue-max 1: refused at once
c3.join(10); c3.refused()
c2.hangup(reset=True)            # hang up while waiting: a reset ...
wait_for("c2 gone", lambda: svc("w")["queued"] == 0 and svc("w")["active_conns"] == 1)
c2 = Client(vw, "two-b", send=False)
wait_for("c2-b queued", lambda: svc("w")["queued"] == 1)
c2.hangup()                      # ... or a FIN with no request sent
wait_for("c2-b gone", lambda: svc("w")["queued"] == 0 and svc("w")["active_conns"] == 1)
assert not c1.done()
s = svc("w")
assert s["queued_total"] == 2 and s["refused"] == 1 and s["queue_timeouts"] == 0, s
c4 = Client(vw, "four")          # waits again, then a reload removes the service
wait_for("c4 queued", lambda: svc("w")["queued"] == 1)
subprocess.check_call(CTL + ["reload"], stdout=subprocess.DEVNULL, timeout=10)
c4.join(10); c4.refused()
assert svc("w") is None
assert not c1.done(), "the served connection was closed by the reload"
c1.join(); assert c1.full() == 1
PY

# ---- the only server drained: no live server, so a client is closed at once (the
# service's queue-timeout is 30 s)
ctl drain q s >/dev/null || fail "drain"
python3 - "${PORTS[@]}" <<'PY' || fail "drained server"
import sys
from q import *
c = Client(int(sys.argv[1]), "drained").join(10)
c.refused()
s = svc("q")
assert s["no_server"] == 1 and s["queued"] == 0 and s["queued_total"] == 1, s
PY
ctl enable q s >/dev/null || fail "enable"

# ---- the reload turned the queue of "off" on (queue-timeout 200ms)
python3 - "${PORTS[@]}" <<'PY' || fail "queue-timeout changed by the reload"
import sys
from q import *
vo = int(sys.argv[4])
c1 = Client(vo, "one")
wait_for("c1 at the server", lambda: svc("off")["servers"][0]["active_conns"] == 1)
c2 = Client(vo, "two")
c2.join(10); c2.refused()
assert not c1.done()
c1.join(); c1.full()
s = svc("off")
assert s["no_server"] == 1 and s["queued_total"] == 1 and s["queue_timeouts"] == 1, s
PY

# ---- the table and /metrics show the counters
ctl list | grep -q "^t .*queued 0 (total 1, timeouts 1)" || fail "list: $(ctl list)"
curl -s --max-time 5 "http://127.0.0.1:$PH/metrics" >"$TMP/metrics" || fail "GET /metrics"
for m in 'albm_service_queued{service="q",scheduler="wlc"} 0' \
	'albm_service_queued_total{service="q",scheduler="wlc"} 1' \
	'albm_service_queue_timeouts_total{service="t",scheduler="wlc"} 1' \
	'albm_service_refused_total{service="off",scheduler="rr"} 0'; do
	grep -qxF "$m" "$TMP/metrics" || fail "metrics: no '$m': $(grep queue "$TMP/metrics")"
done

# ---- SIGTERM: the waiting client is still served during the drain, then albmd exits
export ALBMD_PID
python3 - "${PORTS[@]}" <<'PY' &
import os, signal, sys
from q import *
vq = int(sys.argv[1])
c1 = Client(vq, "one")
wait_for("c1 at the server", lambda: svc("q")["servers"][0]["active_conns"] == 1)
c2 = Client(vq, "two")
wait_for("c2 queued", lambda: svc("q")["queued"] == 1)
os.kill(int(os.environ["ALBMD_PID"]), signal.SIGTERM)
c1.join(); c2.join()
assert c1.full() == 1 and c2.full() == 1
PY
DRAIN=$!
wait "$DRAIN" || fail "queued client not served during the SIGTERM drain"
wait_until 10 sh -c "! kill -0 $ALBMD_PID 2>/dev/null" || fail "albmd did not exit after the drain"
wait "$ALBMD_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "albmd exit status $rc"
echo "ok: queued clients served in order, queue-timeout, hang-up, queue-max, drained, reload, SIGTERM"
