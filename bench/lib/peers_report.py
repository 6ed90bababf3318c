#!/usr/bin/env python3
"""ALBM bench/peers: turn the per-run measurements into tables and a targets verdict.

usage: peers_report.py RESULTS.tsv HZ
RESULTS.tsv columns (one line per wrk run, no header):
  run row balancer rps p50_us p99_us requests socket_errors non2xx bal_ticks backend_ticks
  wrk_cpu_ms host_busy_permille [rss_before_kib rss_during_kib connections kworker_ticks]
albmd's CPU includes the kworker threads' (where the in-kernel relay's writes run).
Every figure in a table is the median over the runs of that (row, balancer); the ratios
are taken between medians of the same run set.  Markdown on stdout.
"""
import statistics
import sys

ROWS = [
    ("1b-ka", "1 B, keep-alive"),
    ("1b-close", "1 B, new connection per request (`Connection: close`)"),
    ("5m-ka", "5 MiB, keep-alive"),
    ("1b-c1000", "1 B, keep-alive, 1000 connections"),
]
ALBMD = ["albmd", "albmd-epoll", "albmd-sockmap", "albmd-uring"]
OURS = ALBMD + ["uring"]  # not peers: compared against them
PEERS = ["haproxy", "haproxy-splice", "nginx-rr", "nginx-lc"]
LABEL = {
    "direct": "direct (no balancer)",
    "albmd": "albmd (rr, data-path auto)",
    "albmd-epoll": "albmd (rr, data-path epoll)",
    "albmd-sockmap": "albmd (rr, data-path sockmap)",
    "albmd-uring": "albmd (rr, data-path uring)",
    "uring": "io_uring relay prototype (rr)",
    "albmd-log": "albmd (rr, data-path auto), access-log on",
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
        rss0, rss1, conns = (int(f[13]), int(f[14]), int(f[15])) if len(f) >= 16 else (0, 0, 0)
        kw = max(0, int(f[16])) if len(f) >= 17 else 0  # a kworker that exited: < 0
        per_req = (lambda t: t * 1e6 / hz / req if req > 0 else None)
        runs.setdefault((row, bal), []).append({
            "run": run, "rps": rps, "p50": p50, "p99": p99, "req": req,
            "err": err + non2xx,
            "cpu": None if bal == "direct" else per_req(bt + kw) if bal in ALBMD else per_req(bt),
            "kw": per_req(kw),
            "be": per_req(bet), "wrk": wms * 1e3 / req if req > 0 else None,
            "busy": busy / 10,
            "rss": rss1 / 1024 if rss1 else None,
            "kib_conn": rss1 / conns if rss1 and conns else None,
            "kib_conn_added": (rss1 - rss0) / conns if rss1 and conns else None})
    return runs


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs):
    res = {}
    for key, rs in runs.items():
        res[key] = {k: median([r[k] for r in rs]) for k in (
            "rps", "p50", "p99", "cpu", "kw", "be", "wrk", "busy", "rss", "kib_conn",
            "kib_conn_added")}
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
    mem = row == "1b-c1000"
    print("| balancer | req/s | × direct | × best peer | p50 | p99 | balancer CPU µs/req "
          "| kworkers µs/req | backends µs/req | wrk µs/req | host busy | req/s per run | errors |" +
          (" RSS | KiB/conn | KiB/conn added |" if mem else ""))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |" +
          (" ---: | ---: | ---: |" if mem else ""))
    for bal in LABEL:
        r = res.get((row, bal))
        if not r:
            continue
        xd = "%.2f" % (r["rps"] / direct) if direct else "-"
        xp = "%.2f" % (r["rps"] / best_rps) if best_rps and bal != "direct" else "-"
        cpu = "-" if r["cpu"] is None else "%.1f" % r["cpu"]
        be = "-" if r["be"] is None else "%.1f" % r["be"]
        wrk = "-" if r["wrk"] is None else "%.1f" % r["wrk"]
        kw = "-" if r["kw"] is None else "%.1f" % r["kw"]
        line = "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f %% | %s | %d |" % (
            LABEL[bal], fmt_rps(r["rps"]), xd, xp, fmt_time(r["p50"]), fmt_time(r["p99"]),
            cpu, kw, be, wrk, r["busy"], r["each"], r["err"])
        if mem:
            line += " %s | %s | %s |" % (
                "-" if r["rss"] is None else "%.1f MiB" % r["rss"],
                "-" if r["kib_conn"] is None else "%.1f" % r["kib_conn"],
                "-" if r["kib_conn_added"] is None else "%.1f" % r["kib_conn_added"])
        print(line)


