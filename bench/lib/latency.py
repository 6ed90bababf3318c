#!/usr/bin/env python3
"""ALBM benchmark tool: request latency through a balancer at a fixed, modest rate.

  latency.py HOST PORT [--rate R] [--secs S] [--path P]

Sends R requests per second for S seconds (at most 600), each on a new connection
(HTTP/1.0 GET: the accept, schedule and connect path of the balancer every time),
paced on a fixed schedule so that the load does not depend on the latency, and prints
"n N p50_us X p90_us Y p99_us Z errors E".
"""
import argparse
import socket
import sys
import time


def one(host, port, req):
    t = time.perf_counter()
    s = socket.create_connection((host, port), timeout=5)
    try:
        s.sendall(req)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    finally:
        s.close()
    if not got.startswith(b"HTTP/1.") or b" 200 " not in got[:16]:
        raise OSError("bad answer")
    return (time.perf_counter() - t) * 1e6


def pct(v, q):
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--rate", type=float, default=200)
    p.add_argument("--secs", type=float, default=10)
    p.add_argument("--path", default="/bytes/100")
    a = p.parse_args()
    a.secs = min(a.secs, 600)
    req = f"GET {a.path} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    lat, errors = [], 0
    t0 = time.perf_counter()
    n = int(a.rate * a.secs)
    for k in range(n):
        due = t0 + k / a.rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        try:
            lat.append(one(a.host, a.port, req))
        except OSError:
            errors += 1
    lat.sort()
    print(f"n {len(lat)} p50_us {pct(lat, 0.50):.0f} p90_us {pct(lat, 0.90):.0f} "
          f"p99_us {pct(lat, 0.99):.0f} errors {errors}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
