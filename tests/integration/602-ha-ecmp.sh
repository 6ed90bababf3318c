#!/usr/bin/env bash
# ALBM: ECMP over BGP spreads new flows over every distributor (albmd mode dr in each, lab/hanet).
#
# Three distributors each run albmd (mode dr, the same three servers, wrr, an ha group)
# and announce the VIP themselves (`announce on`: the tun device albm-vip0, which BIRD
# exports); the router's multipath route, hashed on the L4 5-tuple, gives each new
# connection of one client to one of them.  90 connections: every one is answered, every
# distributor's XDP program scheduled some (each at least 10 %), and the distributors'
# counts add up to exactly the client's.  Then d3 gets SIGTERM: it withdraws at once and,
# while it lingers (still forwarding), gets no new flow.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd albm-agent
[ -c /dev/net/tun ] || skip "/dev/net/tun not available"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

ha_up --distributors 3 --servers 3
httpd_up 3
wait_until 20 sessions_up 3 || fail "BGP sessions: $($LAB birdc r show protocols)"
albmd_ha d1 "$VIP" 3
albmd_ha d2 "$VIP" 3
HA_LINGER=30s albmd_ha d3 "$VIP" 3
wait_until 10 hops_are "10.78.0.11 10.78.0.12 10.78.0.13" ||
	fail "next hops: '$(nexthops)'"

got=$(conns 90 "$VIP")
echo "client: $got"
case $got in *"fail 0") ;; *) fail "failed connections: $got" ;; esac
f1=$(dr_flows d1) f2=$(dr_flows d2) f3=$(dr_flows d3)
echo "new flows per distributor: d1 $f1, d2 $f2, d3 $f3"
[ $((f1 + f2 + f3)) -eq 90 ] || fail "distributors scheduled $((f1 + f2 + f3)) flows, the client made 90"
for f in $f1 $f2 $f3; do
	[ "$f" -ge 9 ] || fail "a distributor got $f of 90 new flows (ECMP not spreading)"
done

# d3 drains: its announcement closes first, new flows go to d1 and d2 only.
kill -TERM "${ALBMD_PID[3]}"
wait_until 10 hops_are "10.78.0.11 10.78.0.12" || fail "d3 not withdrawn: '$(nexthops)'"
kill -0 "${ALBMD_PID[3]}" || fail "d3's albmd did not linger"
got=$(conns 30 "$VIP")
case $got in *"fail 0") ;; *) fail "failed connections after d3 withdrew: $got" ;; esac
[ "$(dr_flows d3)" -eq "$f3" ] || fail "d3 got new flows after it withdrew"
echo "after d3 withdrew: d1 $(($(dr_flows d1) - f1)), d2 $(($(dr_flows d2) - f2)), d3 0 of 30"
echo "PASS"
