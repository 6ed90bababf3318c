#!/usr/bin/env bash
# ALBM: Direct Routing through the XDP program in network namespaces (lab/netns, real HTTP).
#
# A private lab (1 client, distributor, 3 servers on one bridge) with python3 HTTP
# servers; tests/tools/dr_attach loads the program on the distributor's eth0 and is
# driven through its stdin.  Checks:
#   1. responses come straight from the real server: 3 x 4 MiB downloads through the
#      VIP, while the distributor's interface moves less than a tenth of that;
#   2. new flows follow the table weights (1:3:0), the weight-0 server gets none, and
#      the program's per-real new-flow counters agree with what the client saw;
#   3. a flow established on a server whose weight drops to 0 completes intact;
#   4. a server whose link goes down and is removed from the table is failed over;
#   5. IPv6 VIP; 6. the interface is left without XDP on exit, also after SIGKILL;
#   and a real whose MAC cannot be resolved is refused with a message naming it.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin tools/dr_attach
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"
ip netns list >/dev/null 2>&1 || skip "ip netns not available"

export ALBM_LAB_PREFIX=albmt$$
LAB=lab/netns
VIP=10.77.0.100
TMP=$(mktemp -d /tmp/albm-dr-xdp.XXXXXX)
on_exit "$LAB down >/dev/null 2>&1; rm -rf '$TMP'"

$LAB up --servers 3 --clients 1 >"$TMP/up.txt" 2>"$TMP/up.err" ||
	skip "cannot build the namespace lab: $(tail -1 "$TMP/up.err")"

in_ns() { "$LAB" exec "$@"; }
ifbytes() { # ROLE rx|tx -> bytes counted on the role's eth0
	in_ns "$1" cat "/sys/class/net/eth0/statistics/$2_bytes"
}

# ---- the servers: python3 http.server, each with /whoami and a 4 MiB /big --------------
for i in 1 2 3; do
	mkdir -p "$TMP/www$i"
	echo "s$i" >"$TMP/www$i/whoami"
	{ echo "s$i"; head -c $((4 << 20)) /dev/zero | tr '\0' 'x'; } >"$TMP/www$i/big"
	(cd "$TMP/www$i" && exec "$OLDPWD/$LAB" exec "s$i" python3 -m http.server 80 --bind :: \
		>"$TMP/http$i.log" 2>&1) &
	track_pid $!
done
for i in 1 2 3; do # a server is up when it answers on its own address
	for _ in $(seq 50); do
		in_ns c1 curl -s -m 1 "http://10.77.0.1$i/whoami" >/dev/null 2>&1 && break
		sleep 0.1
	done
done

# ---- the distributor: dr_attach on eth0, commands through a coprocess -----------------
start_dr() {
	coproc DR { exec "$LAB" exec d "$BIN/tools/dr_attach" --if eth0 2>>"$TMP/dr.err"; }
	track_pid "$DR_PID"
	local line
	read -r -t 10 -u "${DR[0]}" line || true
	[ "$line" = ready ] || {
		grep -q "Operation not supported\|Invalid argument" "$TMP/dr.err" &&
			skip "XDP attach not supported here: $(tail -1 "$TMP/dr.err")"
		fail "dr_attach did not start: $(cat "$TMP/dr.err")"
	}
}
dr() { # send one command; its data lines in DR_OUT; fails the test on "error:"
	local line
	DR_OUT=""
	echo "$*" >&"${DR[1]}"
	while read -r -t 15 -u "${DR[0]}" line; do
		case $line in
		ok) return 0 ;;
		error:*) fail "dr_attach '$*': $line" ;;
		*) DR_OUT+="$line"$'\n' ;;
		esac
	done
	fail "dr_attach '$*': no answer"
}
real_new_flows() { # VIP IP -> new flows the program scheduled to that real
	dr real "$1" "$2"
	echo "$DR_OUT" | awk '/^real/ {print $5}'
}
stat_of() { dr stats; echo "$DR_OUT" | awk -v n="$1" '$2 == n {print $3}'; }

start_dr
dr vip $VIP:80
# A real that is not on the segment: a clear error, and the VIP is left as it was.
echo "reals $VIP:80 10.77.0.11=1 10.77.0.99=1" >&"${DR[1]}"
read -r -t 15 -u "${DR[0]}" line || line="(no answer)"
case $line in
*"10.77.0.99"*"no ARP/neighbour reply"*) echo "unresolvable real: $line" ;;
*) fail "unresolvable real 10.77.0.99: '$line'" ;;
esac
dr reals $VIP:80 10.77.0.11=1 10.77.0.12=3 10.77.0.13=0
echo "$DR_OUT"

# ---- 1. direct return -------------------------------------------------------------------
d_rx0=$(ifbytes d rx) d_tx0=$(ifbytes d tx) c_rx0=$(ifbytes c1 rx)
for n in 1 2 3; do
	in_ns c1 curl -sS -m 20 -o "$TMP/dl$n" "http://$VIP/big" || fail "download $n through the VIP"
	[ "$(stat -c %s "$TMP/dl$n")" -eq $(((4 << 20) + 3)) ] || fail "download $n: wrong size"
