#!/usr/bin/env python3
"""ALBM lab: merge a run's CSVs, print tables, check the targets, write docs/RESULTS.md.

  results.py merge OUT                      OUT/steps.csv, OUT/mem.csv, OUT/plot/*.dat
  results.py table OUT                      requests/s per step and scheduler, p99, errors
  results.py targets --homo OUT --hetero OUT   MET/MISSED lines (exit 0 either way)
  results.py markdown --homo OUT --hetero OUT [--figdir DIR] [--cmd TEXT]...
  results.py bound OUT | scenarios ... | scenario-targets ...   the scenario suite
                                            (lab/lib/scenario_report.py)

OUT is one lab/run output directory.  Python 3 standard library only.
"""
import argparse
import csv
import glob
import json
import os
import statistics
import sys

import timeline

# New columns go before "overload", which stays last (tests and scripts read it as $NF).
STEP_COLS = ["experiment", "scheduler", "run", "step", "clients", "duration_s", "requests",
             "rps", "mib_s", "p50_ms", "p90_ms", "p99_ms", "errors", "shares", "loop", "rate",
             "sent_rps", "late_pct", "p999_ms", "overload"]
MEM_COLS = ["experiment", "scheduler", "t_s", "server", "avail_bytes", "total_bytes",
            "avail_pct", "swap_bytes", "state", "src", "conns", "eff_weight", "cpu_util",
            "overload", "albm_state", "conn_limit", "events"]
SERIES_COLS = ["experiment", "scheduler", "run", "t_s"] + timeline.SERIES_COLS[1:]

# albm-bench CSV column -> our name (first match wins; docs/lab.md lists the bench's columns)
ALIASES = {
    "step": ["step"],
    "clients": ["clients"],
    "duration_s": ["duration_s", "seconds", "window_s"],
    "requests": ["requests", "ok", "completed"],
    "rps": ["rps", "req_s", "requests_per_s", "req_per_s"],
    "mib_s": ["mib_s", "mibps", "mib_per_s"],
    "p50_ms": ["p50_ms", "p50"],
    "p90_ms": ["p90_ms", "p90"],
    "p99_ms": ["p99_ms", "p99"],
    "errors": ["errors", "err"],
    "rate": ["rate"],
    "sent_rps": ["sent_rps"],
    "late_pct": ["late_pct"],
    "p999_ms": ["p999_ms"],
}

MEM_TARGET_PCT = 5.0


