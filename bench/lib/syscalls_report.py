#!/usr/bin/env python3
"""bench/peers.sh --syscalls: each balancer's system calls and context switches per
request, from the lines `RUN ROW BALANCER SYSCALLS SWITCHES REQ/S` that measure()
writes (perf stat over the wrk run), the median over the runs, a Markdown table per row.

    syscalls_report.py SYSCALLS.TSV DURATION_SECONDS
"""
import statistics
import sys

from peers_report import ROWS  # the rows and their titles, as in the main report


def main():
    path, duration = sys.argv[1], float(sys.argv[2])
    per = {}  # (row, balancer) -> [(syscalls/req, switches/req, req/s)]
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 6:
                continue
            _run, row, bal = parts[:3]
            sc, cs, rps = (float(x) for x in parts[3:])
            reqs = rps * duration
            if reqs <= 0:
                continue
            per.setdefault((row, bal), []).append((sc / reqs, cs / reqs, rps))
    print()
    print("System calls and context switches per request (perf stat on the balancer's "
          "processes over the wrk run; median of the runs):")
    for row, title in ROWS:
        bals = [b for (r, b) in per if r == row]
        if not bals:
            continue
        print()
        print(f"##### {title}: system calls")
        print()
        print("| balancer | syscalls/req | context switches/req | req/s |")
        print("| --- | ---: | ---: | ---: |")
        for bal in bals:
            vals = per[(row, bal)]
            sc = statistics.median(v[0] for v in vals)
            cs = statistics.median(v[1] for v in vals)
            rps = statistics.median(v[2] for v in vals)
            print(f"| {bal} | {sc:.2f} | {cs:.3f} | {rps:.0f} |")


if __name__ == "__main__":
    main()
