#!/usr/bin/env bash
# ALBM: albm-bench against albm-httpd on loopback — shares from X-Server, zero errors,
# the CSV/JSON contracts (docs/lab.md), a ramp, keep-alive, and 503s at a tiny hard limit.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed (JSON checks)"
command -v curl >/dev/null || skip "curl not installed"

TMP=$(mktemp -d /tmp/albm-300.XXXXXX)
on_exit "rm -rf '$TMP'"

# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh

P1=$(free_port)
P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
start_httpd s1 "$P1" --cpu-per-mb 100us
start_httpd s2 "$P2" --cpu-per-mb 100us

# ---- every response carries X-Server, 404 included; sizes with suffixes
hdr=$(curl -s -D - -o "$TMP/body" "http://127.0.0.1:$P1/bytes/5K")
grep -qi '^X-Server: s1' <<<"$hdr" || fail "no X-Server on 200: $hdr"
[ "$(stat -c %s "$TMP/body")" -eq 5120 ] || fail "/bytes/5K sent $(stat -c %s "$TMP/body") bytes"
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$P2/nope")
grep -q '^HTTP/1.1 404' <<<"$hdr" && grep -qi '^X-Server: s2' <<<"$hdr" || fail "404 without X-Server: $hdr"
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$P2/bytes/12Q")
grep -q '^HTTP/1.1 400' <<<"$hdr" && grep -qi '^X-Server: s2' <<<"$hdr" || fail "bad size: $hdr"

# ---- a fixed small mix against s1 for ~2 s: CSV and JSON
MIX=1:50,64K:40,1M:10
"$BIN/albm-bench" --url "http://127.0.0.1:$P1" --clients 2 --step 2s --mix "$MIX" --seed 7 \
	--csv "$TMP/a.csv" --json "$TMP/a.json" >"$TMP/a.out" 2>"$TMP/a.err" ||
	{ cat "$TMP/a.err"; fail "albm-bench exited $?"; }
cat "$TMP/a.out"
head -1 "$TMP/a.csv" | grep -qx 'step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms,share_s1' ||
	fail "CSV header: $(head -1 "$TMP/a.csv")"
[ "$(wc -l <"$TMP/a.csv")" -eq 2 ] || fail "CSV: expected 1 step row"
gt0 "$(csv_col "$TMP/a.csv" 1 rps)" || fail "rps is not > 0"
gt0 "$(csv_col "$TMP/a.csv" 1 mib_s)" || fail "mib_s is not > 0"
[ "$(csv_col "$TMP/a.csv" 1 errors)" = 0 ] || fail "errors: $(csv_col "$TMP/a.csv" 1 errors)"
[ "$(csv_col "$TMP/a.csv" 1 share_s1)" = 100.00 ] || fail "share_s1: $(csv_col "$TMP/a.csv" 1 share_s1)"
[ "$(csv_col "$TMP/a.csv" 1 clients)" = 2 ] || fail "clients column"
gt0 "$(csv_col "$TMP/a.csv" 1 p99_ms)" || fail "p99_ms is not > 0"
python3 - "$TMP/a.json" "$MIX" <<'PY' || fail "JSON contract"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "albm-bench" and d["format"] == 1, d
c = d["config"]
assert c["mix"] == sys.argv[2] and c["seed"] == "7" and c["keepalive"] is False, c
assert d["servers"] == ["s1"], d["servers"]
assert len(d["steps"]) == 1
s = d["steps"][0]
for k in ("step", "clients", "duration_s", "requests", "errors", "rps", "mib_s", "p50_ms",
          "p90_ms", "p99_ms", "bytes", "responses", "errors_by_kind", "servers"):
    assert k in s, k
assert s["requests"] > 0 and s["errors"] == 0 and s["rps"] > 0, s
assert s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"], s
assert s["servers"]["s1"]["share"] == 100.0 and s["servers"]["s1"]["errors"] == 0, s
assert sum(s["errors_by_kind"].values()) == 0, s
PY

# ---- the server agrees: it served what the bench counted (at least), nothing in flight
stats "$P1" >"$TMP/s1.json"
python3 - "$TMP/s1.json" "$TMP/a.json" <<'PY' || fail "s1 /stats: $(cat "$TMP/s1.json")"
import json, sys
st, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert st["name"] == "s1" and st["mode"] == "physical", st
assert st["served"] >= b["steps"][0]["requests"], (st["served"], b["steps"][0]["requests"])
assert st["inflight_requests"] == 0 and st["inflight_bytes"] == 0 and st["queued"] == 0, st
assert st["rejected_503"] == 0, st
PY

