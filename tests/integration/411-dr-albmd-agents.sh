#!/usr/bin/env bash
# ALBM: albmd in mode dr with agents — albm's effective weights and overload exclusion
# drive the XDP table, and a server whose link goes down is failed over.
#
# A private lab (lab/netns: 1 client, the distributor, 3 albm-httpd servers, each in
# its own memory cgroup of 256 MiB and cpuacct cgroup) with a real albm-agent per
# server reporting to albmd's agents address in the distributor's namespace.  Checks:
#   1. albm: new flows follow the effective weights (static weights 1:3:1 times the
#      measured capacity); the table weights albmd gives XDP are those weights;
#   2. s3, whose agent reports it overloaded, is kept in the table with weight 0 and
#      gets no new flow;
#   3. s1 reported overloaded in the middle of a download: the download completes,
#      new flows avoid s1;
#   4. s2's link goes down: its agent's reports stop, after the agent timeout albmd
#      marks it down and removes it from the XDP table; no request fails;
#   5. the link comes back: reports resume, s2 is in the table and gets flows again.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd albm-agent
command -v curl >/dev/null || skip "curl not installed"
# shellcheck source=../lib/dr_albmd.sh
. tests/lib/dr_albmd.sh

[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpuacct ] ||
	skip "needs the cgroup v1 memory and cpuacct controllers (per-server measurements)"
dr_lab_up 3
MEMCG=/sys/fs/cgroup/memory/$ALBM_LAB_PREFIX-lab
ACCTCG=/sys/fs/cgroup/cpuacct/$ALBM_LAB_PREFIX-lab
on_exit "rmdir $ACCTCG/s1 $ACCTCG/s2 $ACCTCG/s3 $ACCTCG 2>/dev/null"
for i in 1 2 3; do # each server measured on its own: memory limit, CPU accounting
	[ -d "$MEMCG/s$i" ] || skip "lab/netns made no memory cgroup for s$i"
	echo $((256 << 20)) >"$MEMCG/s$i/memory.limit_in_bytes" || fail "memory limit of s$i"
	mkdir -p "$ACCTCG/s$i" && echo "${HTTPD_PID[i]}" >"$ACCTCG/s$i/cgroup.procs" ||
		fail "cpuacct cgroup of s$i"
done

"$BIN/albm-agent" --gen-key "$TMP/key" >/dev/null 2>&1 || fail "albm-agent --gen-key"
AGENTS=10.77.0.10:9190
declare -A AGENT_PID
start_agent() { # I [extra albm-agent options]: (re)start server I's agent
	local i=$1
	shift
	[ -n "${AGENT_PID[$i]:-}" ] && kill "${AGENT_PID[$i]}" 2>/dev/null && wait "${AGENT_PID[$i]}" 2>/dev/null
	# nsenter --net, not lab/netns exec: `ip netns exec` mounts a fresh /sys without
	# /sys/fs/cgroup, and the agent reads its server's cgroups
	sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' \
		sh "$MEMCG/s$i" "$ACCTCG/s$i" nsenter "--net=/run/netns/$ALBM_LAB_PREFIX-s$i" \
		"$BIN/albm-agent" --name "s$i" --distributor "$AGENTS" --key-file "$TMP/key" \
		--interval 100ms --cgroup "$MEMCG/s$i" "$@" >>"$TMP/agent$i.log" 2>&1 &
	AGENT_PID[$i]=$!
	track_pid $!
}
OVERLOAD=(--mem-low 99.9 --mem-high 100 --samples 1) # always short of memory

cat >"$TMP/albmd.conf" <<EOF
agents { listen $AGENTS; key-file $TMP/key; timeout 2s; }
control { socket $TMP/albmd.sock; }
service web {
	listen $VIP:80;
	mode dr;
	interface eth0;
	scheduler albm;
	slow-start off;
	server s1 10.77.0.11 weight 1;
	server s2 10.77.0.12 weight 3;
	server s3 10.77.0.13 weight 1;
}
EOF
start_albmd_dr "$TMP/albmd.conf"
start_agent 1
start_agent 2
start_agent 3 "${OVERLOAD[@]}"
state_is() { [ "$(jq_srv "$1" 's["state"]')" = "$2" ]; }
wait_until 15 state_is s1 up && wait_until 5 state_is s2 up && wait_until 5 state_is s3 overloaded ||
	fail "agents: states are not up/up/overloaded: $(ctl list)"
sleep 0.5

