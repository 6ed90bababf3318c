#!/usr/bin/env python3
"""ALBM bench/peers: turn the per-run measurements into tables and a targets verdict.

usage: peers_report.py RESULTS.tsv HZ
RESULTS.tsv columns (one line per wrk run, no header):
  run row balancer rps p50_us p99_us requests socket_errors non2xx bal_ticks backend_ticks
  wrk_cpu_ms host_busy_permille
Every figure in a table is the median over the runs of that (row, balancer); the ratios
are taken between medians of the same run set.  Markdown on stdout.
"""
import statistics
import sys

ROWS = [
    ("1b-ka", "1 B, keep-alive"),
    ("1b-close", "1 B, new connection per request (`Connection: close`)"),
    ("5m-ka", "5 MiB, keep-alive"),
]
PEERS = ["haproxy", "haproxy-splice", "nginx-rr", "nginx-lc"]
LABEL = {
    "direct": "direct (no balancer)",
    "albmd": "albmd (rr)",
    "albmd-log": "albmd (rr), access-log on",
    "haproxy": "HAProxy tcp",
    "haproxy-splice": "HAProxy tcp splice-auto",
    "nginx-rr": "nginx stream rr",
    "nginx-lc": "nginx stream least_conn",
}


def fmt_time(us):
    if us is None:
        return "-"
    if us < 1000:
        return "%.0f µs" % us
    if us < 1e6:
        return "%.2f ms" % (us / 1000)
    return "%.2f s" % (us / 1e6)


def fmt_rps(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def load(path, hz):
    runs = {}
    for line in open(path):
        f = line.split()
        if len(f) < 13:
            continue
        run, row, bal = f[0], f[1], f[2]
        rps, p50, p99 = float(f[3]), float(f[4]), float(f[5])
        req, err, non2xx = int(f[6]), int(f[7]), int(f[8])
        bt, bet, wms, busy = int(f[9]), int(f[10]), int(f[11]), int(f[12])
        per_req = (lambda t: t * 1e6 / hz / req if req > 0 else None)
        runs.setdefault((row, bal), []).append({
            "run": run, "rps": rps, "p50": p50, "p99": p99, "req": req,
            "err": err + non2xx,
            "cpu": per_req(bt) if bal != "direct" else None,
            "be": per_req(bet), "wrk": wms * 1e3 / req if req > 0 else None,
            "busy": busy / 10})
    return runs


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs):
    res = {}
    for key, rs in runs.items():
        res[key] = {k: median([r[k] for r in rs]) for k in ("rps", "p50", "p99", "cpu", "be", "wrk", "busy")}
        res[key]["err"] = sum(r["err"] for r in rs)
        res[key]["each"] = "/".join(fmt_rps(r["rps"]) for r in rs)
    return res


def best_peer(res, row, key, pick):
    cands = [(res[(row, p)][key], p) for p in PEERS
             if (row, p) in res and res[(row, p)][key] is not None]
    return pick(cands) if cands else (None, None)


def table(res, row):
    direct = res.get((row, "direct"), {}).get("rps")
    best_rps, _ = best_peer(res, row, "rps", max)
    print("| balancer | req/s | × direct | × best peer | p50 | p99 | balancer CPU µs/req "
          "| backends µs/req | wrk µs/req | host busy | req/s per run | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for bal in LABEL:
        r = res.get((row, bal))
        if not r:
            continue
        xd = "%.2f" % (r["rps"] / direct) if direct else "-"
        xp = "%.2f" % (r["rps"] / best_rps) if best_rps and bal != "direct" else "-"
        cpu = "-" if r["cpu"] is None else "%.1f" % r["cpu"]
        be = "-" if r["be"] is None else "%.1f" % r["be"]
        wrk = "-" if r["wrk"] is None else "%.1f" % r["wrk"]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f %% | %s | %d |" % (
            LABEL[bal], fmt_rps(r["rps"]), xd, xp, fmt_time(r["p50"]), fmt_time(r["p99"]),
            cpu, be, wrk, r["busy"], r["each"], r["err"]))


def verdict(ok):
    return "**MET**" if ok else "**MISSED**"


def targets(res):
    out = []
    for row, title in ROWS:
        a = res.get((row, "albmd"))
        if not a:
            continue
        name = title.split(" (")[0]
        brps, bp = best_peer(res, row, "rps", max)
        if bp:
            out.append("%s req/s ≥ 1.1× best peer (%s): albmd %s vs %s %s = %.2f× — %s" % (
                name, bp, fmt_rps(a["rps"]), bp, fmt_rps(brps), a["rps"] / brps,
                verdict(a["rps"] >= 1.1 * brps)))
        bcpu, bc = best_peer(res, row, "cpu", min)
        if bc and a["cpu"] is not None:
            out.append("%s CPU/request ≤ 0.8× lowest peer (%s): albmd %.1f µs vs %s %.1f µs "
                       "= %.2f× — %s" % (name, bc, a["cpu"], bc, bcpu, a["cpu"] / bcpu,
                                         verdict(a["cpu"] <= 0.8 * bcpu)))
        bp99, b9 = best_peer(res, row, "p99", min)
        if b9:
            out.append("%s p99 ≤ lowest peer p99 (%s): albmd %s vs %s %s — %s" % (
                name, b9, fmt_time(a["p99"]), b9, fmt_time(bp99), verdict(a["p99"] <= bp99)))
        if row == "5m-ka" and res.get((row, "direct")):
            d = res[(row, "direct")]["rps"]
            out.append("%s req/s ≥ 0.85× direct: albmd %s vs direct %s = %.2f× — %s" % (
                name, fmt_rps(a["rps"]), fmt_rps(d), a["rps"] / d, verdict(a["rps"] >= 0.85 * d)))
        lg = res.get((row, "albmd-log"))
        if lg and a["rps"]:
            cost = ("%.2f×" % (lg["cpu"] / a["cpu"])) if lg["cpu"] and a["cpu"] else "-"
            out.append("%s connection log: albmd with `access-log` %s req/s vs without %s = "
                       "%.2f× (CPU/request %s) — informative" % (
                           name, fmt_rps(lg["rps"]), fmt_rps(a["rps"]), lg["rps"] / a["rps"],
                           cost))
        if a["err"]:
            out.append("%s: albmd had %d socket errors or non-2xx responses — the row is "
                       "not a valid result" % (name, a["err"]))
    return out


def main():
    runs = load(sys.argv[1], int(sys.argv[2]))
    res = summarize(runs)
    for row, title in ROWS:
        if not any(k[0] == row for k in res):
            continue
        print("\n#### %s\n" % title)
        table(res, row)
    print("\n#### Targets (albmd against the best peer on each figure)\n")
    lines = targets(res)
    for line in lines:
        print("- " + line)
    met = sum("**MET**" in x for x in lines)
    missed = sum("**MISSED**" in x for x in lines)
    print("\n%d targets met, %d missed." % (met, missed))


if __name__ == "__main__":
    main()