def read_env(out):
    env = {}
    try:
        with open(os.path.join(out, "cluster.env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                env[k] = v
    except OSError:
        pass
    return env


def schedulers(out, env=None):
    env = env if env is not None else read_env(out)
    names = [s.strip() for s in env.get("schedulers", "").split(",") if s.strip()]
    return [s for s in names if os.path.isdir(os.path.join(out, s))]


def servers(env):
    return [k[len("server."):] for k in env if k.startswith("server.")]


def num(v, default=None):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def norm_row(row):
    low = {k.strip().lower(): v for k, v in row.items() if k}
    res = {}
    for ours, names in ALIASES.items():
        for n in names:
            if n in low and low[n] not in ("", None):
                res[ours] = low[n]
                break
    shares = []
    for k, v in low.items():
        for pre, suf in (("share_", ""), ("", "_share"), ("", "_pct"), ("srv_", "_pct")):
            if k.startswith(pre) and k.endswith(suf) and k not in ALIASES and len(k) > len(pre + suf):
                name = k[len(pre):len(k) - len(suf)] if suf else k[len(pre):]
                if num(v) is not None and name not in ("avail", "cpu"):
                    shares.append(f"{name}:{float(v):.1f}")
                break
    res["shares"] = ";".join(shares)
    return res


def bench_runs(sdir):
    """[(k, epoch, spec, kind, warmup_s)] from bench-runs.txt."""
    runs = []
    try:
        with open(os.path.join(sdir, "bench-runs.txt")) as f:
            for line in f:
                p = line.split()
                if len(p) >= 4:
                    runs.append((int(p[0]), float(p[1]), p[2], p[3],
                                 duration_s(p[4]) if len(p) > 4 else 0.0))
    except (OSError, ValueError):
        pass
    return runs


def json_p999(path):
    """{step: p99.9 ms} from a bench JSON (the closed-loop CSV has no p999_ms column)."""
    try:
        with open(path) as f:
            return {str(st["step"]): st.get("p999_ms") for st in json.load(f).get("steps", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def sched_steps(out, sched):
    """Normalised step rows of one scheduler: run 0 = the ramp, 1.. = repeats."""
    sdir = os.path.join(out, sched)
    rows, rep, step = [], 0, 0
    for k, epoch, _spec, kind, warm in bench_runs(sdir):
        path = os.path.join(sdir, f"bench-{k}.csv")
        if not os.path.exists(path):
            continue
        if kind == "repeat":
            rep += 1
        with open(path, newline="") as f:
            lines = [l for l in f if not l.startswith("#")]
        p999 = json_p999(os.path.join(sdir, f"bench-{k}.json"))
        for r in csv.DictReader(lines):
            n = norm_row(r)
            if not n.get("p999_ms") and p999.get(str(n.get("step"))) is not None:
                n["p999_ms"] = f"{p999[str(n['step'])]:.3f}"  # closed loop: JSON only
            if "clients" not in n or "rps" not in n:
                continue
            if kind == "ramp":
                step += 1
            n.update(scheduler=sched, run=0 if kind == "ramp" else rep,
                     step=step if kind == "ramp" else n.get("step", 1), epoch=epoch, k=k,
                     warmup=warm)
            rows.append(n)
    return rows


def sched_mem(out, sched):
    path = os.path.join(out, sched, "mem.csv")
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def t0_of(out, sched):
    try:
        with open(os.path.join(out, sched, "mem.t0")) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


def write_dat(path, header, rows):
    with open(path, "w") as f:
        f.write("# " + " ".join(header) + "\n")
        for r in rows:
            f.write(" ".join("?" if v is None or v == "" else str(v) for v in r) + "\n")


def is_open(env):
    return env.get("loop") == "open"


def xkey(env):
    """What a step is named by: its client count (closed loop) or its rate (open loop)."""
    return "rate" if is_open(env) else "clients"


def step_marks(out, sched, rows, key="clients"):
    """(t_s relative to the memory sampler, clients or rate) at each ramp step start."""
    t0 = t0_of(out, sched)
    if t0 is None:
        return []
    marks, per_run = [], {}
    for r in rows:
        per_run.setdefault(r["k"], []).append(r)
    for _k, rr in sorted(per_run.items()):
        t = rr[0]["epoch"] - t0
        for r in rr:
            marks.append((round(t, 2), f"{num(r.get(key), 0):g}"))
            t += num(r.get("duration_s"), 0) + r.get("warmup", 0.0)
    return marks


def duration_s(text):
    """"1s", "250ms", "1.5s", "2m" -> seconds (0 when it does not parse)."""
    for unit, mul in (("ms", 0.001), ("us", 1e-6), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text and text.endswith(unit) and num(text[:-len(unit)]) is not None:
            return num(text[:-len(unit)]) * mul
    return 0.0


def merge(out):
    env = read_env(out)
    exp = env.get("name", os.path.basename(out))
    ovl = env.get("overload_used", "")  # swap (physical) or paging (modelled)
    pdir = os.path.join(out, "plot")
    os.makedirs(pdir, exist_ok=True)
    srv = servers(env)
    key = xkey(env)
    with open(os.path.join(out, "steps.csv"), "w", newline="") as fs, \
         open(os.path.join(out, "mem.csv"), "w", newline="") as fm, \
         open(os.path.join(out, "events.csv"), "w", newline="") as fe, \
         open(os.path.join(out, "series.csv"), "w", newline="") as fr:
        ws, wm = csv.writer(fs, lineterminator="\n"), csv.writer(fm, lineterminator="\n")
        we, wr = csv.writer(fe, lineterminator="\n"), csv.writer(fr, lineterminator="\n")
        ws.writerow(STEP_COLS)
        wm.writerow(MEM_COLS)
        we.writerow(["experiment", "scheduler"] + timeline.EVENT_COLS)
        wr.writerow(SERIES_COLS)
        for s in schedulers(out, env):
            rows = sched_steps(out, s)
            for r in rows:
                r["experiment"], r["overload"] = exp, ovl
                r["loop"] = env.get("loop", "closed")
                ws.writerow([r.get(c, "") for c in STEP_COLS])
            write_dat(os.path.join(pdir, f"rps-{s}.dat"), [key, "rps", "p99_ms", "errors"],
                      [(r.get(key), r["rps"], r.get("p99_ms"), r.get("errors"))
                       for r in rows if r["run"] == 0])
            write_dat(os.path.join(pdir, f"steps-{s}.dat"), ["t_s", key],
                      step_marks(out, s, rows, key))
            events = merge_events(out, s, exp, we)
            merge_series(out, s, exp, wr)
            merge_mem(out, s, exp, ovl, srv, events, wm)
    timeline.gp_marks(os.path.join(pdir, "plan.gp"),
                      [(a, b, f"{srv} {lab}", lab.split("=")[0])
                       for a, b, srv, lab in timeline.planned(env) if b is not None],
                      [(a, f"{srv} {lab}") for a, b, srv, lab in timeline.planned(env) if b is None])


def merge_events(out, sched, exp, writer):
    """The scheduler's event log into events.csv; its marks for the memory figure."""
    sdir = os.path.join(out, sched)
    events = timeline.read_events(sdir)
    for r in events:
        writer.writerow([exp, sched] + [r.get(c, "") for c in timeline.EVENT_COLS])
    return events


def merge_series(out, sched, exp, writer):
    """The bench's series, t_s from the timeline's start (the events' clock)."""
    sdir = os.path.join(out, sched)
    t0 = timeline.read_t0(sdir)
    pts = []
    for r in timeline.read_series(sdir, bench_runs(sdir)):
        t = num(r["unix_s"]) - t0 if t0 is not None else num(r["t_s"])
        writer.writerow([exp, sched, r["k"], f"{t:.3f}"] +
                        [r.get(c, "") for c in timeline.SERIES_COLS[1:]])
        pts.append((f"{t:.3f}", r["rps"], r.get("p99_ms"), r.get("errors")))
    write_dat(os.path.join(out, "plot", f"series-{sched}.dat"), ["t_s", "rps", "p99_ms", "errors"],
              pts)


def merge_mem(out, sched, exp, ovl, srv, events, writer):
    """Memory samples into mem.csv (with what the timeline was doing to the server) and
    the per-server plot data; the events marked on the memory figure's clock."""
    pdir = os.path.join(out, "plot")
    t0 = t0_of(out, sched) or 0.0
    ivals = timeline.intervals(events)
    mem, by_srv = sched_mem(out, sched), {}
    for m in mem:
        m["overload"] = ovl
        m["events"] = timeline.active(ivals, m["server"], t0 + num(m.get("t_s"), 0))
        writer.writerow([exp, sched] + [m.get(c, "") for c in MEM_COLS[2:]])
        by_srv.setdefault(m["server"], []).append(m)
    for name in srv or by_srv:
        pts = []
        for m in by_srv.get(name, []):
            sw = num(m.get("swap_bytes"))
            pts.append((m["t_s"], f"{num(m['avail_bytes'], 0) / 1048576:.1f}", m["avail_pct"],
                        f"{sw / 1048576:.1f}" if sw is not None else None))
        write_dat(os.path.join(pdir, f"mem-{sched}-{name}.dat"),
                  ["t_s", "avail_mib", "avail_pct", "swap_mib"], pts)
    t_end = max((num(m.get("t_s"), 0) for m in mem), default=0.0)
    items, points = timeline.event_marks(events, t0, t0 + t_end)
    timeline.gp_marks(os.path.join(pdir, f"events-{sched}.gp"), items, points)


# ---- summaries -----------------------------------------------------------------------

def load_steps(out):
    try:
        with open(os.path.join(out, "steps.csv"), newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        merge(out)
        with open(os.path.join(out, "steps.csv"), newline="") as f:
            return list(csv.DictReader(f))


def summary(out):
    """Per scheduler: ramp rows, and the last client count's (open loop: the last rate's)
    median over ramp + repeats; OOM kills and restarts from the event log."""
    env = read_env(out)
    rows = load_steps(out)
    key = xkey(env)
    res = {}
    for s in schedulers(out, env):
        mine = [r for r in rows if r["scheduler"] == s]
        ramp = [r for r in mine if r["run"] == "0"]
        if not ramp:
            res[s] = {"ramp": [], "last": None}
            continue
        last_c = max(num(r[key], 0) for r in ramp)
        pts = [r for r in ramp if num(r[key], 0) == last_c][-1:] + \
              [r for r in mine if r["run"] != "0" and num(r[key], 0) == last_c]
        per_srv = timeline.counts(timeline.read_events(os.path.join(out, s)))
        res[s] = {
            "ramp": ramp, "clients": last_c, "n": len(pts),
            "oom_kills": sum(d["oom_kills"] for d in per_srv.values()),
            "oom_by_server": {k: d["oom_kills"] for k, d in sorted(per_srv.items())
                              if d["oom_kills"]},
            "restarts": sum(d["restarts"] for d in per_srv.values()),
            "p999": statistics.median(num(r.get("p999_ms"), 0) or 0 for r in pts),
            "rps": statistics.median(num(r["rps"], 0) for r in pts),
            "rps_all": [num(r["rps"], 0) for r in pts],
            "p99": statistics.median(num(r["p99_ms"], 0) or 0 for r in pts),
            "errors": sum(int(num(r.get("errors"), 0)) for r in mine),
            "errors_last": sum(int(num(r.get("errors"), 0)) for r in pts),
        }
        res[s]["mem"] = mem_summary(out, s)
    return env, res


def mem_summary(out, sched):
    """Lowest available % per server (agent view when present) and swap peak."""
    per = {}
    for m in sched_mem(out, sched):
        pct, sw = num(m.get("avail_pct")), num(m.get("swap_bytes"))
        d = per.setdefault(m["server"], {"min_pct": 101.0, "below": 0, "n": 0, "swap_max": 0.0})
        if pct is not None:
            d["min_pct"] = min(d["min_pct"], pct)
            d["n"] += 1
            d["below"] += pct < MEM_TARGET_PCT
        if sw is not None:
            d["swap_max"] = max(d["swap_max"], sw)
    return per


def fmt(v, nd=1):
    return "-" if v is None else f"{v:.{nd}f}"


def step_table(res, key, nd=1, x="clients"):
    """Rows: client counts (open loop: rates); columns: schedulers."""
    scheds = list(res)
    xs = sorted({num(r[x], 0) for s in scheds for r in res[s]["ramp"]})
    lines = [["req/s offered" if x == "rate" else "clients"] + scheds]
    for c in xs:
        line = [f"{c:g}"]
        for s in scheds:
            v = [num(r.get(key)) for r in res[s]["ramp"] if num(r[x], 0) == c]
            line.append(fmt(v[-1], nd) if v and v[-1] is not None else "-")
        lines.append(line)
    return lines


def last_table(res, env=None):
    """The last step per scheduler; with a capacity bound (cluster file `bound`) also the
    efficiency, req/s / bound."""
    env = env or {}
    bound = num(env.get("bound"))
    lines = [["scheduler", "req/s offered" if is_open(env) else "clients", "runs",
              "req/s (median)", "req/s (each run)", "p99 ms (median)", "p99.9 ms (median)",
              "errors (all steps)", "OOM kills", "restarts", "lowest avail % (server)",
              "peak swap MiB"] + (["efficiency"] if bound else [])]
    for s, d in res.items():
        if not d.get("ramp"):
            lines.append([s, "-", "0"] + ["-"] * (len(lines[0]) - 3))
            continue
        low = min(d["mem"].items(), key=lambda kv: kv[1]["min_pct"]) if d["mem"] else None
        swap = max((v["swap_max"] for v in d["mem"].values()), default=0.0)
        lines.append([s, f"{d['clients']:g}", str(d["n"]), fmt(d["rps"]),
                      " ".join(fmt(v) for v in d["rps_all"]), fmt(d["p99"], 0),
                      fmt(d["p999"], 0) if d["p999"] else "-", str(d["errors"]),
                      oom_cell(d), str(d["restarts"]),
                      f"{low[1]['min_pct']:.1f} ({low[0]})" if low else "-",
                      fmt(swap / 1048576, 0)] + ([f"{d['rps'] / bound:.2f}"] if bound else []))
    return lines


def oom_cell(d):
    """OOM kills of a scheduler's run, per server when there were any: "3 (s1 1, s2 2)"."""
    per = ", ".join(f"{k} {n}" for k, n in d.get("oom_by_server", {}).items())
    return f"{d['oom_kills']} ({per})" if per else str(d["oom_kills"])


def print_text(lines, out=sys.stdout):
    w = [max(len(l[i]) for l in lines) for i in range(len(lines[0]))]
    for l in lines:
        out.write("  ".join(c.rjust(w[i]) for i, c in enumerate(l)).rstrip() + "\n")


def print_md(lines, out):
    out.write("| " + " | ".join(lines[0]) + " |\n")
    out.write("|" + "|".join("---:" for _ in lines[0]) + "|\n")
    for l in lines[1:]:
        out.write("| " + " | ".join(l) + " |\n")


def cmd_table(a):
    env, res = summary(a.out)
    x = xkey(env)
    print(f"{env.get('title', env.get('name', ''))} — overload: {env.get('overload_note', '?')}")
    if is_open(env):
        print(f"open loop: Poisson arrivals at {env.get('rates', '?')} req/s, latency from the "
              "intended send time")
    if env.get("bound"):
        print(f"capacity bound: {env['bound']} req/s (cluster file); efficiency = req/s / bound")
    print("requests/s per ramp step:")
    print_text(step_table(res, "rps", x=x))
    print("p99 latency (ms) per ramp step:")
    print_text(step_table(res, "p99_ms", 0, x=x))
    if is_open(env):
        print("p99.9 latency (ms) per step:")
        print_text(step_table(res, "p999_ms", 0, x=x))
        print("arrivals sent late or not at all (%) per step:")
        print_text(step_table(res, "late_pct", 1, x=x))
    print("at the last rate:" if is_open(env) else "at the last client count:")
    print_text(last_table(res, env))
    return 0


# ---- targets ---------------------------------------------------------------------------

def ratio_check(res, exp, base, factor, lines):
    a, b = res.get("albm"), res.get(base)
    if not a or not b or not a.get("ramp") or not b.get("ramp"):
        lines.append(("SKIPPED", f"{exp}: albm >= {factor}x {base} at the top client count "
                      f"(no {'albm' if not a or not a.get('ramp') else base} run)"))
        return
    r = a["rps"] / b["rps"] if b["rps"] > 0 else float("inf")
    ok = r >= factor
    lines.append(("MET" if ok else "MISSED",
                  f"{exp}: albm {a['rps']:.1f} req/s vs {base} {b['rps']:.1f} req/s at "
                  f"{a['clients']:g} clients = {r:.2f}x (target >= {factor}x; median of "
                  f"{a['n']}/{b['n']} runs)"))


def mem_check(res, exp, lines):
    a = res.get("albm")
    if not a or not a.get("mem"):
        lines.append(("SKIPPED", f"{exp}: no albm memory samples"))
        return
    name, d = min(a["mem"].items(), key=lambda kv: kv[1]["min_pct"])
    ok = d["min_pct"] >= MEM_TARGET_PCT
    lines.append(("MET" if ok else "MISSED",
                  f"{exp}: lowest available memory of any server under albm = {d['min_pct']:.1f} % "
                  f"({name}; {d['below']} of {d['n']} samples below {MEM_TARGET_PCT:.0f} %) "
                  f"(target >= {MEM_TARGET_PCT:.0f} %)"))


def targets(homo, hetero):
    lines = []
    if hetero:
        _, res = summary(hetero)
        ratio_check(res, "heterogeneous", "rr", 1.3, lines)
        ratio_check(res, "heterogeneous", "wlc", 1.1, lines)
        mem_check(res, "heterogeneous", lines)
    if homo:
        _, res = summary(homo)
        ratio_check(res, "homogeneous", "rr", 1.2, lines)
        ratio_check(res, "homogeneous", "lc", 1.1, lines)
        mem_check(res, "homogeneous", lines)
    for out, exp in ((hetero, "heterogeneous"), (homo, "homogeneous")):
        if not out:
            continue
        _, res = summary(out)
        p99 = ", ".join(f"{s} {fmt(d.get('p99'), 0)} ms" for s, d in res.items() if d.get("ramp"))
        lines.append(("INFO", f"{exp}: p99 at the top client count (median): {p99}"))
    return lines


def cmd_targets(a):
    for verdict, text in targets(a.homo, a.hetero):
        print(f"{verdict:7s} {text}")
    return 0


# ---- docs/RESULTS.md -------------------------------------------------------------------

def md_experiment(f, out, label, figdir, figrel):
    env, res = summary(out)
    f.write(f"## {label}\n\n")
    f.write(f"{env.get('title', '')}. Overload: {env.get('overload_note', '?')}.\n\n")
    f.write("Cluster (from `cluster.env`):\n\n```\n")
    for k in sorted(env):
        if k.startswith("server.") or k in ("mix", "clients", "step", "repeat_last", "cpu_per_mb",
                                             "mem_factor", "schedulers", "mode", "keepalive"):
            f.write(f"{k}={env[k]}\n")
    f.write("```\n\n")
    f.write("Requests/s per ramp step:\n\n")
    print_md(step_table(res, "rps"), f)
    f.write("\np99 latency (ms) per ramp step:\n\n")
    print_md(step_table(res, "p99_ms", 0), f)
    f.write("\nErrors per ramp step:\n\n")
    print_md(step_table(res, "errors", 0), f)
    f.write("\nAt the top client count (median over the ramp's last step and its repeats):\n\n")
    print_md(last_table(res, env), f)
    name = env.get("name", label)
    f.write("\n")
    for fig, cap in (("rps", "requests/s vs clients"), ("p99", "p99 latency vs clients")):
        if os.path.exists(os.path.join(figdir, f"{name}-{fig}.png")):
            f.write(f"![{label}: {cap}]({figrel}/{name}-{fig}.png)\n\n")
    for s in res:
        p = os.path.join(figdir, f"{name}-mem-{s}.png")
        if os.path.exists(p):
            f.write(f"![{label}: available memory under {s}]({figrel}/{name}-mem-{s}.png)\n\n")


def cmd_markdown(a):
    f = sys.stdout
    f.write("# ALBM lab results\n\n")
    f.write("Generated by `lab/paper.sh` (`make paper`) from the CSVs of `lab/run`; the tables, figures "
            "and the targets check below are computed by `lab/lib/results.py`. Do not edit by hand "
            "except the section marked for the lead.\n\n")
    if a.cmd:
        f.write("Commands:\n\n```\n" + "\n".join(a.cmd) + "\n```\n\n")
    f.write("## Targets check\n\n```\n")
    for verdict, text in targets(a.homo, a.hetero):
        f.write(f"{verdict:7s} {text}\n")
    f.write("```\n\n")
    for out, label in ((a.homo, "Homogeneous cluster (paper Fig. 2)"),
                       (a.hetero, "Heterogeneous cluster (paper Fig. 3, 4, 5)")):
        if out:
            md_experiment(f, out, label, a.figdir, a.figrel)
    f.write(kept_discussion(a.keep))
    return 0


DISCUSSION = "## Discussion (written by the lead)"


def kept_discussion(path):
    """The lead's section of an earlier RESULTS.md (from its heading to the end), or a
    fresh placeholder."""
    try:
        with open(path) as f:
            text = f.read()
        i = text.find(DISCUSSION)
        if i >= 0:
            return text[i:]
    except (OSError, TypeError):
        pass
    return (DISCUSSION + "\n\n"
            "<!-- LEAD: the honest comparison with the paper goes here. lab/paper.sh keeps "
            "everything from this heading to the end of the file when it regenerates the rest. -->\n\n"
            "_To be written._\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    p = sub.add_parser("merge")
    p.add_argument("out")
    p = sub.add_parser("table")
    p.add_argument("out")
    for name in ("targets", "markdown"):
        p = sub.add_parser(name)
        p.add_argument("--homo", default="")
        p.add_argument("--hetero", default="")
        if name == "markdown":
            p.add_argument("--figdir", default="docs/results")
            p.add_argument("--figrel", default="results")
            p.add_argument("--cmd", action="append", default=[])
            p.add_argument("--keep", default="", help="earlier RESULTS.md whose discussion to keep")
    import scenario_report
    scen = scenario_report.add_commands(sub)
    a = ap.parse_args()
    if a.cmd_name in scen:
        return scen[a.cmd_name](a)
    if a.cmd_name == "merge":
        merge(a.out)
        return 0
    return {"table": cmd_table, "targets": cmd_targets, "markdown": cmd_markdown}[a.cmd_name](a)


if __name__ == "__main__":
    sys.exit(main())