def verdict(ok):
    return "**MET**" if ok else "**MISSED**"


# issue 14: (row, req/s × best peer, CPU × lowest peer, p99 ≤ lowest peer, req/s × direct)
TARGETS = {
    "1b-ka": (1.15, 0.8, True, None),
    "1b-close": (1.1, None, True, None),
    "5m-ka": (None, None, False, 0.9),
    "1b-c1000": (None, None, False, None),
}


def targets(res, who="albmd"):
    out = []
    for row, title in ROWS:
        a = res.get((row, who))
        if not a:
            continue
        name = title.split(" (")[0]
        t_rps, t_cpu, t_p99, t_direct = TARGETS[row]
        brps, bp = best_peer(res, row, "rps", max)
        if bp and t_rps:
            out.append("%s req/s ≥ %.3g× best peer (%s): %s %s vs %s %s = %.2f× — %s" % (
                name, t_rps, bp, who, fmt_rps(a["rps"]), bp, fmt_rps(brps), a["rps"] / brps,
                verdict(a["rps"] >= t_rps * brps)))
        bcpu, bc = best_peer(res, row, "cpu", min)
        if bc and t_cpu and a["cpu"] is not None:
            out.append("%s CPU/request ≤ %.3g× lowest peer (%s): %s %.1f µs vs %s %.1f µs "
                       "= %.2f× — %s" % (name, t_cpu, bc, who, a["cpu"], bc, bcpu,
                                         a["cpu"] / bcpu, verdict(a["cpu"] <= t_cpu * bcpu)))
        bp99, b9 = best_peer(res, row, "p99", min)
        if b9 and t_p99:
            out.append("%s p99 ≤ lowest peer p99 (%s): %s %s vs %s %s — %s" % (
                name, b9, who, fmt_time(a["p99"]), b9, fmt_time(bp99),
                verdict(a["p99"] <= bp99)))
        if t_direct and res.get((row, "direct")):
            d = res[(row, "direct")]["rps"]
            out.append("%s req/s ≥ %.3g× direct: %s %s vs direct %s = %.2f× — %s" % (
                name, t_direct, who, fmt_rps(a["rps"]), fmt_rps(d), a["rps"] / d,
                verdict(a["rps"] >= t_direct * d)))
        h = res.get((row, "haproxy"))
        if row == "1b-c1000" and h and a["kib_conn"] and h["kib_conn"]:
            out.append("%s memory per connection (RSS / connections) ≤ 0.5× HAProxy's: %s "
                       "%.1f KiB vs haproxy %.1f KiB = %.2f× — %s (RSS added per connection: "
                       "%.1f vs %.1f KiB)" % (
                           name, who, a["kib_conn"], h["kib_conn"], a["kib_conn"] / h["kib_conn"],
                           verdict(a["kib_conn"] <= 0.5 * h["kib_conn"]),
                           a["kib_conn_added"], h["kib_conn_added"]))
        lg = res.get((row, "albmd-log"))
        if lg and a["rps"]:
            cost = ("%.2f×" % (lg["cpu"] / a["cpu"])) if lg["cpu"] and a["cpu"] else "-"
            out.append("%s connection log: albmd with `access-log` %s req/s vs without %s = "
                       "%.2f× (CPU/request %s) — informative" % (
                           name, fmt_rps(lg["rps"]), fmt_rps(a["rps"]), lg["rps"] / a["rps"],
                           cost))
        if a["err"]:
            out.append("%s: %s had %d socket errors or non-2xx responses — the row is "
                       "not a valid result" % (name, who, a["err"]))
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
    for who in OURS[1:]:
        if any(k[1] == who for k in res):
            print("\nThe same for %s (not the verdict):\n" % who)
            for line in targets(res, who):
                print("- " + line)
    met = sum("**MET**" in x for x in lines)
    missed = sum("**MISSED**" in x for x in lines)
    print("\n%d targets met, %d missed." % (met, missed))


if __name__ == "__main__":
    main()
