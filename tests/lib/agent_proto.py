#!/usr/bin/env python3
"""ALBM tests: an independent implementation of the report format in docs/protocol.md.

  agent_proto.py listen KEYFILE PORT COUNT [--v1-only]
        verify and print COUNT reports (JSON lines); --v1-only decodes as a version-1
        distributor did (anything else is refused, printed as {"error": ...})
  agent_proto.py send KEYFILE PORT CASE      send one crafted report to PORT
  agent_proto.py corpus KEYHEX DIR           write fuzz seeds (tests/fuzz/corpus/report)
Cases for send: ok (v1, seq 1), ok2 (v1, seq 2), replay (seq 1 again), stale (timestamp
60 s old), badkey (signed with another key), v2 (version 2 with every optional field and
one of an unknown type, seq 5), v3 (version 3, correctly signed).
"""
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

HDR = struct.Struct(">4sBBHQQQIBBHQQddII")  # 80 bytes, big-endian, no padding
assert HDR.size == 80
PSI_NAMES = ["memory", "cpu", "io"]
PSI_KEYS = ["some_avg10", "full_avg10", "some_pct", "full_pct"]


def load_key(path):
    text = open(path).read().strip()
    assert len(text) == 64
    return bytes.fromhex(text)


def decode_fields(ext, out):
    """Version 2 optional fields: (type u8, len u8, value), types strictly increasing."""
    last, off, unknown = 0, 0, 0
    while off < len(ext):
        if off + 2 > len(ext):
            raise ValueError("half a field header")
        t, n = ext[off], ext[off + 1]
        v = ext[off + 2:off + 2 + n]
        if len(v) != n or t <= last:
            raise ValueError("field %d overruns or out of order" % t)
        last, off = t, off + 2 + n
        if t > 8:
            unknown += 1
            continue
        if n != 8:
            raise ValueError("field %d: length %d" % (t, n))
        if t <= 6:
            vals = [x / 100.0 for x in struct.unpack(">4H", v)]
            if max(vals) > 100:
                raise ValueError("PSI above 100 %")
            key = "host_psi" if t <= 3 else "cg_psi"
            out.setdefault(key, {})[PSI_NAMES[(t - 1) % 3]] = dict(zip(PSI_KEYS, vals))
        elif t == 7:
            rate = struct.unpack(">d", v)[0]
            if not (rate >= 0 and rate != float("inf")):
                raise ValueError("majfault_rate")
            out["majfault_rate"] = rate
        else:
            out["oom_kills"] = struct.unpack(">Q", v)[0]
    out["unknown_fields"] = unknown


def decode(key, data, versions=(1, 2)):
    if len(data) < 80 + 1 + 32:
        raise ValueError("short")
    body, tag = data[:-32], data[-32:]
    (magic, ver, typ, length, boot, seq, ts, interval, state, nlen, flags, total, avail,
     cpu, load1, runq, tcp) = HDR.unpack(body[:80])
    if magic != b"ALBR" or ver not in versions:
        raise ValueError("version %d not supported" % ver)
    ext = flags if ver == 2 else 0
    if length != len(data) or 80 + nlen + ext != len(body):
        raise ValueError("bad lengths")
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), tag):
        raise ValueError("bad HMAC")
    if typ != 1 or (ver == 1 and flags):
        raise ValueError("bad header")
    out = dict(name=body[80:80 + nlen].decode("ascii"), version=ver, boot_id="%016x" % boot,
               seq=seq, timestamp_ms=ts, interval_ms=interval,
               state=["ok", "overloaded"][state], mem_total_bytes=total,
               mem_available_bytes=avail, cpu_util=cpu, load1=load1, run_queue=runq,
               tcp_established=tcp)
    if ver == 2:
        decode_fields(body[80 + nlen:], out)
    return out


def fields_v2(unknown=True):
    """Every optional field, plus (unknown) one of type 9 that receivers must skip."""
    ext = b""
    for t in range(1, 7):
        ext += struct.pack(">BB4H", t, 8, 100 * t, 50 * t, 1234, 10000 if t == 1 else 0)
    ext += struct.pack(">BBd", 7, 8, 250.5) + struct.pack(">BBQ", 8, 8, 3)
    if unknown:
        ext += bytes([9, 3, 1, 2, 3])
    return ext


def encode(key, name, seq, ts, boot=0xC0FFEE, version=1, state=0, ext=b""):
    nb = name.encode("ascii")
    length = 80 + len(nb) + len(ext) + 32
    body = HDR.pack(b"ALBR", version, 1, length, boot, seq, ts, 100, state, len(nb),
                    len(ext), 1 << 30, 1 << 29, 0.5, 0.25, 2, 7) + nb + ext
    return body + hmac.new(key, body, hashlib.sha256).digest()


def corpus(key, outdir):
    """Fuzz seeds: a mode byte (1: the fuzzer re-signs) then a datagram."""
    seeds = {
        "v1-ok": encode(key, "db-2", 1, 1700000000000),
        "v2-all": encode(key, "web-1", 2, 1700000000100, version=2, ext=fields_v2(False)),
        "v2-unknown": encode(key, "web-1", 3, 1700000000200, version=2, ext=fields_v2()),
        "v2-empty": encode(key, "s", 4, 1700000000300, version=2),
    }
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(b"\x01" + data)


def main():
    if sys.argv[1] == "corpus":
        corpus(bytes.fromhex(sys.argv[2]), sys.argv[3])
        return
    mode, key, port = sys.argv[1], load_key(sys.argv[2]), int(sys.argv[3])
    if mode == "listen":
        versions = (1,) if "--v1-only" in sys.argv[5:] else (1, 2)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", port))
        s.settimeout(20)
        for _ in range(int(sys.argv[4])):
            try:
                print(json.dumps(decode(key, s.recv(1024), versions)), flush=True)
            except ValueError as e:
                print(json.dumps({"error": str(e)}), flush=True)
        return
    case, now = sys.argv[4], int(time.time() * 1000)
    data = {
        "ok": lambda: encode(key, "py-agent", 1, now),
        "ok2": lambda: encode(key, "py-agent", 2, now + 1),
        "replay": lambda: encode(key, "py-agent", 1, now),
        "stale": lambda: encode(key, "py-agent", 3, now - 60000),
        "badkey": lambda: encode(bytes(32), "py-agent", 4, now),
        "v2": lambda: encode(key, "py-agent", 5, now + 2, version=2, ext=fields_v2()),
        "v3": lambda: encode(key, "py-agent", 6, now + 3, version=3),
    }[case]()
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(data, ("127.0.0.1", port))


main()
