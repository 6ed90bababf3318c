#!/usr/bin/env bash
# ALBM: the HA testbed lab/hanet — a small internet in namespaces, up and down, also after kill -9.
#
#   1. `up --distributors 2 --servers 2` builds client, router, distributors, servers and
#      bridges (nothing in the root namespace), starts BIRD in the router and in each
#      distributor, and the router's BGP sessions with both distributors come up;
#      the client reaches a server through the router (two segments, routed).
#   2. `up` again rebuilds cleanly.
#   3. kill -9 of every process in the lab (BIRD, keepalived, a server) — a crash of
#      everything — then `down` removes every namespace, process and state file;
#      `down` twice is fine.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albm-httpd
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh
H=$ALBM_LAB_PREFIX-ha
lab_ns() { ip netns list | awk '{print $1}' | grep -E "^$H-" | sort | tr '\n' ' '; }

# ---- 1. topology, BGP, routing ------------------------------------------------------------
ha_up --distributors 2 --servers 2
[ "$(cat "$TMP/up.out")" = $'d1 10.78.0.11\nd2 10.78.0.12\ns1 10.78.0.21\ns2 10.78.0.22' ] ||
	fail "up printed: $(cat "$TMP/up.out")"
[ "$(lab_ns)" = "$H-br $H-c1 $H-d1 $H-d2 $H-r $H-s1 $H-s2 " ] || fail "namespaces: $(lab_ns)"
ip link show | grep -q "$H" && fail "an interface of the lab is in the root namespace"
[ "$(in_ns r sysctl -n net.ipv4.fib_multipath_hash_policy)" = 1 ] || fail "router: L4 hash policy"
wait_until 20 sessions_up 2 || fail "BGP sessions: $($LAB birdc r show protocols)"
[ -z "$(nexthops)" ] || fail "the VIP is announced with no announcer: $(nexthops)"
httpd_up 1
got=$(in_ns c1 curl -s -m 3 -o /dev/null -w '%header{x-server}' http://10.78.0.21/)
[ "$got" = s1 ] || fail "client -> router -> s1: '$got'"
echo "topology ok: BGP up with 2 distributors, client reaches s1 through the router"

# ---- 2. up again ------------------------------------------------------------------------------
ha_up --distributors 3 --servers 1 --no-bird
[ "$(lab_ns)" = "$H-br $H-c1 $H-d1 $H-d2 $H-d3 $H-r $H-s1 " ] || fail "after re-up: $(lab_ns)"
[ -z "$(pid_in r bird)" ] || fail "BIRD runs after up --no-bird"

# ---- 3. kill -9 everything, then down ---------------------------------------------------------
ha_up --distributors 2 --servers 1
wait_until 20 sessions_up 2 || fail "BGP sessions after re-up"
if command -v keepalived >/dev/null; then
	$LAB vrrp d1 150 "/nonexistent/albmd -f x" 2>/dev/null
	wait_until 10 has_proc d1 keepalived || fail "keepalived did not start"
fi
in_ns s1 sleep 300 &
victims=""
for ns in $(ip netns list | awk '{print $1}' | grep -E "^$H-"); do
	victims="$victims $(ip netns pids "$ns")"
done
[ -n "${victims// /}" ] || fail "nothing runs in the lab"
# shellcheck disable=SC2086
kill -9 $victims
$LAB down 2>"$TMP/down.err" || fail "down: $(cat "$TMP/down.err")"
[ -z "$(lab_ns)" ] || fail "namespaces left: $(lab_ns)"
[ -e "$STATE" ] && fail "state left: $STATE"
ls -d /run/keepalived/"$H"-* >/dev/null 2>&1 && fail "keepalived's files left"
$LAB down || fail "second down failed"
echo "down after kill -9 ok (namespaces, processes, state gone; idempotent)"
echo "PASS"
