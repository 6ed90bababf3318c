#!/usr/bin/env bash
# ALBM: albmd as an unprivileged user (setpriv, uid nobody, only the capabilities given):
#   proxy mode on a port >= 1024 needs no capability and relays traffic;
#   a port below 1024 needs CAP_NET_BIND_SERVICE, and the error says so;
#   mode dr needs CAP_NET_ADMIN + CAP_BPF + CAP_PERFMON: each missing set is named,
#   and with the three the XDP program loads and attaches (in a private netns, on veth).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 603 albmd albmctl albm-httpd
need_root
command -v setpriv >/dev/null || skip "setpriv not installed (util-linux)"
chmod 755 "$TMP"
mkdir -m 777 "$TMP/run"

# NB: the command that runs the rest as nobody with exactly CAPS ("+net_bind_service",
# "" for none); setpriv execs it, so $! is the program's own pid.
nobody() { # CAPS
	NB=(setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs
		--inh-caps="-all${1:+,$1}" --ambient-caps="-all${1:+,$1}" --bounding-set="-all${1:+,$1}")
}
cap_eff() { awk '/^CapEff/ { print $2 }' "/proc/$1/status"; }

# ---- proxy mode, high port, no capability: traffic flows
BACK=$(free_port) WEB=$(free_port)
"$BIN/albm-httpd" --listen "127.0.0.1:$BACK" --name b1 >"$TMP/httpd.log" 2>&1 &
track_pid $!
wait_port "$BACK" || fail "albm-httpd did not start"
cat >"$TMP/p.conf" <<CONF
control { socket $TMP/run/albmd.sock; }
service web { listen 127.0.0.1:$WEB; server b1 127.0.0.1:$BACK; }
CONF
chmod 644 "$TMP/p.conf"
nobody ""
"${NB[@]}" "$BIN/albmd" -f "$TMP/p.conf" >"$TMP/p.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_port "$WEB" || fail "albmd as nobody did not listen: $(cat "$TMP/p.log")"
[ "$(awk '/^Uid:/ { print $2 $3 }' "/proc/$ALBMD_PID/status")" = 6553465534 ] || fail "albmd does not run as nobody: $(grep ^Uid "/proc/$ALBMD_PID/status")"
[ "$(cap_eff "$ALBMD_PID")" = 0000000000000000 ] || fail "albmd has capabilities: $(cap_eff "$ALBMD_PID")"
[ "$(who "$WEB")" = b1 ] || fail "no reply through albmd as nobody"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID" || fail "albmd as nobody: exit $? after SIGTERM"
echo "  proxy, port $WEB, no capability: relays"

# ---- a port below 1024
LOW=""
for p in $(shuf -i 700-1000 -n 40); do
	ss -Hltn "sport = :$p" | grep -q . || { LOW=$p; break; }
done
[ -n "$LOW" ] || fail "no free port below 1024"
sed "s/127.0.0.1:$WEB;/127.0.0.1:$LOW;/" "$TMP/p.conf" >"$TMP/low.conf"
chmod 644 "$TMP/low.conf"
start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$start" -gt "$LOW" ]; then
	nobody ""
	"${NB[@]}" timeout 10 "$BIN/albmd" -f "$TMP/low.conf" >"$TMP/low.log" 2>&1 &&
		fail "albmd as nobody bound port $LOW without CAP_NET_BIND_SERVICE"
	grep -q "service 'web' listens on 127.0.0.1:$LOW (below $start) needs CAP_NET_BIND_SERVICE; missing: CAP_NET_BIND_SERVICE" "$TMP/low.log" ||
		fail "port $LOW error: $(cat "$TMP/low.log")"
	nobody +net_bind_service
	"${NB[@]}" "$BIN/albmd" -f "$TMP/low.conf" >"$TMP/low2.log" 2>&1 &
	ALBMD_PID=$!
	track_pid "$ALBMD_PID"
	wait_port "$LOW" || fail "albmd with CAP_NET_BIND_SERVICE did not bind $LOW: $(cat "$TMP/low2.log")"
	[ "$(who "$LOW")" = b1 ] || fail "no reply through port $LOW"
	kill -TERM "$ALBMD_PID"
	wait "$ALBMD_PID"
	echo "  proxy, port $LOW: needs CAP_NET_BIND_SERVICE, and works with it alone"
else
	echo "  (ip_unprivileged_port_start is $start: port $LOW needs no capability here)"
fi

# ---- mode dr in a private namespace, on one end of a veth pair
NS=albm703-$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
on_exit "ip netns del '$NS' 2>/dev/null"
ip -n "$NS" link add d0 type veth peer name d1 || skip "no veth support"
ip -n "$NS" link set lo up
ip -n "$NS" link set d0 up
ip -n "$NS" link set d1 up
ip -n "$NS" addr add 10.203.0.1/24 dev d0
cat >"$TMP/dr.conf" <<CONF
control { socket $TMP/run/dr.sock; }
service d {
    listen 10.203.0.100:80;
    mode dr;
    interface d0;
    scheduler rr;
    server r1 10.203.0.2;
}
CONF
chmod 644 "$TMP/dr.conf"
dr_try() { # CAPS: run albmd as nobody in the netns; its log in $TMP/dr.log
	nobody "$1"
	ip netns exec "$NS" "${NB[@]}" timeout 10 "$BIN/albmd" -f "$TMP/dr.conf" >"$TMP/dr.log" 2>&1
}
dr_try "" && fail "mode dr started without capabilities"
grep -q "service 'd' (mode dr) needs CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF; missing: CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF" "$TMP/dr.log" ||
	fail "dr without capabilities: $(cat "$TMP/dr.log")"
dr_try "+bpf,+net_admin" && fail "mode dr started without CAP_PERFMON"
grep -q "missing: CAP_PERFMON\. " "$TMP/dr.log" || fail "dr without CAP_PERFMON: $(cat "$TMP/dr.log")"
dr_try "+bpf,+perfmon" && fail "mode dr started without CAP_NET_ADMIN"
grep -q "missing: CAP_NET_ADMIN\. " "$TMP/dr.log" || fail "dr without CAP_NET_ADMIN: $(cat "$TMP/dr.log")"
echo "  dr: each missing capability named"

# with the three: XDP loads and attaches (what the docs list is what the kernel wants)
nobody +bpf,+perfmon,+net_admin
ip netns exec "$NS" "${NB[@]}" "$BIN/albmd" -f "$TMP/dr.conf" >"$TMP/dr.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 15 grep -q "started:" "$TMP/dr.log" || fail "dr with CAP_NET_ADMIN+BPF+PERFMON: $(cat "$TMP/dr.log")"
grep -q "XDP program attached to d0" "$TMP/dr.log" || fail "XDP not attached: $(cat "$TMP/dr.log")"
ip -n "$NS" link show d0 | grep -q "xdp" || fail "no XDP program on d0"
kill -TERM "$ALBMD_PID"
wait "$ALBMD_PID"
ip -n "$NS" link show d0 | grep -q "xdp" && fail "XDP program left on d0 after albmd stopped"
echo "  dr: CAP_NET_ADMIN + CAP_BPF + CAP_PERFMON are enough"
echo "703-unprivileged: ok"