done
d_rx=$(($(ifbytes d rx) - d_rx0)) d_tx=$(($(ifbytes d tx) - d_tx0)) c_rx=$(($(ifbytes c1 rx) - c_rx0))
echo "direct return: client received $c_rx bytes; distributor eth0 rx $d_rx, tx $d_tx bytes"
[ "$c_rx" -ge $((12 << 20)) ] || fail "client received only $c_rx bytes"
[ $((d_rx + d_tx)) -lt $(((12 << 20) / 10)) ] ||
	fail "the distributor carried $((d_rx + d_tx)) bytes: responses went through it"
[ "$(stat_of tx)" -gt 0 ] || fail "the XDP program forwarded nothing"

# ---- 2. distribution by weight ----------------------------------------------------------
count_requests() { # N -> "s1 A s2 B s3 C fail F" for N new connections to the VIP
	in_ns c1 python3 - "$1" <<'EOF'
import http.client, sys
n = int(sys.argv[1]); seen = {"s1": 0, "s2": 0, "s3": 0, "fail": 0}
for _ in range(n):
    try:
        c = http.client.HTTPConnection("10.77.0.100", 80, timeout=3)
        c.request("GET", "/whoami")
        seen[c.getresponse().read().decode().strip()] += 1
        c.close()
    except Exception:
        seen["fail"] += 1
print(" ".join(f"{k} {v}" for k, v in seen.items()))
EOF
}
dr flush
n1_0=$(real_new_flows $VIP:80 10.77.0.11) n2_0=$(real_new_flows $VIP:80 10.77.0.12)
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(count_requests 300)"
echo "weights 1:3:0, 300 connections: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] || fail "$nfail requests failed"
[ "$s3" -eq 0 ] || fail "weight-0 server s3 got $s3 connections"
[ "$s1" -gt 0 ] || fail "s1 (weight 1) got no connection"
# s2's expected share is 75 %; 60..90 % is about five standard deviations either side.
[ "$s2" -ge 180 ] && [ "$s2" -le 270 ] || fail "s2 (weight 3) got $s2 of 300"
n1=$(($(real_new_flows $VIP:80 10.77.0.11) - n1_0)) n2=$(($(real_new_flows $VIP:80 10.77.0.12) - n2_0))
[ "$(real_new_flows $VIP:80 10.77.0.13)" -eq 0 ] || fail "XDP scheduled flows to s3"
# A connection is one flow for the program (the client's ports are fresh each time).
[ "$n1" -eq "$s1" ] && [ "$n2" -eq "$s2" ] || fail "XDP counted s1 $n1, s2 $n2 new flows"

# ---- 3. weight 0: the established flow stays, new flows go elsewhere --------------------
dr reals $VIP:80 10.77.0.11=1 10.77.0.12=0 10.77.0.13=0
in_ns c1 curl -sS -m 30 --limit-rate 2M -o "$TMP/slow" "http://$VIP/big" &
slow=$!
track_pid $slow
sleep 0.7 # the download is under way on s1
dr reals $VIP:80 10.77.0.11=0 10.77.0.12=1 10.77.0.13=0
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(count_requests 30)"
echo "s1 drained during a download: new connections s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$s1" -eq 0 ] && [ "$s2" -eq 30 ] || fail "new flows after draining s1: s1 $s1, s2 $s2"
wait $slow || fail "the download established on s1 broke when s1 was drained"
[ "$(head -1 "$TMP/slow")" = s1 ] && [ "$(stat -c %s "$TMP/slow")" -eq $(((4 << 20) + 3)) ] ||
	fail "the drained server's download did not complete intact"

# ---- 4. failover: s2's link goes down, the control plane removes it ---------------------
dr reals $VIP:80 10.77.0.11=1 10.77.0.12=1 10.77.0.13=1
in_ns s2 ip link set eth0 down
dr reals $VIP:80 10.77.0.11=1 10.77.0.13=1 # what albmd's health check will do
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(count_requests 60)"
echo "s2 down and removed: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$s1" -gt 0 ] && [ "$s3" -gt 0 ] ||
	fail "failover: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
in_ns s2 ip link set eth0 up
[ "$(stat_of drop_no_real)" -eq 0 ] && [ "$(stat_of drop_bad_real)" -eq 0 ] ||
	fail "the program dropped VIP packets"

# ---- 5. IPv6 ----------------------------------------------------------------------------
dr vip "[fd77::100]:80"
dr reals "[fd77::100]:80" fd77::11=1
got=$(in_ns c1 curl -sS -m 5 "http://[fd77::100]/whoami") || fail "IPv6 request through the VIP"
[ "$got" = s1 ] || fail "IPv6 request answered by '$got', expected s1"
echo "IPv6 VIP: answered by $got"

# ---- 6. the interface is clean after exit and after a crash -----------------------------
xdp_attached() { in_ns d ip link show dev eth0 | grep -q "prog/xdp"; }
xdp_attached || fail "no XDP program shown on the distributor's eth0 while attached"
echo quit >&"${DR[1]}"
wait "$DR_PID" 2>/dev/null
xdp_attached && fail "XDP program still attached after dr_attach quit"
start_dr
xdp_attached || fail "second attach did not happen"
kill -KILL "$DR_PID"
wait "$DR_PID" 2>/dev/null
sleep 0.2
xdp_attached && fail "XDP program still attached after dr_attach was killed"
echo "XDP detached on exit and after SIGKILL"
echo "PASS"
