#!/usr/bin/env bash
# ALBM: albm-bench's open loop (--rate) against albm-httpd — the target rate is sent,
# latency is timed from the intended send time (a server past capacity shows its queue
# in the latency instead of thinning the load), a rate that cannot be sent is reported
# as such, the keep-alive pool, the time series, errors of a dead server, bad arguments.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed (JSON checks)"
command -v curl >/dev/null || skip "curl not installed"

TMP=$(mktemp -d /tmp/albm-304.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh

P1=$(free_port)
start_httpd fast "$P1" --cpu-per-mb 100us

# ---- 1. a rate the server easily carries: sent at the target, no errors, p99.9 reported
"$BIN/albm-bench" --url "http://127.0.0.1:$P1" --rate 300 --step 3s --mix 1:50,16K:50 --seed 5 \
	--csv "$TMP/a.csv" --json "$TMP/a.json" --series "$TMP/a.series" --interval 500ms \
	>"$TMP/a.out" 2>"$TMP/a.err" || { cat "$TMP/a.err"; fail "open-loop run exited $?"; }
cat "$TMP/a.out"
head -1 "$TMP/a.csv" | grep -qx 'step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms,p999_ms,rate,sent_rps,late_pct,share_fast' ||
	fail "open-loop CSV header: $(head -1 "$TMP/a.csv")"
python3 - "$TMP/a.json" <<'PY' || fail "open-loop JSON: $(cat "$TMP/a.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["config"]
assert c["loop"] == "open" and c["rate"] == "300", c
s = d["steps"][0]
assert s["clients"] == 1000, s  # the default pool
assert s["rate"] == 300 and s["errors"] == 0 and s["requests"] > 0, s
# 900 Poisson arrivals in 3 s: sd 3.3 %; 20 % is six of them
assert 240 <= s["sent_rps"] <= 360, s
assert 240 <= s["rps"] <= 360, s
assert s["p50_ms"] <= s["p99_ms"] <= s["p999_ms"], s
for k in ("sent", "late_pool", "late_loop", "backlog", "late_pct", "rate_met"):
    assert k in s, k
assert s["late_pool"] == 0, s  # 1000 connections never all busy
PY
# The series: one row per 500 ms over the run, requests adding up to the step's but for
# the last sliver of an interval (under half of one: not written, it would plot as a
# spurious dip; at 300/s, at most ~75 requests, allowed twice that on a loaded machine).
python3 - "$TMP/a.series" "$TMP/a.json" <<'PY' || fail "series: $(cat "$TMP/a.series")"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
step = json.load(open(sys.argv[2]))["steps"][0]
assert list(rows[0].keys()) == ["t_s", "unix_s", "step", "warmup", "requests", "errors", "rps",
                                "mib_s", "p50_ms", "p99_ms", "sent"], rows[0].keys()
assert 6 <= len(rows) <= 8, len(rows)
ts = [float(r["t_s"]) for r in rows]
assert ts == sorted(ts) and abs(ts[0] - 0.5) < 0.2, ts
sliver = 2 * 300 * 0.25
assert step["requests"] - sum(int(r["requests"]) for r in rows) <= sliver, rows
assert step["sent"] - sum(int(r["sent"]) for r in rows) <= sliver, rows
assert all(float(r["unix_s"]) > 1e9 for r in rows)
PY

# ---- 2. past capacity with one connection: the queue shows in the latency, and the
# shortfall is reported.  A 1 MiB answer costs 50 ms of CPU: capacity ~20/s, offered 40/s.
P2=$(free_port)
start_httpd slow "$P2" --cpu-per-mb 50ms
"$BIN/albm-bench" --url "http://127.0.0.1:$P2" --clients 1 --step 2s --mix 1M:100 --seed 1 \
	--json "$TMP/closed.json" --quiet 2>"$TMP/closed.err" || { cat "$TMP/closed.err"; fail "closed run"; }
"$BIN/albm-bench" --url "http://127.0.0.1:$P2" --rate 40 --clients 1 --step 2s --mix 1M:100 \
	--seed 1 --json "$TMP/b.json" --keepalive >"$TMP/b.out" 2>"$TMP/b.err" ||
	{ cat "$TMP/b.err"; fail "overload run exited $?"; }
cat "$TMP/b.out"
grep -q 'target rate 40.0 req/s was not sent' "$TMP/b.err" || { cat "$TMP/b.err"; fail "no warning for the rate not sent"; }
grep -q '!' "$TMP/b.out" || fail "the table does not mark the step"
python3 - "$TMP/b.json" "$TMP/closed.json" <<'PY' || fail "overload accounting: $(cat "$TMP/b.json")"
import json, sys
o = json.load(open(sys.argv[1]))["steps"][0]
c = json.load(open(sys.argv[2]))["steps"][0]
assert o["rate_met"] is False and o["late_pct"] > 1, o
assert o["late_pool"] > 0 and o["backlog"] > 0, o
assert o["sent_rps"] < 35, o
# Closed loop times from the send: about one service time.  Open loop times from the
# intended send: the arrivals' wait for the busy connection is in the latency.
assert o["p50_ms"] > 3 * c["p50_ms"], (o["p50_ms"], c["p50_ms"])
assert o["p99_ms"] > 400, o
PY

# ---- 3. the keep-alive pool: a few connections carry every request
P3=$(free_port)
start_httpd ka "$P3" --cpu-per-mb 100us
"$BIN/albm-bench" --url "http://127.0.0.1:$P3" --rate 100 --clients 4 --keepalive --step 2s \
	--mix 1:100 --seed 2 --csv "$TMP/c.csv" --quiet 2>"$TMP/c.err" || { cat "$TMP/c.err"; fail "keep-alive run"; }
[ "$(csv_col "$TMP/c.csv" 1 errors)" = 0 ] && gt0 "$(csv_col "$TMP/c.csv" 1 rps)" ||
	fail "keep-alive pool: $(cat "$TMP/c.csv")"
stats "$P3" >"$TMP/ka.json"
python3 - "$TMP/ka.json" <<'PY' || fail "keep-alive pool did not reuse connections: $(cat "$TMP/ka.json")"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["served"] > 100 and st["accepted"] <= 8, st
PY

# ---- 4. nobody listening: every arrival is a connect error, on schedule
P4=$(free_port)
timeout 20 "$BIN/albm-bench" --url "http://127.0.0.1:$P4" --rate 50 --step 1s --seed 3 \
	--json "$TMP/d.json" --quiet 2>"$TMP/d.err" || { cat "$TMP/d.err"; fail "dead-server run"; }
python3 - "$TMP/d.json" <<'PY' || fail "dead server: $(cat "$TMP/d.json")"
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
assert s["requests"] == 0 and s["errors"] >= 20, s
assert s["errors_by_kind"]["connect"] + s["errors_by_kind"]["io"] == s["errors"], s
assert s["p50_ms"] is None, s
PY

# ---- 5. bad command lines
for args in "--rate 0" "--rate 10,,20" "--rate 10 --clients 1:5" "--rate abc" \
	"--rate 5 --series - --csv -"; do
	# shellcheck disable=SC2086
	"$BIN/albm-bench" --url "http://127.0.0.1:$P1" $args >/dev/null 2>"$TMP/e.err"
	rc=$?
	[ "$rc" -eq 2 ] && [ -s "$TMP/e.err" ] || fail "albm-bench $args: exit $rc"
done
echo "open loop: ok"
