#!/usr/bin/env bash
# ALBM: keepalived active/passive (contrib/keepalived) with albmd in mode proxy — kill -9 of the master's albmd.
#
# Two distributors run albmd in mode proxy, listening on 0.0.0.0:80 (so that the backup
# can listen before it holds the VRRP VIP 10.78.0.100), and keepalived with
# track_process on their own albmd; d1 (priority 150) is master and holds the VIP.
# Clients behind the router connect through it and albmd relays to the servers.  kill -9
# of d1's albmd: d1 goes to FAULT and releases the VIP, d2 becomes master (the failover
# time, kill -> d2's MASTER notification, is printed), and new connections succeed
# through d2.  (Connections d1 was relaying end with it: a proxy's connections live in
# its process — docs/ha.md.)
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd
command -v keepalived >/dev/null || skip "keepalived not installed (scripts/deps.sh)"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

master() { grep -q " MASTER " "$STATE/$1/vrrp.log" 2>/dev/null; }
vip_on() { in_ns "$1" ip -4 addr show dev eth0 | grep -q "$VRRP_VIP/32"; }
served_by() { # connections albmd in $1 accepted
	jget "$(dctl "$1" list --json)" 'j["services"][0]["total_conns"]'
}

albmd_proxy() {
	local d=$1 i=${1#d} conf=$STATE/$1/albmd.conf
	{
		echo "control { socket $STATE/$d/albmd.sock; }"
		echo "service web { listen 0.0.0.0:80; mode proxy; scheduler rr;"
		echo "	server s1 10.78.0.21:80; server s2 10.78.0.22:80; }"
	} >"$conf"
	"$LAB" exec "$d" "$PWD/$BIN/albmd" -f "$conf" >"$STATE/$d/albmd.log" 2>&1 &
	ALBMD_PID[i]=$!
	track_pid $!
	wait_until 10 dctl "$d" ping || { cat "$STATE/$d/albmd.log"; fail "albmd in $d did not start"; }
}

ha_up --distributors 2 --servers 2 --no-bird
httpd_up 2
albmd_proxy d1
albmd_proxy d2
$LAB vrrp d1 150 "$PWD/$BIN/albmd -f $STATE/d1/albmd.conf" 2>/dev/null
$LAB vrrp d2 100 "$PWD/$BIN/albmd -f $STATE/d2/albmd.conf" 2>/dev/null
wait_until 15 master d1 || fail "d1 not master: $(tail -5 "$STATE/d1/keepalived.log")"
wait_until 5 vip_on d1 || fail "the VIP is not on d1's eth0"
vip_on d2 && fail "the VIP is on the backup too"
got=$(conns 20 "$VRRP_VIP")
echo "through d1: $got"
case $got in *"s1 10 s2 10 fail 0") ;; *) fail "connections through the master: $got" ;; esac
[ "$(served_by d1)" -eq 20 ] || fail "d1's albmd relayed $(served_by d1) of 20"
[ "$(served_by d2)" -eq 0 ] || fail "the backup relayed connections"

t0=$(date +%s.%N)
kill -9 "${ALBMD_PID[1]}"
wait "${ALBMD_PID[1]}" 2>/dev/null
wait_until 10 master d2 || fail "d2 did not take over: $(tail -5 "$STATE/d2/keepalived.log")"
t1=$(awk '$2 == "MASTER" { t = $1 } END { print t }' "$STATE/d2/vrrp.log")
echo "kill -9 of d1's albmd -> d2 MASTER: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
grep -q FAULT "$STATE/d1/vrrp.log" || fail "d1 did not go to FAULT"
wait_until 5 vip_on d2 || fail "the VIP is not on d2's eth0"
vip_on d1 && fail "the VIP is still on d1"
got=$(conns 20 "$VRRP_VIP")
echo "through d2: $got"
case $got in *"fail 0") ;; *) fail "failed new connections after the failover: $got" ;; esac
[ "$(served_by d2)" -eq 20 ] || fail "d2's albmd relayed $(served_by d2) of 20"
echo "PASS"
