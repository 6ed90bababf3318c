#!/usr/bin/env bash
# ALBM: the namespace testbed lab/netns — topology, DR sysctls, cgroups, idempotent teardown after a crash.
#
#   1. `up --servers 2` builds the namespaces and prints one "sI ADDR" line per server;
#      the VIP's ARP is answered by the distributor only (servers: VIP on lo,
#      arp_ignore=1, arp_announce=2); client -> server traffic works on the bridge.
#   2. `exec sI` puts the process in sI's namespace and in its v1 cgroups.
#   3. `up` again rebuilds cleanly (idempotent); the 0-based `exec I` form works.
#   4. with processes still running inside (a "crash" of whoever used the lab),
#      `down` removes every namespace, process and cgroup; `down` twice is fine.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
ip netns list >/dev/null 2>&1 || skip "ip netns not available"
command -v python3 >/dev/null || skip "python3 not installed"

export ALBM_LAB_PREFIX=albmn$$
LAB=lab/netns
P=$ALBM_LAB_PREFIX
TMP=$(mktemp -d /tmp/albm-lab-netns.XXXXXX)
on_exit "$LAB down >/dev/null 2>&1; rm -rf '$TMP'"

lab_ns() { ip netns list | awk '{print $1}' | grep -E "^$P-" | sort | tr '\n' ' '; }

# ---- 1. topology ------------------------------------------------------------------------
$LAB up --servers 2 >"$TMP/up.out" 2>"$TMP/up.err" || {
	grep -qi "operation not permitted\|not supported" "$TMP/up.err" &&
		skip "cannot create namespaces/veths here: $(tail -1 "$TMP/up.err")"
	fail "lab/netns up: $(cat "$TMP/up.err")"
}
[ "$(cat "$TMP/up.out")" = $'s1 10.77.0.11\ns2 10.77.0.12' ] || fail "up printed: $(cat "$TMP/up.out")"
[ "$(lab_ns)" = "$P-br $P-c1 $P-d $P-s1 $P-s2 " ] || fail "namespaces: $(lab_ns)"
ip link show | grep -q "$P" && fail "an interface of the lab is in the root namespace"
for s in s1 s2; do
	[ "$($LAB exec $s sysctl -n net.ipv4.conf.eth0.arp_ignore)" = 1 ] || fail "$s: arp_ignore"
	[ "$($LAB exec $s sysctl -n net.ipv4.conf.eth0.arp_announce)" = 2 ] || fail "$s: arp_announce"
	$LAB exec $s ip -4 addr show dev lo | grep -q "10.77.0.100/32" || fail "$s: no VIP on lo"
done
[ "$($LAB exec c1 sysctl -n net.ipv4.tcp_tw_reuse)" = 1 ] || fail "c1: tcp_tw_reuse"
# The client reaches a server directly, and learns the VIP's MAC: the distributor's.
$LAB exec s1 python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7)); s.listen(); c, _ = s.accept(); c.sendall(b"hello"); c.close()' &
track_pid $!
got=""
for _ in $(seq 50); do
	got=$($LAB exec c1 python3 -c '
import socket; print(socket.create_connection(("10.77.0.11", 7), 1).recv(5).decode())' 2>/dev/null) && break
	sleep 0.1
done
[ "$got" = hello ] || fail "client -> s1 over the bridge: '$got'"
$LAB exec c1 python3 -c '
import socket
try: socket.create_connection(("10.77.0.100", 9), 1)
except OSError: pass' # any packet to the VIP makes the client ARP for it
vip_mac=$($LAB exec c1 ip neigh show 10.77.0.100 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
d_mac=$($LAB exec d cat /sys/class/net/eth0/address)
[ -n "$vip_mac" ] && [ "$vip_mac" = "$d_mac" ] || fail "VIP resolves to '$vip_mac', distributor is $d_mac"
echo "topology ok; VIP -> distributor $d_mac"

# ---- 2. exec puts a server's processes in its cgroups -----------------------------------
if [ -d /sys/fs/cgroup/memory/$P-lab/s2 ]; then
	cg=$($LAB exec s2 cat /proc/self/cgroup)
	echo "$cg" | grep -q ":memory:/$P-lab/s2\$" || fail "exec s2: not in the memory cgroup: $cg"
	echo "$cg" | grep -Eq ":cpu(,cpuacct)?:/$P-lab/s2\$" || fail "exec s2: not in the cpu cgroup: $cg"
	echo "cgroups ok"
else
	echo "no cgroup v1 hierarchies: cgroup check not run"
fi

# ---- 3. up again is a clean rebuild; exec I (0-based) ----------------------------------
$LAB up 3 >"$TMP/up2.out" 2>"$TMP/up2.err" || fail "second up: $(cat "$TMP/up2.err")"
[ "$(lab_ns)" = "$P-br $P-c1 $P-d $P-s1 $P-s2 $P-s3 " ] || fail "after re-up: $(lab_ns)"
[ "$($LAB exec 2 ip -4 -br addr show dev eth0 | awk '{print $3}')" = 10.77.0.13/24 ] ||
	fail "exec 2 is not s3"

# ---- 4. down after a "crash": processes left inside -------------------------------------
$LAB exec s1 sleep 300 &
left1=$!
$LAB exec c1 sleep 300 &
left2=$!
sleep 0.3
$LAB down 2>"$TMP/down.err" || fail "down: $(cat "$TMP/down.err")"
[ -z "$(lab_ns)" ] || fail "namespaces left: $(lab_ns)"
kill -0 $left1 2>/dev/null && fail "a process in s1 survived down"
kill -0 $left2 2>/dev/null && fail "a process in c1 survived down"
[ -e /sys/fs/cgroup/memory/$P-lab ] && fail "cgroup $P-lab left"
$LAB down || fail "second down failed"
echo "down ok (processes, namespaces, cgroups gone; idempotent)"
echo "PASS"
