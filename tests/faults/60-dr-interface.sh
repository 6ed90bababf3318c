#!/usr/bin/env bash
# ALBM fault suite, mode dr: the distributor's interface and the reals' links misbehave.
#
# A private lab/netns (client c1, distributor d, reals s1 and s2 running albm-httpd) and
# albmd in d with `mode dr; interface eth0;` (XDP).  8 paced downloads through the VIP
# run during each case (small socket buffers in the lab's namespaces, so that a fault
# meets flows in flight).  Each case states what must hold:
#   flap        d's eth0 goes down for 4 s and up again: the flows stall and then go on
#               (TCP retransmits; the XDP program stays attached and keeps its table):
#               none lost; no real marked down for the distributor's own link; new
#               flows work after; no busy loop
#   mac         s1's MAC changes: albmd follows the new MAC (the neighbour entry is
#               re-probed), s1's flows resume within TCP's retransmission time: none
#               lost; new flows reach s1
#   xdp-off     another tool tries `ip link set dev eth0 xdp off`: the attachment is a
#               bpf_link, the kernel refuses to detach it (held by design): still
#               attached, no flow lost
#   kill-9      albmd is killed with SIGKILL: the XDP link dies with its process, so the
#               interface is left clean (no program attached); flows established through
#               it are reset by the distributor's own stack, which now receives the VIP's
#               packets (expected without an HA peer, docs/dr.md); albmd started again
#               serves new flows at once
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd
# shellcheck source=../lib/dr_albmd.sh
. tests/lib/dr_albmd.sh
# shellcheck source=lib.sh
. tests/faults/lib.sh

dr_lab_up 2
for role in c1 d s1 s2; do
	in_ns "$role" sysctl -qw net.ipv4.tcp_rmem="4096 65536 262144" \
		net.ipv4.tcp_wmem="4096 65536 262144" || fail "sysctl in $role"
done
cat >"$TMP/albmd.conf" <<EOF
control { socket $TMP/albmd.sock; }
service web {
	listen $VIP:80;
	mode dr;
	interface eth0;
	scheduler rr;
	slow-start off;
	server s1 10.77.0.11;
	server s2 10.77.0.12;
}
EOF
start_albmd_dr "$TMP/albmd.conf"
xdp_attached || fail "no XDP program attached"
state() { jq_srv "$1" 's["state"]'; }
both_up() { [ "$(state s1)" = up ] && [ "$(state s2)" = up ]; }
wait_until 10 both_up || fail "reals not up: $(ctl list)"
flows() { flows_start c1 "$VIP" 80 8 "$1" 2000000 "$TMP/$2.flows"; }
summary() { grep "^flows " "$1"; }
new_flows_ok() { local out; out=$(conns 6); [ "${out##*fail }" = 0 ]; }
# A real marked down during the case: sample the states while it runs.
watch_states() {
	(while [ ! -f "$TMP/$1.stop" ]; do
		ctl list | awk '$1 == "->" { printf "%s=%s ", $2, $6 } END { print "" }'
		sleep 0.1
	done) >"$TMP/$1.states" 2>/dev/null &
	WATCH=$!
	track_pid "$WATCH"
}
watch_end() { touch "$TMP/$1.stop"; wait "$WATCH" 2>/dev/null; }
ever_down() { grep -c down "$TMP/$1.states"; }

# ---- flap ----------------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows /bytes/8M flap
watch_states flap
in_ns d ip link set dev eth0 down
sleep 4 # longer than the resolve grace (1 s) and the MAC recheck (2 s)
in_ns d ip link set dev eth0 up
flows_wait "$TMP/flap.flows" 40 || fail "flap: the flows did not end"
watch_end flap
echo "flap: $(summary "$TMP/flap.flows"); samples with a real down: $(ever_down flap)"
xdp_attached || fail "flap: the XDP program is gone after the flap"
[ "$(flows_lost "$TMP/flap.flows")" = 0 ] || fail "flap: flows lost: $(cat "$TMP/flap.flows")"
[ "$(ever_down flap)" = 0 ] || fail "flap: a real was marked down for the distributor's own link: $(sort "$TMP/flap.states" | uniq -c)"
wait_until 10 new_flows_ok || fail "flap: new flows fail after the flap: $(conns 6)"
cpu=$(cpu_pct "$ALBMD_PID")
[ "$cpu" -lt "$(busy_limit)" ] || fail "flap: albmd at ${cpu}% CPU"
row "dr: distributor link down 4 s, up" "held: XDP kept, no real down" "0/8" "$cpu"

# ---- mac -----------------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows /bytes/8M mac
old_mac=$(in_ns s1 cat /sys/class/net/eth0/address)
in_ns s1 ip link set dev eth0 address 02:77:00:00:00:11
flows_wait "$TMP/mac.flows" 40 || fail "mac: the flows did not end"
echo "mac: s1 $old_mac -> 02:77:00:00:00:11: $(summary "$TMP/mac.flows")"
[ "$(jq_srv s1 'dr["mac"]')" = 02:77:00:00:00:11 ] || fail "mac: albmd still has $(jq_srv s1 'dr["mac"]') for s1"
[ "$(flows_lost "$TMP/mac.flows")" = 0 ] || fail "mac: flows lost: $(cat "$TMP/mac.flows")"
out=$(conns 6)
[ "${out##*fail }" = 0 ] && [ "$(echo "$out" | awk '{ print $2 }')" -ge 1 ] || fail "mac: new flows do not reach s1: $out"
cpu=$(cpu_pct "$ALBMD_PID")
row "dr: MAC change of a real" "held: new MAC followed" "0/8" "$cpu"

# ---- xdp-off -------------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows /bytes/4M xdpoff
# the program is attached in generic (skb) mode: `xdpgeneric off` is the one that aims
# at it (`xdp off` alone targets the driver mode, where nothing is attached)
in_ns d ip link set dev eth0 xdp off 2>/dev/null
in_ns d ip link set dev eth0 xdpgeneric off 2>"$TMP/xdpoff.err" && fail "xdp-off: the detach succeeded"
echo "xdp-off: ip link set dev eth0 xdpgeneric off: $(head -1 "$TMP/xdpoff.err")"
flows_wait "$TMP/xdpoff.flows" 40 || fail "xdp-off: the flows did not end"
xdp_attached || fail "xdp-off: the program was detached by another tool"
[ "$(flows_lost "$TMP/xdpoff.flows")" = 0 ] || fail "xdp-off: flows lost"
cpu=$(cpu_pct "$ALBMD_PID")
row "dr: XDP detach by another tool" "held: bpf_link refuses the detach" "0/8" "$cpu"

# ---- kill -9 -------------------------------------------------------------------------------
flows /bytes/8M kill9
kill -KILL "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
wait_until 5 bash -c "! lab/netns exec d ip link show dev eth0 | grep -q prog/xdp" ||
	fail "kill-9: an XDP program is still attached after albmd died"
flows_wait "$TMP/kill9.flows" 40 || fail "kill-9: the flows did not end"
lost=$(flows_lost "$TMP/kill9.flows")
echo "kill-9: $(summary "$TMP/kill9.flows"); interface clean: $(in_ns d ip -d link show dev eth0 | grep -c xdp) xdp lines"
start_albmd_dr "$TMP/albmd.conf"
wait_until 10 both_up || fail "kill-9: reals not up after the restart"
wait_until 10 new_flows_ok || fail "kill-9: no new flows after the restart"
row "dr: kill -9 of albmd" "expected: flows reset; interface clean; restart ok" "$lost/8" "-"
stop_albmd
echo "60-dr-interface: ok"
