#!/usr/bin/env python3
"""ALBM lab: sample each server's available memory over time into a CSV (stdlib only).

Sources, per server and tick (--sources gives the order; the first that answers wins,
named in column `src`):
  agent  - albmd's GET /api/state: the agent's latest report, i.e. what ALBM schedules on
  cgroup - the server's memory cgroup: limit - (usage - inactive file pages)
  model  - albm-httpd's GET /stats in paging-model mode: paging limit - in-flight bytes
Swap in use by the server's cgroup (v1 memsw.usage - usage, v2 memory.swap.current) is
recorded alongside, as the physical evidence of overload.

CSV columns: t_s,server,avail_bytes,total_bytes,avail_pct,swap_bytes,state,src,
             conns,eff_weight,cpu_util,albm_state,conn_limit
(the last three from albmd's /api/state: live connections, the scheduler's effective
weight, the agent's CPU utilisation; empty when albmd does not answer)
Stops on SIGTERM/SIGINT or after --max-seconds.
"""
import argparse
import json
import os
import signal
import sys
import time
import urllib.request

STOP = False


def on_signal(_sig, _frm):
    global STOP
    STOP = True


def read_int(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def read_kv(path, key):
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v)
    except (OSError, ValueError):
        pass
    return None


def cgroup_sample(path, version):
    """(avail, total, swap) of one memory cgroup, or None."""
    if not path:
        return None
    if version == 1:
        limit = read_int(os.path.join(path, "memory.limit_in_bytes"))
        usage = read_int(os.path.join(path, "memory.usage_in_bytes"))
        memsw = read_int(os.path.join(path, "memory.memsw.usage_in_bytes"))
        inactive = read_kv(os.path.join(path, "memory.stat"), "total_inactive_file") or 0
        swap = (memsw - usage) if memsw is not None and usage is not None else None
    else:
        limit = read_int(os.path.join(path, "memory.max"))
        usage = read_int(os.path.join(path, "memory.current"))
        inactive = read_kv(os.path.join(path, "memory.stat"), "inactive_file") or 0
        swap = read_int(os.path.join(path, "memory.swap.current"))
    if limit is None or usage is None:
        return None
    used = max(0, usage - inactive)
    return max(0, limit - used), limit, swap


def api_sample(url):
    """{server: (avail, total, state, conns, eff_weight, cpu_util)} from albmd's /api/state:
    services[].servers[] with "name", "state", "active_conns", "effective_weight" and
    "agent" (the agent's latest report, null before the first: avail/total 0 then)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            doc = json.load(r)
    except Exception:  # noqa: BLE001 - albmd down or busy: fall back to the cgroup
        return {}
    res = {}
    for svc in doc.get("services") or []:
        for srv in svc.get("servers") or []:
            m = srv.get("agent")
            if not isinstance(m, dict) or m.get("timed_out"):
                m = {}
            try:
                al = srv.get("albm") if isinstance(srv.get("albm"), dict) else {}
                res[srv["name"]] = (int(m.get("mem_available_bytes", 0)),
                                    int(m.get("mem_total_bytes", 0)),
                                    str(srv.get("state", "")), int(srv.get("active_conns", 0)),
                                    float(srv.get("effective_weight", 0.0)),
                                    float(m["cpu_util"]) if "cpu_util" in m else "",
                                    str(al.get("state", "")), al.get("conn_limit", ""))
            except (KeyError, TypeError, ValueError):
                continue
    return res


def model_sample(url):
    """(avail, total) of albm-httpd's paging model: limit - in-flight bytes."""
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            doc = json.load(r)
        limit = int(doc["config"]["paging_limit"])
        inflight = int(doc["inflight_bytes"])
    except Exception:  # noqa: BLE001 - server busy or gone, or not in paging mode
        return None
    if limit <= 0:
        return None
    return max(0, limit - inflight), limit


def pair(text):
    name, _, val = text.partition("=")
    return name, val


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=int, default=250, help="milliseconds")
    ap.add_argument("--api", default="")
    ap.add_argument("--server", action="append", default=[], type=pair, help="NAME=CGROUP_PATH")
    ap.add_argument("--stats", action="append", default=[], type=pair, help="NAME=URL")
    ap.add_argument("--cgroup-version", type=int, default=1)
    ap.add_argument("--sources", default="agent,cgroup,model",
                    help="where available memory comes from, first that answers wins")
    ap.add_argument("--max-seconds", type=float, default=3600)
    ap.add_argument("--t0-file", default="", help="write the wall-clock time of t_s=0 here")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stats = dict(a.stats)
    t0 = time.monotonic()
    if a.t0_file:
        with open(a.t0_file, "w") as f:
            f.write(f"{time.time():.3f}\n")
    with open(a.out, "w", buffering=1) as f:
        f.write("t_s,server,avail_bytes,total_bytes,avail_pct,swap_bytes,state,src,"
                "conns,eff_weight,cpu_util,albm_state,conn_limit\n")
        while not STOP and time.monotonic() - t0 < a.max_seconds:
            tick = time.monotonic()
            api = api_sample(a.api) if a.api else {}
            for name, cg in a.server:
                cgs = cgroup_sample(cg, a.cgroup_version)
                swap = cgs[2] if cgs and cgs[2] is not None else ""
                state, conns, eff, cpu, astate, limit = (api[name][2:] if name in api
                                                         else ("", "", "", "", "", ""))
                if isinstance(eff, float):
                    eff = f"{eff:.3f}"
                if isinstance(cpu, float):
                    cpu = f"{cpu:.3f}"
                got = None
                for src in a.sources.split(","):
                    if src == "agent" and name in api and api[name][1] > 0:
                        got = api[name][:2]
                    elif src == "cgroup" and cgs:
                        got = cgs[:2]
                    elif src == "model" and name in stats:
                        got = model_sample(stats[name])
                    if got:
                        break
                if not got:
                    continue
                avail, total = got
                pct = 100.0 * avail / total if total else 0.0
                f.write(f"{tick - t0:.3f},{name},{avail},{total},{pct:.2f},{swap},{state},{src},"
                        f"{conns},{eff},{cpu},{astate},{limit}\n")
            rest = a.interval / 1000.0 - (time.monotonic() - tick)
            if rest > 0:
                time.sleep(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
