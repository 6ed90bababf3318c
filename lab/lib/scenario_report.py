"""ALBM lab: the scenario suite's report — per-scenario tables, summary matrix, albm's targets.

lab/scenarios.sh runs, per scenario NAME of lab/scenarios/, three lab/run outputs under
ROOT/NAME: bound/ (the capacity bound: the same cluster without memory limits or events,
closed loop under one scheduler), closed/ (every scheduler, closed loop) and open/ (every
scheduler, open loop at percentages of the bound).  This module reads them (through
results.py's summaries) and writes docs/SCENARIOS.md; results.py is its command line:

  results.py bound OUT                      the capacity bound of a bound/ run (req/s)
  results.py scenarios --root ROOT --scenario NAME... [--figdir D --figrel R --cmd T --keep F]
  results.py scenario-targets --root ROOT --scenario NAME...

Python 3 standard library only.
"""
import csv
import os
import re
import shutil
import statistics
import subprocess

import results

# The scenarios whose interference connection counts do not see (issue 15, item 7: albm's
# open-loop p99 at 85 % of the bound <= 0.7x the best of lc/wlc/sed there; never above
# the best other scheduler elsewhere).
INVISIBLE = ("noisy-memory", "noisy-cpu", "gc-pauses")
NO_SWAP = ("no-swap",)
COUNTING = ("lc", "wlc", "sed")
P99_LOAD = 85.0        # the open-loop load of the p99 targets, % of the bound
WASTE_SWAP_MIB = 16.0  # a scheduler that swapped this much (or had OOM kills) wasted capacity
TARGETS = {"best": 0.97, "bound": 0.95, "waste": 1.15, "p99_invisible": 0.7, "mem_pct": 5.0}


def num(v, default=None):
    return results.num(v, default)


def sub(root, name, part):
    p = os.path.join(root, name, part)
    return p if os.path.isfile(os.path.join(p, "steps.csv")) else None


def bound_of(out):
    """The capacity bound of a bound/ run: its one scheduler's req/s at the last step."""
    _env, res = results.summary(out)
    vals = [d["rps"] for d in res.values() if d.get("ramp")]
    return max(vals) if vals else None


# ---- memory, CPU ----------------------------------------------------------------------

# A neighbour's memory is excluded from a sample for this long after the lab stopped it:
# it exits and frees its memory, and the agent's report the sample reads was taken up to
# an agent interval (200 ms) earlier.
HOG_GRACE_S = 0.5


def hog_pct(label, total):
    """Percent of the server's memory a hog-mem event label (hog-mem=60%, =40M) holds."""
    m = re.match(r"hog-mem=(\d+(?:\.\d+)?)(%|[KMG]?)$", label.strip())
    if not m:
        return 0.0
    if m.group(2) == "%":
        return float(m.group(1))
    mul = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]
    return float(m.group(1)) * mul * 100.0 / total if total else 0.0


def hogs_at(ivals, server, unix, total):
    """Percent of server's memory the neighbours held at time unix (with the grace)."""
    return sum(hog_pct(lab, total) for s, a, b, lab in ivals
               if s == server and a <= unix < b + HOG_GRACE_S and lab.startswith("hog-mem"))


def mem_low(out, sched):
    """(lowest available %, server, lowest excluding what a hog held, server, samples below
    5 % excluding hogs) over the scheduler's samples of its scheduling view (the agent's
    reports where there are any)."""
    try:
        with open(os.path.join(out, "mem.csv"), newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["scheduler"] == sched]
    except OSError:
        return None
    if any(r.get("src") == "agent" for r in rows):
        rows = [r for r in rows if r.get("src") == "agent"]
    ivals = results.timeline.intervals(results.timeline.read_events(os.path.join(out, sched)))
    t0 = results.t0_of(out, sched) or 0.0
    low = low_x = (101.0, "-")
    below = 0
    for r in rows:
        pct = num(r.get("avail_pct"))
        if pct is None:
            continue
        x = min(100.0, pct + hogs_at(ivals, r["server"], t0 + num(r.get("t_s"), 0),
                                     num(r.get("total_bytes"), 0)))
        low = min(low, (pct, r["server"]))
        low_x = min(low_x, (x, r["server"]))
        below += x < TARGETS["mem_pct"]
    return {"low": low[0], "low_srv": low[1], "low_x": low_x[0], "low_x_srv": low_x[1],
            "below_x": below, "n": len(rows)}


