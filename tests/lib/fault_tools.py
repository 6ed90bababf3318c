#!/usr/bin/env python3
"""ALBM test tool: TCP peers that misbehave on purpose, and clients that say how a stream ended.

Servers (run until killed; each prints "listening PORT" once it listens):
  serve PORT --mode MODE [--size N] [--host H]
    blast-rst   read the request, send N bytes, then close with SO_LINGER 0 (a reset)
    blast-fin   read the request, send N bytes, then close normally (a FIN)
    silent      accept, read whatever comes, never answer nor close
    fin-hold    send N bytes, shut down writing (FIN), never close; print "peer closed SECS"
                once the other side closes
    echo-log    echo; log how each connection ended to stdout ("peer eof|reset BYTES")
    http        a minimal HTTP/1.0 server: any request gets N bytes ("Connection: close")
    drip        read until the client's FIN, then send 100 bytes every 0.5 s, 6 times, close
Clients (print one line of key=value, exit 0):
  fetch HOST PORT [--send DATA] [--shut] [--timeout S]
    connect, send DATA, optionally shut down writing, read until the end:
    "bytes=N end=eof|reset|timeout|refused secs=T"
  hold HOST PORT [--send DATA] [--shut] [--secs S]
    connect, send DATA, optionally shut down writing, then keep the socket open S seconds
    without reading: "held"
  abort HOST PORT [--send-bytes N]
    connect, send N bytes, then reset the connection (SO_LINGER 0)
  many HOST PORT N [--path P] [--timeout S] [--hold S]
    N connections opened at once, each sends an HTTP GET and reads the answer to the end:
    "ok=A failed=B reset=C eof_empty=D timeout=E secs=T"
"""
import argparse
import selectors
import socket
import struct
import sys
import threading
import time

RST = struct.pack("ii", 1, 0)


def serve(args):
    srv = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(1024)
    print(f"listening {args.port}", flush=True)
    body = b"x" * args.size

    def read_request(c):
        c.settimeout(5)
        try:
            c.recv(65536)
        except OSError:
            pass
        c.settimeout(None)

    def handle(c):
        try:
            if args.mode in ("blast-rst", "blast-fin"):
                read_request(c)
                c.sendall(body)
                if args.mode == "blast-rst":
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST)
            elif args.mode == "silent":
                while c.recv(65536):
                    pass
                time.sleep(3600)
            elif args.mode == "fin-hold":
                c.sendall(body)
                c.shutdown(socket.SHUT_WR)
                t0 = time.time()
                while c.recv(65536):
                    pass
                print(f"peer closed {time.time() - t0:.2f}", flush=True)
                time.sleep(3600)
            elif args.mode == "echo-log":
                n, end = 0, "eof"
                try:
                    while True:
                        b = c.recv(65536)
                        if not b:
                            break
                        n += len(b)
                        c.sendall(b)
                except ConnectionResetError:
                    end = "reset"
                print(f"peer {end} {n}", flush=True)
            elif args.mode == "drip":
                while c.recv(65536):
                    pass
                for _ in range(6):
                    c.sendall(b"d" * 100)
                    time.sleep(0.5)
            elif args.mode == "http":
                read_request(c)
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                          % len(body) + body)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def fetch(args):
    t0 = time.time()
    s = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    s.settimeout(args.timeout)
    n, end = 0, "eof"
    try:
        s.connect((args.host, args.port))
        if args.send:
            s.sendall(args.send.encode())
        if args.shut:
            s.shutdown(socket.SHUT_WR)
        while True:
            b = s.recv(262144)
            if not b:
                break
            n += len(b)
    except ConnectionRefusedError:
        end = "refused"
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    print(f"bytes={n} end={end} secs={time.time() - t0:.2f}", flush=True)


def hold(args):
    s = socket.create_connection((args.host, args.port), timeout=5)
    if args.send:
        s.sendall(args.send.encode())
    if args.shut:
        s.shutdown(socket.SHUT_WR)
    print("held", flush=True)
    time.sleep(args.secs)


def abort(args):
    s = socket.create_connection((args.host, args.port), timeout=5)
    s.sendall(b"y" * args.send_bytes)
    time.sleep(0.3)  # the bytes reach the server before the reset does
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST)
    s.close()
    print("aborted", flush=True)


def many(args):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.n + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    t0 = time.time()
    sel = selectors.DefaultSelector()
    req = f"GET {args.path} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    res = {"ok": 0, "failed": 0, "reset": 0, "eof_empty": 0, "timeout": 0}
    socks = []
    for _ in range(args.n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex((args.host, args.port))
        except OSError:
            res["failed"] += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, [b"", False])
    if args.hold:
        time.sleep(args.hold)  # every connection open (in albmd or in its backlog)
    deadline = time.time() + args.timeout
    left = len(socks)
    while left and time.time() < deadline:
        for key, ev in sel.select(timeout=0.2):
            s, st = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE and not st[1]:
                try:
                    s.send(req)
                    st[1] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                except OSError:
                    res["failed"] += 1
                    sel.unregister(s)
                    s.close()
                    left -= 1
                continue
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                res["reset"] += 1
                b = None
            except OSError:
                res["failed"] += 1
                b = None
            if b:
                st[0] += b
                continue
            if b is not None:
                if b" 200 " in st[0][:16]:
                    res["ok"] += 1
                else:
                    res["eof_empty"] += 1
            sel.unregister(s)
            s.close()
            left -= 1
    res["timeout"] = left
    print(" ".join(f"{k}={v}" for k, v in res.items()) + f" secs={time.time() - t0:.2f}",
          flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("serve")
    a.add_argument("port", type=int)
    a.add_argument("--mode", required=True,
                   choices=["blast-rst", "blast-fin", "silent", "fin-hold", "echo-log", "http",
                            "drip"])
    a.add_argument("--size", type=int, default=0)
    a.add_argument("--host", default="127.0.0.1")
    a = sub.add_parser("fetch")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("--send", default="")
    a.add_argument("--shut", action="store_true")
    a.add_argument("--timeout", type=float, default=10)
    a = sub.add_parser("hold")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("--send", default="")
    a.add_argument("--shut", action="store_true")
    a.add_argument("--secs", type=float, default=60)
    a = sub.add_parser("abort")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("--send-bytes", type=int, default=1000)
    a = sub.add_parser("many")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("n", type=int)
    a.add_argument("--path", default="/")
    a.add_argument("--timeout", type=float, default=30)
    a.add_argument("--hold", type=float, default=0)
    args = p.parse_args()
    {"serve": serve, "fetch": fetch, "hold": hold, "abort": abort, "many": many}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
