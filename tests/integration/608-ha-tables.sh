#!/usr/bin/env bash
# ALBM: agents report to three distributors, and the three build the same table from them.
#
# Three albmd (mode dr, scheduler albm, an agents block each, an ha group with a table
# interval of 1 s) and three servers:
#   1. albm-agent on each server reports to all three distributors at once
#      (--distributor A,B,C): every distributor takes every agent's reports;
#   2. then each server's reports come from tests/tools/send_report, one datagram to the
#      three distributors 50 ms apart (d3 gets each 100 ms after d1), every 200 ms, with
#      an available memory that changes with every report: the albm scheduler's own
#      weights differ between distributors, but the ha group's tables (levels of the
#      reports dated before each boundary) must not.  Sampled for 5 s: whenever the three
#      are at the same table version their digests are equal, the tables did change
#      (at least 2 digests seen), the heartbeats say the peers agree, and no disagreement
#      was counted.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd albm-agent tools/send_report
[ -c /dev/net/tun ] || skip "/dev/net/tun not available"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

ha_up --distributors 3 --servers 3 --no-bird
httpd_up 3
ha_key
for i in 1 2 3; do
	HA_SCHED=albm HA_INTERVAL=1s \
		HA_TOP="agents { listen 10.78.0.1$i:7070; key-file $STATE/sync.key; timeout 3s; }" \
		albmd_ha "d$i" "$VIP" 3
done
DISTS=10.78.0.11:7070,10.78.0.12:7070,10.78.0.13:7070

# ---- 1. one agent, three distributors ---------------------------------------------------------
for i in 1 2 3; do
	"$LAB" exec "s$i" "$BIN/albm-agent" --name "s$i" --distributor "$DISTS" \
		--key-file "$STATE/sync.key" --interval 200ms --log-level warn >"$TMP/agent$i.log" 2>&1 &
	AGENT_PID[i]=$!
	track_pid $!
done
reports() { # the reports distributor $1 accepted from the agent of server $2
	jget "$(dctl "$1" list --json)" \
		"[s['agent'] and 1 for s in j['services'][0]['servers'] if s['name'] == '$2'][0] or 0"
}
all_report() {
	local d s
	for d in d1 d2 d3; do
		for s in s1 s2 s3; do [ "$(reports "$d" "$s")" = 1 ] || return 1; done
	done
}
wait_until 10 all_report || fail "not every distributor has every agent's report: $(dctl d3 list)"
for d in d1 d2 d3; do
	echo "$d: memory available as reported: $(dctl "$d" list |
		awk '$1 == "->" && $2 ~ /^s[0-9]/ { printf "%s %s  ", $2, $9 }')"
done
for i in 1 2 3; do kill "${AGENT_PID[i]}"; wait "${AGENT_PID[i]}" 2>/dev/null; done
echo "every distributor takes the reports of all three agents"

# ---- 2. the same reports at different moments, the same tables ------------------------------
G=$((1 << 30))
avail=("$((8 * G)),$((6 * G)),$((3 * G)),$((1 * G))" "$((2 * G)),$((5 * G)),$((7 * G))" \
	"$((5 * G)),$((4 * G))")
for i in 1 2 3; do
	"$LAB" exec "s$i" "$BIN/tools/send_report" --name "s$i" --key-file "$STATE/sync.key" \
		--to 10.78.0.11:7070 --to 10.78.0.12:7070 --to 10.78.0.13:7070 --stagger-ms 50 \
		--interval-ms 200 --count 60 --mem-total "$((8 * G))" --mem-avail "${avail[i - 1]}" &
	track_pid $!
done
# Sample the three tables for 5 s (one process: ~20 ms a sample): every sample where
# the three are at one version must have one digest.
python3 - "$BIN/albmctl" "$STATE" >"$TMP/samples" <<'PY' || fail "sampling failed"
import json, subprocess, sys, time
ctl, state = sys.argv[1], sys.argv[2]
same, digests, end = 0, [], time.monotonic() + 5
while time.monotonic() < end:
    t = []
    for d in ("d1", "d2", "d3"):
        out = subprocess.run([ctl, "-s", f"{state}/{d}/albmd.sock", "list", "--json"],
                             capture_output=True, text=True, check=True).stdout
        dr = json.loads(out)["services"][0]["dr"]
        t.append((dr["table_version"], dr["table_digest"]))
    if len({v for v, _ in t}) == 1:
        if len({g for _, g in t}) != 1:
            print(f"DIFFER version {t[0][0]}: {[g[:12] for _, g in t]}")
            sys.exit(1)
        same += 1
        if t[0][1][:12] not in digests:
            digests.append(t[0][1][:12])
    time.sleep(0.05)
print(same, " ".join(digests))
PY
read -r same digests <"$TMP/samples"
echo "samples at one version: $same, all equal; digests seen: $digests"
[ "$same" -ge 5 ] || fail "too few samples at one version ($same)"
[ "$(echo "$digests" | wc -w)" -ge 2 ] || fail "the tables never changed: the test proves nothing"
for d in d1 d2 d3; do
	j=$(dctl "$d" list --json)
	[ "$(jget "$j" 'sum(p["table_disagreements"] for p in j["ha"]["peers"])')" = 0 ] ||
		fail "$d counted a disagreement: $(dctl "$d" list | tail -3)"
	[ "$(jget "$j" 'all(p["tables"] == "agree" for p in j["ha"]["peers"])')" = True ] ||
		fail "$d: peers do not agree: $(dctl "$d" list | tail -3)"
done
echo "heartbeats: every peer agrees, no disagreement counted"
dctl d1 list | sed -n '1,12p'
echo "PASS"