# ---- 1 and 2. effective weights; the overloaded server gets nothing ----------------------
tw() { jq_srv "$1" 'dr["table_weight"]'; }
eff() { jq_srv "$1" 's["effective_weight"]'; }
echo "effective weights s1 $(eff s1) s2 $(eff s2) s3 $(eff s3); table weights s1 $(tw s1) s2 $(tw s2) s3 $(tw s3)"
python3 - "$(eff s1)" "$(eff s2)" "$(tw s1)" "$(tw s2)" <<'EOF' || fail "table weights are not the effective weights"
import sys
e1, e2, t1, t2 = map(float, sys.argv[1:])
# the table weights are the effective weights x 256 (rounded); rebuilt on moves > 1/32
assert abs(t1 - 256 * e1) <= 256 * e1 / 16 + 1 and abs(t2 - 256 * e2) <= 256 * e2 / 16 + 1
EOF
[ "$(tw s3)" = 0 ] && [ "$(jq_srv s3 'dr["in_table"]')" = True ] ||
	fail "overloaded s3: table weight $(tw s3), in table $(jq_srv s3 'dr["in_table"]')"
[ "$(ctl list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["dr"]["table_from"])')" = effective-weights ] ||
	fail "albm's table is not made from effective weights"
f3=$(jq_srv s3 'dr["new_flows"]')
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 200)"
echo "1. albm, 200 connections: s1 $s1, s2 $s2, s3 $s3 (overloaded), failed $nfail"
[ "$nfail" -eq 0 ] || fail "$nfail requests failed"
[ "$s3" -eq 0 ] && [ "$(jq_srv s3 'dr["new_flows"]')" -eq "$f3" ] || fail "overloaded s3 got $s3 flows"
share=$(python3 -c "print(round(200 * $(tw s2) / ($(tw s1) + $(tw s2))))")
# s2's expected count from the table weights (~150); +-35 is over five standard deviations
[ "$s2" -ge $((share - 35)) ] && [ "$s2" -le $((share + 35)) ] ||
	fail "albm: s2 got $s2 of 200, expected about $share from the effective weights"

# ---- 3. overload reported during a download: established flow stays --------------------------
ctl drain web s2 >/dev/null && sleep 0.3 # the download goes to s1 (s3 is overloaded)
"$LAB" exec c1 curl -sS -m 60 --limit-rate 3M -o "$TMP/slow" -D "$TMP/slow.h" \
	"http://$VIP/bytes/8M" &
slow=$!
track_pid $slow
sleep 0.5
grep -qi "^x-server: s1" "$TMP/slow.h" || fail "the download is not on s1: $(cat "$TMP/slow.h")"
start_agent 1 "${OVERLOAD[@]}"
wait_until 10 state_is s1 overloaded || fail "s1 not overloaded: $(ctl list)"
ctl enable web s2 >/dev/null && sleep 0.3
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 40)"
echo "3. s1 overloaded: new connections s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s1" -eq 0 ] && [ "$s3" -eq 0 ] && [ "$s2" -eq 40 ] ||
	fail "with s1 and s3 overloaded: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
wait $slow || fail "a download broke when its server was reported overloaded"
[ "$(stat -c %s "$TMP/slow")" -eq $((8 << 20)) ] || fail "the download did not complete intact"
echo "   the download from s1 completed intact"
start_agent 1
wait_until 10 state_is s1 up || fail "s1 did not recover: $(ctl list)"

# ---- 4. s2's link goes down: reports stop -> timeout -> down -> out of the table ----------------
in_ns s2 ip link set eth0 down
wait_until 10 state_is s2 down || fail "s2 not down after its link went down: $(ctl list)"
[ "$(jq_srv s2 'dr["in_table"]')" = False ] || fail "s2 is down but still in the XDP table"
grep -q "agent 's2': no report for" "$TMP/albmd.log" || fail "no agent timeout logged for s2"
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 60)"
echo "4. s2's link down, removed: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$s1" -eq 60 ] ||
	fail "failover: s1 $s1, s2 $s2, s3 $s3, failed $nfail"

# ---- 5. back up -------------------------------------------------------------------------------
in_ns s2 ip link set eth0 up
wait_until 15 state_is s2 up || fail "s2 not up after its link came back: $(ctl list)"
sleep 0.3
[ "$(jq_srv s2 'dr["in_table"]')" = True ] || fail "s2 is up but not in the XDP table"
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 60)"
echo "5. s2 back: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s2" -gt 0 ] && [ "$s3" -eq 0 ] || fail "after recovery: s1 $s1, s2 $s2, failed $nfail"
stop_albmd
xdp_attached && fail "XDP program still attached after albmd stopped"
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/albmd.log" && fail "sanitizer report"
echo "PASS"