# ---- a ramp against s2 with keep-alive, CSV on stdout
"$BIN/albm-bench" --url "http://127.0.0.1:$P2/" --clients 1:3:2 --step 1s --mix "$MIX" \
	--keepalive --seed 9 --csv - >"$TMP/b.csv" 2>"$TMP/b.err" || { cat "$TMP/b.err"; fail "ramp run"; }
[ "$(wc -l <"$TMP/b.csv")" -eq 3 ] || fail "ramp: expected 2 rows: $(cat "$TMP/b.csv")"
[ "$(csv_col "$TMP/b.csv" 1 clients)" = 1 ] && [ "$(csv_col "$TMP/b.csv" 2 clients)" = 3 ] ||
	fail "ramp clients: $(cat "$TMP/b.csv")"
for r in 1 2; do
	[ "$(csv_col "$TMP/b.csv" $r errors)" = 0 ] || fail "ramp row $r has errors"
	[ "$(csv_col "$TMP/b.csv" $r share_s2)" = 100.00 ] || fail "ramp row $r share"
	gt0 "$(csv_col "$TMP/b.csv" $r rps)" || fail "ramp row $r rps"
done
grep -q '^step' "$TMP/b.err" || fail "the table should move to stderr when --csv -"
# Keep-alive: far fewer connections than requests.
stats "$P2" >"$TMP/s2.json"
python3 - "$TMP/s2.json" <<'PY' || fail "keep-alive did not reuse connections: $(cat "$TMP/s2.json")"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["served"] > 10 and st["accepted"] < st["served"] / 2, st
PY

# ---- 503 at a tiny --max-inflight-bytes: counted as errors, shares still name the server
P3=$(free_port)
start_httpd s3 "$P3" --cpu-per-mb 100us --max-inflight-bytes 100K --overflow 503
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$P3/bytes/1M")
grep -q '^HTTP/1.1 503' <<<"$hdr" && grep -qi '^X-Server: s3' <<<"$hdr" || fail "no 503: $hdr"
"$BIN/albm-bench" --url "http://127.0.0.1:$P3" --clients 2 --step 1s --mix 1M:100 --seed 1 \
	--json "$TMP/c.json" --quiet 2>"$TMP/c.err" || { cat "$TMP/c.err"; fail "503 run"; }
python3 - "$TMP/c.json" <<'PY' || fail "503 accounting: $(cat "$TMP/c.json")"
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
assert s["requests"] == 0 and s["errors"] > 0, s
assert s["errors_by_kind"]["status"] == s["errors"], s
assert s["servers"]["s3"]["share"] == 100.0 and s["servers"]["s3"]["errors"] > 0, s
assert s["p50_ms"] is None, s
PY
# Under the limit the same server serves.
"$BIN/albm-bench" --url "http://127.0.0.1:$P3" --clients 1 --step 1s --mix 64K:100 --csv "$TMP/d.csv" \
	--quiet 2>/dev/null || fail "small run"
[ "$(csv_col "$TMP/d.csv" 1 errors)" = 0 ] && gt0 "$(csv_col "$TMP/d.csv" 1 rps)" ||
	fail "64K under a 100K limit: $(cat "$TMP/d.csv")"

# ---- bad command lines are refused with a message, before any traffic
for args in "--url http://localhost:80" "--url http://127.0.0.1:$P1 --clients 5:1" \
	"--url http://127.0.0.1:$P1 --mix 1:0" "--url http://127.0.0.1:$P1 --step 5" \
	"--clients 2"; do
	# shellcheck disable=SC2086
	"$BIN/albm-bench" $args >/dev/null 2>"$TMP/e.err"
	rc=$?
	[ "$rc" -eq 2 ] && [ -s "$TMP/e.err" ] || fail "albm-bench $args: exit $rc"
done
timeout 5 "$BIN/albm-httpd" --listen "127.0.0.1:$(free_port)" --name "bad name" 2>/dev/null
[ $? -eq 2 ] || fail "bad --name accepted"
echo "lab tools: ok"
