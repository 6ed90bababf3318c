#!/usr/bin/env python3
"""ALBM tests: an independent implementation of the report format in docs/protocol.md.

  agent_proto.py listen KEYFILE PORT COUNT   verify and print COUNT reports (JSON lines)
  agent_proto.py send KEYFILE PORT CASE      send one crafted report to PORT
Cases for send: ok (seq 1), ok2 (seq 2), replay (seq 1 again), stale (timestamp 60 s
old), badkey (signed with another key), v2 (version 2, correctly signed).
"""
import hashlib
import hmac
import json
import socket
import struct
import sys
import time

HDR = struct.Struct(">4sBBHQQQIBBHQQddII")  # 80 bytes, big-endian, no padding
assert HDR.size == 80


def load_key(path):
    text = open(path).read().strip()
    assert len(text) == 64
    return bytes.fromhex(text)


def decode(key, data):
    if len(data) < 80 + 1 + 32:
        raise ValueError("short")
    body, tag = data[:-32], data[-32:]
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), tag):
        raise ValueError("bad HMAC")
    (magic, ver, typ, length, boot, seq, ts, interval, state, nlen, flags, total, avail,
     cpu, load1, runq, tcp) = HDR.unpack(body[:80])
    if magic != b"ALBR" or ver != 1 or typ != 1 or length != len(data) or flags:
        raise ValueError("bad header")
    if 80 + nlen != len(body):
        raise ValueError("bad name length")
    return dict(name=body[80:].decode("ascii"), boot_id="%016x" % boot, seq=seq,
                timestamp_ms=ts, interval_ms=interval, state=["ok", "overloaded"][state],
                mem_total_bytes=total, mem_available_bytes=avail, cpu_util=cpu, load1=load1,
                run_queue=runq, tcp_established=tcp)


def encode(key, name, seq, ts, boot=0xC0FFEE, version=1, state=0):
    nb = name.encode("ascii")
    body = HDR.pack(b"ALBR", version, 1, 80 + len(nb) + 32, boot, seq, ts, 100, state, len(nb),
                    0, 1 << 30, 1 << 29, 0.5, 0.25, 2, 7) + nb
    return body + hmac.new(key, body, hashlib.sha256).digest()


def main():
    mode, key, port = sys.argv[1], load_key(sys.argv[2]), int(sys.argv[3])
    if mode == "listen":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", port))
        s.settimeout(20)
        for _ in range(int(sys.argv[4])):
            print(json.dumps(decode(key, s.recv(1024))), flush=True)
        return
    case, now = sys.argv[4], int(time.time() * 1000)
    data = {
        "ok": lambda: encode(key, "py-agent", 1, now),
        "ok2": lambda: encode(key, "py-agent", 2, now + 1),
        "replay": lambda: encode(key, "py-agent", 1, now),
        "stale": lambda: encode(key, "py-agent", 3, now - 60000),
        "badkey": lambda: encode(bytes(32), "py-agent", 4, now),
        "v2": lambda: encode(key, "py-agent", 5, now, version=2),
    }[case]()
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(data, ("127.0.0.1", port))


main()