def queue_counts(out, sched):
    """(clients that waited in albmd's queue, of them sent on at its bound, closed at it),
    from albmd's counters at the end of the scheduler's run, or None."""
    import json
    try:
        with open(os.path.join(out, sched, "state-end.json")) as f:
            svc = json.load(f)["services"][0]
        return (svc.get("queued_total", 0), svc.get("queue_overflows", 0),
                svc.get("queue_timeouts", 0))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def cpu_cores(out, sched):
    """The most albmd and albm-bench used during a bench run (cores), or None."""
    try:
        with open(os.path.join(out, sched, "cpu.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    if not rows:
        return None
    return (max(num(r["albmd_cores"], 0) for r in rows),
            max(num(r["bench_cores"], 0) for r in rows))


# ---- one scenario ---------------------------------------------------------------------

def scenario(root, name):
    """Everything the report needs of one scenario."""
    sc = {"name": name, "bound": None, "closed": {}, "open": {}, "env": {}, "scheds": []}
    b = sub(root, name, "bound")
    if b:
        sc["bound"] = bound_of(b)
        sc["bound_sched"] = results.schedulers(b)
    c = sub(root, name, "closed")
    if c:
        env, res = results.summary(c)
        sc["env"], sc["scheds"] = env, list(res)
        for s, d in res.items():
            if not d.get("ramp"):
                continue
            swap = max((v["swap_max"] for v in d["mem"].values()), default=0.0) / 1048576
            sc["closed"][s] = {"rps": d["rps"], "p99": d["p99"], "p999": d["p999"],
                               "errors": d["errors"], "oom": d["oom_kills"],
                               "restarts": d["restarts"], "swap_mib": swap,
                               "mem": mem_low(c, s), "cpu": cpu_cores(c, s),
                               "queue": queue_counts(c, s)}
    o = sub(root, name, "open")
    if o:
        env, res = results.summary(o)
        if not sc["env"]:
            sc["env"], sc["scheds"] = env, list(res)
        for s, d in res.items():
            steps = {}
            for r in d.get("ramp", []):
                rate = num(r.get("rate"), 0)
                load = 100.0 * rate / sc["bound"] if sc["bound"] else None
                steps[round(load) if load is not None else rate] = {
                    "rate": rate, "rps": num(r.get("rps")), "p50": num(r.get("p50_ms")),
                    "p99": num(r.get("p99_ms")), "p999": num(r.get("p999_ms")),
                    "errors": int(num(r.get("errors"), 0)), "late": num(r.get("late_pct"))}
            sc["open"][s] = {"steps": steps, "oom": d.get("oom_kills", 0),
                             "errors": d.get("errors", 0), "mem": mem_low(o, s),
                             "cpu": cpu_cores(o, s), "queue": queue_counts(o, s)}
    return sc


def eff(sc, s):
    d = sc["closed"].get(s)
    return d["rps"] / sc["bound"] if d and sc["bound"] else None


def open_p99(sc, s, load=P99_LOAD):
    st = sc["open"].get(s, {}).get("steps", {})
    return st.get(round(load), {}).get("p99")


# ---- the targets ------------------------------------------------------------------------

def targets(scs):
    """[(verdict, text)] of issue 15 item 7 for albm, one line per scenario and target."""
    out = []
    for sc in scs:
        n, a = sc["name"], sc["closed"].get("albm")
        if not a:
            out.append(("SKIPPED", f"{n}: no closed-loop albm run"))
            continue
        others = {s: d for s, d in sc["closed"].items() if s != "albm"}
        if others:
            best = max(others, key=lambda s: others[s]["rps"])
            r = a["rps"] / others[best]["rps"] if others[best]["rps"] else float("inf")
            out.append(("MET" if r >= TARGETS["best"] else "MISSED",
                        f"{n}: closed loop albm {a['rps']:.1f} req/s = {r:.2f}x the best other "
                        f"({best} {others[best]['rps']:.1f}) (target >= {TARGETS['best']}x)"))
        if sc["bound"]:
            e = a["rps"] / sc["bound"]
            out.append(("MET" if e >= TARGETS["bound"] else "MISSED",
                        f"{n}: closed loop albm efficiency {e:.2f} (bound {sc['bound']:.1f} req/s) "
                        f"(target >= {TARGETS['bound']})"))
        for s, d in others.items():
            if d["oom"] > 0 or d["swap_mib"] >= WASTE_SWAP_MIB:
                r = a["rps"] / d["rps"] if d["rps"] else float("inf")
                why = f"{d['oom']} OOM kills" if d["oom"] else f"{d['swap_mib']:.0f} MiB swapped"
                out.append(("MET" if r >= TARGETS["waste"] else "MISSED",
                            f"{n}: {s} wasted capacity ({why}): albm {r:.2f}x {s} "
                            f"(target >= {TARGETS['waste']}x)"))
        out += p99_target(sc)
        if n in NO_SWAP:
            oom = a["oom"] + sc["open"].get("albm", {}).get("oom", 0)
            err = a["errors"] + sc["open"].get("albm", {}).get("errors", 0)
            out.append(("MET" if oom == 0 and err == 0 else "MISSED",
                        f"{n}: albm OOM kills {oom}, errors {err} (closed + open loop; target 0 and 0)"))
        lows = [m for m in (a.get("mem"), sc["open"].get("albm", {}).get("mem")) if m]
        if lows:
            m = min(lows, key=lambda m: m["low_x"])
            out.append(("MET" if m["low_x"] >= TARGETS["mem_pct"] else "MISSED",
                        f"{n}: lowest available memory under albm, hogs' memory excluded = "
                        f"{m['low_x']:.1f} % ({m['low_x_srv']}; {m['below_x']} of {m['n']} samples "
                        f"below {TARGETS['mem_pct']:.0f} %) (target >= {TARGETS['mem_pct']:.0f} %)"))
    return out


def p99_target(sc):
    n, mine = sc["name"], open_p99(sc, "albm")
    if mine is None:
        return [("SKIPPED", f"{n}: no open-loop albm p99 at {P99_LOAD:.0f} %")]
    if n in INVISIBLE:
        peers = {s: open_p99(sc, s) for s in COUNTING}
        peers = {s: v for s, v in peers.items() if v}
        if not peers:
            return [("SKIPPED", f"{n}: no lc/wlc/sed open-loop run")]
        best = min(peers, key=peers.get)
        r = mine / peers[best]
        return [("MET" if r <= TARGETS["p99_invisible"] else "MISSED",
                 f"{n}: open loop p99 at {P99_LOAD:.0f} %: albm {mine:.0f} ms = {r:.2f}x the best of "
                 f"lc/wlc/sed ({best} {peers[best]:.0f} ms) (target <= {TARGETS['p99_invisible']}x)")]
    peers = {s: open_p99(sc, s) for s in sc["open"] if s != "albm"}
    peers = {s: v for s, v in peers.items() if v}
    if not peers:
        return [("SKIPPED", f"{n}: no other open-loop run")]
    best = min(peers, key=peers.get)
    return [("MET" if mine <= peers[best] else "MISSED",
             f"{n}: open loop p99 at {P99_LOAD:.0f} %: albm {mine:.0f} ms, the best other "
             f"{best} {peers[best]:.0f} ms (target: not above it)")]


# ---- markdown ---------------------------------------------------------------------------

def fmt(v, nd=0):
    return "-" if v is None else f"{v:.{nd}f}"


def md_table(f, lines):
    results.print_md(lines, f)
    f.write("\n")


def matrix(scs, scheds, cell):
    lines = [["scenario"] + scheds]
    for sc in scs:
        lines.append([sc["name"]] + [cell(sc, s) for s in scheds])
    return lines


def all_scheds(scs):
    seen = []
    for sc in scs:
        for s in sc["scheds"]:
            if s not in seen:
                seen.append(s)
    return seen


def closed_table(sc):
    lines = [["scheduler", "req/s", "efficiency", "p99 ms", "p99.9 ms", "errors",
              "lowest avail % (server)", "lowest, hogs excluded", "OOM kills", "restarts",
              "peak swap MiB", "albmd / bench cores", "queued (at the bound)"]]
    for s in sc["scheds"]:
        d = sc["closed"].get(s)
        if not d:
            continue
        m, cpu = d["mem"], d["cpu"]
        lines.append([s, fmt(d["rps"], 1), fmt(eff(sc, s), 2), fmt(d["p99"]), fmt(d["p999"]),
                      str(d["errors"]),
                      f"{m['low']:.1f} ({m['low_srv']})" if m else "-",
                      f"{m['low_x']:.1f}" if m else "-", str(d["oom"]), str(d["restarts"]),
                      fmt(d["swap_mib"]), f"{cpu[0]:.2f} / {cpu[1]:.2f}" if cpu else "-",
                      queue_cell(d.get("queue"))])
    return lines


def queue_cell(q):
    return f"{q[0]} ({q[1] + q[2]})" if q else "-"


def open_table(sc):
    loads = sorted({l for d in sc["open"].values() for l in d["steps"]})
    head = ["scheduler"] + [f"{l:g} %: p50 / p99 / p99.9 ms" for l in loads] + \
        ["errors", "OOM kills", "lowest avail %, hogs excl.", "queued (at the bound)"]
    lines = [head]
    for s in sc["scheds"]:
        d = sc["open"].get(s)
        if not d:
            continue
        row = [s]
        for l in loads:
            st = d["steps"].get(l)
            row.append(f"{fmt(st['p50'])} / {fmt(st['p99'])} / {fmt(st['p999'])}"
                       + (f" (late {st['late']:.0f} %)" if st and (st['late'] or 0) > 1 else "")
                       if st else "-")
        row += [str(d["errors"]), str(d["oom"]),
                f"{d['mem']['low_x']:.1f}" if d.get("mem") else "-", queue_cell(d.get("queue"))]
        lines.append(row)
    return lines


def copy_figs(root, sc, figdir):
    """The scenario's figures into figdir as NAME-{closed,open}-KIND.png; their names."""
    n, got = sc["name"], []
    for part in ("closed", "open"):
        src = os.path.join(root, n, part)
        for kind in ("time", "p99", "rps", "mem-rr", "mem-albm"):
            if part == "closed" and kind in ("p99", "rps"):
                continue  # one step: no curve
            p = os.path.join(src, f"{n}-{kind}.png")
            if os.path.exists(p):
                dst = f"{n}-{part}-{kind}.png"
                shutil.copyfile(p, os.path.join(figdir, dst))
                got.append((part, kind, dst))
    return got


FIG_CAPTION = {"time": "requests/s and p99 over time, events shaded", "p99": "p99 vs offered load",
               "rps": "requests/s vs offered load", "mem-rr": "available memory per server under rr",
               "mem-albm": "available memory per server under albm"}


def plot_matrix(scs, scheds, figdir, name, cell, ttl, ylab, logy=False):
    """A clustered bar chart of one summary matrix (gnuplot; skipped without it)."""
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(figdir, f"{name}.dat")
    with open(dat, "w") as f:
        f.write("scenario " + " ".join(scheds) + "\n")
        for sc in scs:
            vals = [cell(sc, s) for s in scheds]
            f.write(sc["name"] + " " + " ".join("?" if v is None else f"{v:.4g}" for v in vals) + "\n")
    png = os.path.join(figdir, f"{name}.png")
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plot")
    cmd = ["gnuplot", "-e", f"gpdir='{gp}'; data='{dat}'; scheds='{' '.join(scheds)}'; "
           f"out='{png}'; ttl='{ttl}'; ylab='{ylab}'; logy={1 if logy else 0}",
           os.path.join(gp, "matrix.gp")]
    ok = subprocess.run(cmd, capture_output=True).returncode == 0
    os.unlink(dat)
    return f"{name}.png" if ok else None


def machine(root):
    try:
        with open(os.path.join(root, "machine.txt")) as f:
            return f.read().strip()
    except OSError:
        return ""


def write_markdown(f, a):
    scs = [scenario(a.root, n) for n in a.scenario]
    scheds = all_scheds(scs)
    os.makedirs(a.figdir, exist_ok=True)
    f.write("# ALBM scenario results\n\n")
    f.write("Generated by `lab/scenarios.sh` (`make scenarios`) from the CSVs of `lab/run`; tables, "
            "figures and the targets check are computed by `lab/lib/scenario_report.py`. Do not edit "
            "by hand except the section marked for the lead. What each scenario is and how it is "
            "sized: [lab/scenarios/README.md](../lab/scenarios/README.md).\n\n")
    m = machine(a.root)
    if m:
        f.write("The machine during the run (2 cores, shared):\n\n```\n" + m + "\n```\n\n")
    if a.cmd:
        f.write("Commands:\n\n```\n" + "\n".join(a.cmd) + "\n```\n\n")
    f.write("## albm's targets (issue 15, item 7)\n\n```\n")
    for verdict, text in targets(scs):
        f.write(f"{verdict:7s} {text}\n")
    f.write("```\n\n")
    f.write("## Summary\n\nClosed loop (32 clients): efficiency = requests/s / the scenario's "
            "capacity bound (the same cluster without memory limits or events, closed loop under "
            "lc; its req/s in the second column).\n\n")
    lines = matrix(scs, scheds, lambda sc, s: fmt(eff(sc, s), 2))
    for row, sc in zip(lines[1:], scs):
        row.insert(1, fmt(sc["bound"], 1))
    lines[0].insert(1, "bound req/s")
    md_table(f, lines)
    f.write(f"Open loop: p99 latency (ms) at {P99_LOAD:.0f} % of the bound (Poisson arrivals, "
            "latency from the intended send time).\n\n")
    md_table(f, matrix(scs, scheds, lambda sc, s: fmt(open_p99(sc, s))))
    f.write("OOM kills / errors, closed + open loop.\n\n")
    md_table(f, matrix(scs, scheds, lambda sc, s: "{} / {}".format(
        sc["closed"].get(s, {}).get("oom", 0) + sc["open"].get(s, {}).get("oom", 0),
        sc["closed"].get(s, {}).get("errors", 0) + sc["open"].get(s, {}).get("errors", 0))))
    for name, cell, ttl, ylab, logy in (
            ("summary-efficiency", eff, "Closed loop: efficiency (req/s / capacity bound)",
             "efficiency", False),
            ("summary-p99", open_p99, f"Open loop: p99 at {P99_LOAD:.0f} % of the bound",
             "p99 latency (ms, log scale)", True)):
        png = plot_matrix(scs, scheds, a.figdir, name, cell, ttl, ylab, logy)
        if png:
            f.write(f"![{ttl}]({a.figrel}/{png})\n\n")
    for sc in scs:
        write_scenario(f, a, sc)
    f.write(results.kept_discussion(a.keep))


def write_scenario(f, a, sc):
    env = sc["env"]
    f.write(f"## {sc['name']}\n\n{env.get('title', '')}. Overload: {env.get('overload_note', '?')}."
            f" Capacity bound: {fmt(sc['bound'], 1)} req/s.\n\n```\n")
    for k in sorted(env):
        if k.startswith("server.") or k in ("mix", "mem_factor", "cpu_per_mb", "clients", "step",
                                             "warmup"):
            f.write(f"{k}={env[k]}\n")
    for at, end, srv, lab in results.timeline.planned(env)[:4]:
        f.write(f"event at {at:g}s{'' if end is None else f' for {end - at:g}s'} {srv} {lab}\n")
    f.write("```\n\nClosed loop, 32 clients:\n\n")
    md_table(f, closed_table(sc))
    if sc["open"]:
        f.write("Open loop, percent of the bound:\n\n")
        md_table(f, open_table(sc))
    for part, kind, png in copy_figs(a.root, sc, a.figdir):
        f.write(f"![{sc['name']}, {part} loop: {FIG_CAPTION[kind]}]({a.figrel}/{png})\n\n")


def cmd_scenarios(a):
    import sys
    write_markdown(sys.stdout, a)
    return 0


def cmd_targets(a):
    for verdict, text in targets([scenario(a.root, n) for n in a.scenario]):
        print(f"{verdict:7s} {text}")
    return 0


def cmd_bound(a):
    b = bound_of(a.out)
    if b is None:
        return 1
    print(f"{b:.2f}")
    return 0


def add_commands(subparsers):
    p = subparsers.add_parser("bound")
    p.add_argument("out")
    for name in ("scenarios", "scenario-targets"):
        p = subparsers.add_parser(name)
        p.add_argument("--root", required=True)
        p.add_argument("--scenario", action="append", default=[])
        if name == "scenarios":
            p.add_argument("--figdir", default="docs/scenarios")
            p.add_argument("--figrel", default="scenarios")
            p.add_argument("--cmd", action="append", default=[])
            p.add_argument("--keep", default="")
    return {"bound": cmd_bound, "scenarios": cmd_scenarios, "scenario-targets": cmd_targets}
