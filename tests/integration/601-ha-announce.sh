#!/usr/bin/env bash
# ALBM: the VIP is announced over BGP exactly while its holder lives (dr_announce + BIRD, contrib/bird).
#
#   1. a process holding the VIP on the non-persistent tun albm-vip0 in d1, then in d2:
#      the router installs one, then two ECMP next hops;
#   2. kill -9 of d1's holder: the tun device vanishes with its fd and the router
#      withdraws d1 (the time from the kill to the router's kernel route is printed);
#   3. d2's holder closes the device while it keeps running (the first step of a drain):
#      withdrawn too;
#   4. d1 announces again; kill -9 of d1's BIRD itself: the router drops the session
#      (TCP closed by the kernel) and the route with it.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin tools/vip_announce
[ -c /dev/net/tun ] || skip "/dev/net/tun not available"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

ha_up --distributors 2 --servers 1
wait_until 20 sessions_up 2 || fail "BGP sessions: $($LAB birdc r show protocols)"

# ---- 1. announce ----------------------------------------------------------------------------
announce d1
wait_until 5 hops_are "10.78.0.11" || fail "after d1 announced: next hops '$(nexthops)'"
announce d2
wait_until 5 hops_are "10.78.0.11 10.78.0.12" || fail "ECMP: next hops '$(nexthops)'"
in_ns r ip route show "$VIP" | grep -q "nexthop via 10.78.0.12" || fail "not a multipath route"
echo "announced by d1 and d2: $(in_ns r ip route show "$VIP" | tr -s ' \n\t' ' ')"

# ---- 2. kill -9 the holder ------------------------------------------------------------------
only_d2() { [ "$(nexthops)" = 10.78.0.12 ]; }
t0=$(now_ms)
kill -9 "${ANN_PID[1]}"
wait_until 10 only_d2 || fail "d1 not withdrawn after kill -9: '$(nexthops)'"
echo "kill -9 of the holder: withdrawn at the router after $(($(now_ms) - t0)) ms (polled every 50 ms)"
in_ns d1 ip link show albm-vip0 >/dev/null 2>&1 && fail "albm-vip0 still exists in d1"

# ---- 3. close while running (drain) ---------------------------------------------------------
t0=$(now_ms)
echo close >&12
wait_until 10 hops_are "" || fail "d2 not withdrawn after close: '$(nexthops)'"
echo "close (drain) of the device: withdrawn after $(($(now_ms) - t0)) ms"
kill -0 "${ANN_PID[2]}" 2>/dev/null || fail "d2's holder should still run"

# ---- 4. BIRD itself dies ------------------------------------------------------------------------
exec 11>&-
wait "${ANN_PID[1]}" 2>/dev/null
rm -f "$TMP/ann-d1" "$TMP/ann-d1.out"
announce d1
wait_until 5 hops_are "10.78.0.11" || fail "d1 again: '$(nexthops)'"
t0=$(now_ms)
# shellcheck disable=SC2046
kill -9 $(pid_in d1 bird)
wait_until 10 hops_are "" || fail "route kept after d1's BIRD died: '$(nexthops)'"
echo "kill -9 of d1's BIRD: withdrawn after $(($(now_ms) - t0)) ms"
echo "PASS"
