#!/usr/bin/env bash
# ALBM: the Grafana dashboard (contrib/grafana/albm.json) is valid JSON with unique panel
# ids, and every metric its queries use is one albmd exports: read from the /metrics of
# a running albmd with an agent's report (the albm_dr_* families only exist with a DR
# service: those are looked up in the source that prints them).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 608 albmd albmctl tools/send_report
HTTP=$(free_port) WEB=$(free_port) UDP=$(free_udp_port)
make_key "$TMP/agent.key"
cat >"$TMP/a.conf" <<CONF
agents { listen 127.0.0.1:$UDP; key-file $TMP/agent.key; timeout 10s; }
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web { listen 127.0.0.1:$WEB; scheduler albm; server s1 127.0.0.1:1; }
CONF
start_albmd "$TMP/a.conf"
"$BIN/tools/send_report" --to "127.0.0.1:$UDP" --key-file "$TMP/agent.key" --name s1 >/dev/null 2>&1 ||
	fail "send_report"
has_agent() { curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" | grep -q '^albm_agent_cpu_util{'; }
wait_until 10 has_agent || fail "no agent metrics after a report"
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics" || fail "GET /metrics"

python3 - contrib/grafana/albm.json "$TMP/metrics" src/distributor/dr_views.c <<'PY' || fail "dashboard check"
import json, re, sys
dash = json.load(open(sys.argv[1]))
exported = set(re.findall(r"^# TYPE (\w+) ", open(sys.argv[2]).read(), re.M))
dr_src = open(sys.argv[3]).read()
ids, exprs = [], []
for p in dash["panels"]:
    ids.append(p["id"])
    exprs += [t["expr"] for t in p.get("targets", [])]
for v in dash["templating"]["list"]:
    exprs.append(v["definition"])
assert len(ids) == len(set(ids)), "duplicate panel ids"
assert len(exprs) > 20, "too few queries"
bad = []
funcs = {"rate", "sum", "by", "max", "min", "increase", "label_values", "ignoring", "instance",
         "service", "server", "state", "result", "reason", "interface", "counter"}
for e in exprs:
    for m in set(re.findall(r"\b(albm_\w+)", e)):
        if m not in exported and not (m.startswith("albm_dr_") and '"%s"' % m in dr_src
                                      or m == "albm_dr_xdp_total" and m in dr_src):
            bad.append(m)
    assert e.count("(") == e.count(")"), "unbalanced parentheses: " + e
if bad:
    sys.exit("metrics not exported by albmd: %s" % sorted(set(bad)))
print("  %d panels, %d queries, every metric exported" % (len(ids), len(exprs)))
PY
echo "708-grafana: ok"
