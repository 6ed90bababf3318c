#!/usr/bin/env bash
# ALBM: keepalived active/passive (contrib/keepalived) with albmd in mode dr — kill -9 of the master's albmd.
#
# Two distributors run albmd (mode dr) for the VRRP VIP 10.78.0.100 and keepalived with
# track_process on their own albmd; d1 (priority 150) becomes master and gets the VIP on
# its eth0; clients behind the router connect through it.  kill -9 of d1's albmd: the
# tracked process is gone, d1 goes to FAULT and releases the VIP, d2 becomes master
# (the failover time, kill -> d2's MASTER notification, is printed), and new
# connections succeed through d2.
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

ha_up --distributors 2 --servers 2 --no-bird
httpd_up 2
albmd_dr d1 "$VRRP_VIP"
albmd_dr d2 "$VRRP_VIP"
$LAB vrrp d1 150 "$PWD/$BIN/albmd -f $STATE/d1/albmd.conf" 2>/dev/null
$LAB vrrp d2 100 "$PWD/$BIN/albmd -f $STATE/d2/albmd.conf" 2>/dev/null
wait_until 15 master d1 || fail "d1 not master: $(tail -5 "$STATE/d1/keepalived.log")"
vip_on d1 || fail "the VIP is not on d1's eth0"
vip_on d2 && fail "the VIP is on the backup too"
got=$(conns 20 "$VRRP_VIP")
echo "through d1: $got"
case $got in *"fail 0") ;; *) fail "failed connections through the master: $got" ;; esac
[ "$(dr_flows d1)" -eq 20 ] || fail "d1 scheduled $(dr_flows d1) of 20 flows"

t0=$(date +%s.%N)
kill -9 "${ALBMD_PID[1]}"
wait_until 10 master d2 || fail "d2 did not take over: $(tail -5 "$STATE/d2/keepalived.log")"
t1=$(awk '$2 == "MASTER" { t = $1 } END { print t }' "$STATE/d2/vrrp.log")
echo "kill -9 of d1's albmd -> d2 MASTER: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
grep -q FAULT "$STATE/d1/vrrp.log" || fail "d1 did not go to FAULT"
wait_until 5 vip_on d2 || fail "the VIP is not on d2's eth0"
vip_on d1 && fail "the VIP is still on d1"
got=$(conns 20 "$VRRP_VIP")
echo "through d2: $got"
case $got in *"fail 0") ;; *) fail "failed new connections after the failover: $got" ;; esac
[ "$(dr_flows d2)" -eq 20 ] || fail "d2 scheduled $(dr_flows d2) of 20 flows"
echo "PASS"
