#!/usr/bin/env python3
# ALBM tests: long downloads through a VIP, read at a bounded rate, and how many complete intact.
#
#   ha_downloads.py VIP COUNT SIZE RATE [--port 80] [--timeout S] [--ready FILE]
#
# Opens COUNT connections to VIP:PORT (one after the other), each `GET /bytes/SIZE`
# (albm-httpd), and reads every response at RATE bytes/s per connection with a small
# receive buffer, so that each transfer lasts about SIZE/RATE seconds and the server is
# paced by the client's window (the transfer is mid-flow for its whole life).  When every
# connection has its response headers it writes "ready" to FILE (or stdout): the caller
# may now break something.  At the end (all done, or --timeout) one line of JSON:
#   {"ok": N, "reset": N, "short": N, "timeout": N, "connect": N, "servers": {"s1": N, ...}}
# ok: exactly SIZE body bytes then EOF; reset: ECONNRESET (a wrong real answered RST);
# short: EOF early; timeout: still running at the deadline; connect: never established.
import errno
import json
import selectors
import socket
import sys
import time


def parse_size(s):
    mult = {"K": 1024, "M": 1024 * 1024, "G": 1024 ** 3}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


class Conn:
    def __init__(self, vip, port, size):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.s.settimeout(5)
        self.s.connect((vip, port))
        self.s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n" % size)
        self.s.setblocking(False)
        self.head = b""
        self.body = 0
        self.want = None
        self.server = "?"
        self.state = "running"

    def header_done(self):
        return self.want is not None

    def take(self, data):
        if self.want is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, rest = self.head.split(b"\r\n\r\n", 1)
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    self.want = int(v)
                elif k.strip().lower() == b"x-server":
                    self.server = v.strip().decode()
            if self.want is None:
                self.want = -1
            data = rest
        self.body += len(data)


def main():
    a = sys.argv[1:]
    vip, count, size, rate = a[0], int(a[1]), parse_size(a[2]), parse_size(a[3])
    port, timeout, ready = 80, 60.0, None
    i = 4
    while i < len(a):
        if a[i] == "--port":
            port = int(a[i + 1])
        elif a[i] == "--timeout":
            timeout = float(a[i + 1])
        elif a[i] == "--ready":
            ready = a[i + 1]
        i += 2
    res = {"ok": 0, "reset": 0, "short": 0, "timeout": 0, "connect": 0, "servers": {}}
    conns = []
    for _ in range(count):
        try:
            conns.append(Conn(vip, port, size))
        except OSError:
            res["connect"] += 1
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c.s, selectors.EVENT_READ, c)
    deadline = time.monotonic() + timeout
    said_ready = False
    tick = 0.05
    while sel.get_map() and time.monotonic() < deadline:
        budget = int(rate * tick)
        t0 = time.monotonic()
        for key, _ in sel.select(timeout=tick):
            c = key.data
            try:
                data = c.s.recv(budget if c.header_done() else 65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c.state = "reset" if e.errno == errno.ECONNRESET else "short"
                sel.unregister(c.s)
                continue
            if not data:
                c.state = "ok" if c.want is not None and c.body == c.want else "short"
                sel.unregister(c.s)
                continue
            c.take(data)
        if not said_ready and all(c.header_done() or c.state != "running" for c in conns):
            said_ready = True
            if ready:
                with open(ready, "w") as f:
                    f.write("ready\n")
            else:
                print("ready", flush=True)
        left = tick - (time.monotonic() - t0)
        if left > 0:
            time.sleep(left)
    for c in conns:
        if c.state == "running":
            c.state = "timeout"
        res[c.state] += 1
        if c.state == "ok":
            res["servers"][c.server] = res["servers"].get(c.server, 0) + 1
        c.s.close()
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
