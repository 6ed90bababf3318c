#!/usr/bin/env python3
"""ALBM test tool: long HTTP downloads read at a set pace, to see which flows a fault breaks.

  fault_flows.py HOST PORT N [--path P] [--rate BYTES/S] [--timeout S] [--ready FILE]

Opens N connections at once, sends a GET on each, reads the response headers (the
X-Server header names the server), writes "ready" to FILE once every flow has its
headers, then reads each body at RATE bytes/s.  At the end it prints one line per flow:

  flow I server=NAME want=N got=N end=complete|short-eof|reset|timeout|error

and a summary line "flows N complete C lost L by_server NAME:lost/total,...".
A flow is lost when its body ended short (a FIN before Content-Length), by a reset, or
did not finish within --timeout.
"""
import argparse
import socket
import sys
import time


class Flow:
    def __init__(self, i, s):
        self.i, self.s = i, s
        self.head = b""
        self.server = "?"
        self.want = -1
        self.got = 0
        self.end = None
        self.budget = 0.0


def parse_head(f):
    head, _, rest = f.head.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"x-server":
            f.server = v.strip().decode()
        elif k == b"content-length":
            f.want = int(v.strip())
    f.got = len(rest)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--path", default="/bytes/20M")
    p.add_argument("--rate", type=float, default=4e6)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--ready", default="")
    a = p.parse_args()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    flows = []
    for i in range(a.n):
        s = socket.socket(fam)
        s.settimeout(5)
        try:
            s.connect((a.host, a.port))
            s.sendall(f"GET {a.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        except OSError:
            f = Flow(i, None)
            f.end = "error"
            flows.append(f)
            continue
        s.setblocking(False)
        flows.append(Flow(i, s))
    ready_written = False
    deadline = time.time() + a.timeout
    last = time.time()
    while time.time() < deadline and any(f.end is None for f in flows):
        now = time.time()
        for f in flows:  # each flow may read rate * elapsed more bytes
            f.budget = min(f.budget + a.rate * (now - last), a.rate)
        last = now
        if not ready_written and all(f.want >= 0 or f.end for f in flows):
            if a.ready:
                with open(a.ready, "w") as fh:
                    fh.write("ready\n")
            ready_written = True
        busy = False
        for f in flows:
            if f.end or (f.want >= 0 and f.budget < 1):
                continue
            try:
                b = f.s.recv(65536 if f.want < 0 else max(1, min(65536, int(f.budget))))
            except BlockingIOError:
                continue
            except ConnectionResetError:
                f.end = "reset"
            except OSError:
                f.end = "error"
            else:
                busy = True
                if not b:
                    f.end = "complete" if f.want >= 0 and f.got >= f.want else "short-eof"
                elif f.want < 0:
                    f.head += b
                    if b"\r\n\r\n" in f.head:
                        parse_head(f)
                else:
                    f.got += len(b)
                    f.budget -= len(b)
            if f.end:
                f.s.close()
        if not busy:
            time.sleep(0.005)
    for f in flows:
        if f.end is None:
            f.end = "timeout"
        if f.end == "short-eof" and f.want >= 0 and f.got >= f.want:
            f.end = "complete"
        print(f"flow {f.i} server={f.server} want={f.want} got={f.got} end={f.end}")
    by = {}
    for f in flows:
        lost, tot = by.get(f.server, (0, 0))
        by[f.server] = (lost + (f.end != "complete"), tot + 1)
    lost = sum(f.end != "complete" for f in flows)
    print(f"flows {len(flows)} complete {len(flows) - lost} lost {lost} by_server "
          + ",".join(f"{k}:{v[0]}/{v[1]}" for k, v in sorted(by.items())), flush=True)


if __name__ == "__main__":
    sys.exit(main())
