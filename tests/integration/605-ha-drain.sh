#!/usr/bin/env bash
# ALBM: SIGTERM on a distributor withdraws its route before it stops serving; nothing is lost.
#
# Three albmd in an ha group (flow sync, `announce on`) behind the router's ECMP route.
#   1. readiness: d1, whose health checks cannot reach any server (blackhole routes in
#      d1 only), withdraws; when they reach them again it announces again;
#   2. while 30 long downloads run and a client opens a new connection every 20 ms,
#      d1's albmd gets SIGTERM: the router drops d1's next hop while d1's albmd still
#      runs (it lingers 4 s here, forwarding), then it exits; no new connection fails and
#      every download completes (a graceful drain loses 0 flows; its flows moved to d2
#      and d3 with the re-hash and continue there).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd albm-agent
[ -c /dev/net/tun ] || skip "/dev/net/tun not available"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

N=30
ha_up --distributors 3 --servers 2
httpd_up 2
wait_until 20 sessions_up 3 || fail "BGP sessions: $($LAB birdc r show protocols)"
# shellcheck disable=SC2034 # read by the sourced test library
HA_SVC="health-check tcp interval 200ms timeout 200ms rise 1 fall 1;"
HA_LINGER=4s albmd_ha d1 "$VIP" 3 # room for a slow withdraw on a loaded machine
for d in d2 d3; do albmd_ha "$d" "$VIP" 3; done
wait_until 10 hops_are "10.78.0.11 10.78.0.12 10.78.0.13" ||
	fail "next hops: '$(nexthops)'"

# ---- 1. ready: a service that can reach no server is not announced -------------------------
for a in 10.78.0.21 10.78.0.22; do in_ns d1 ip route add blackhole "$a/32"; done
wait_until 10 hops_are "10.78.0.12 10.78.0.13" || fail "d1 announced without a server: '$(nexthops)'"
grep -q "withdrawn (no server takes new flows)" "$STATE/d1/albmd.log" || fail "no reason logged"
for a in 10.78.0.21 10.78.0.22; do in_ns d1 ip route del blackhole "$a/32"; done
wait_until 10 hops_are "10.78.0.11 10.78.0.12 10.78.0.13" || fail "d1 not back: '$(nexthops)'"
echo "readiness: d1 withdrawn while its servers were unreachable, announced again after"

# ---- 2. SIGTERM during downloads and new connections --------------------------------------
dl_start "$N" 2M 256K
conns_for 6 "$VIP" >"$TMP/conns.out" &
CONNS_PID=$!
published() { [ "$(jget "$(dctl "$1" list --json)" 'j["ha"]["flows_published"]')" -gt 0 ]; }
wait_until 5 published d1 ||
	fail "d1 scheduled none of the flows"
t0=$(now_ms)
kill -TERM "${ALBMD_PID[1]}"
wait_until 10 hops_are "10.78.0.12 10.78.0.13" || fail "d1 not withdrawn: '$(nexthops)'"
tw=$(now_ms)
kill -0 "${ALBMD_PID[1]}" 2>/dev/null || fail "d1's albmd stopped before its route was withdrawn"
wait_until 10 eval '! kill -0 '"${ALBMD_PID[1]}"' 2>/dev/null' || fail "d1's albmd did not exit"
tx=$(now_ms)
echo "SIGTERM: route withdrawn after $((tw - t0)) ms, albmd exited after $((tx - t0)) ms"
grep -n "withdrawn\|detached" "$STATE/d1/albmd.log" | tail -3
wait "$CONNS_PID"
got=$(cat "$TMP/conns.out")
echo "new connections during the drain: $got"
case $got in *"fail 0") ;; *) fail "new connections failed during the drain: $got" ;; esac
dl_wait
echo "downloads: $DL_RES"
[ "$(jget "$DL_RES" 'j["ok"]')" -eq "$N" ] || fail "the drain lost downloads: $DL_RES"
echo "PASS"
