#!/usr/bin/env bash
# ALBM fault suite, mode proxy: a backend fails in the middle of transfers.
#
# A private lab/netns (client c1, distributor d, servers s1 and s2 running albm-httpd);
# albmd in d in mode proxy, rr, connect-timeout 1s, idle-timeout 3s, max-fails 1.  Each
# case starts 8 paced downloads (4 per server), breaks s1 and states what must hold:
#   sigkill    kill -9 of s1's server: its flows end (the server is gone), s2's all
#              complete; new requests all succeed (retried on s2); s1 down by the
#              passive check (it is dead: correct); no busy loop
#   rst        s1's traffic reset (nft reject with tcp reset in s1): s1's clients get a
#              reset, never a clean end (server_aborts counts them); s2's flows complete
#   blackhole  s1 drops everything (nft drop in s1): s1's flows end by the idle timeout
#              (cD), s2's complete; new requests succeed via connect timeout and retry;
#              no busy loop while connects hang
#   netem      s1's link gets 80 ms delay and 3 % loss (tc netem; on a kernel without
#              sch_netem a 20 Mbit/s tbf and 3 % random drops with nft): every flow
#              completes, no server is marked down, requests succeed (slow is not down).
#              For this case connect-timeout is 5s (a reload): a lost SYN-ACK costs the
#              1 s of TCP's first SYN retransmission, and with connect-timeout 1s and
#              max-fails 1 one such loss would rightly mark s1 down (3 % of 7 connects:
#              a test that fails one run in five); nft's drops spare the handshake.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd
command -v nft >/dev/null || skip "nft not installed (scripts/deps.sh test)"
command -v tc >/dev/null || skip "tc not installed (iproute2)"
# shellcheck source=../lib/dr_albmd.sh
. tests/lib/dr_albmd.sh
# shellcheck source=lib.sh
. tests/faults/lib.sh

dr_lab_up 2
# small socket buffers (these namespaces only): a flow holds little in flight, so that a
# fault reaches the flows that are running instead of only their buffered tails
for role in c1 d s1 s2; do
	in_ns "$role" sysctl -qw net.ipv4.tcp_rmem="4096 65536 262144" \
		net.ipv4.tcp_wmem="4096 65536 262144" || fail "sysctl in $role"
done
cat >"$TMP/albmd.conf" <<EOF
control { socket $TMP/albmd.sock; }
service web {
	listen 10.77.0.10:80;
	scheduler rr;
	connect-timeout 1s;
	idle-timeout 3s;
	max-fails 1;
	fail-timeout 60s;
	slow-start off;
	server s1 10.77.0.11:80;
	server s2 10.77.0.12:80;
}
EOF
start_albmd_dr "$TMP/albmd.conf"
srv() { jq_srv "$1" "$2"; }
svc() { ctl list --json | python3 -c "import json, sys; s = json.load(sys.stdin)['services'][0]; print(eval(sys.argv[1]))" "$1"; }
restart_s1() {
	kill -KILL "${HTTPD_PID[1]}" 2>/dev/null
	wait "${HTTPD_PID[1]}" 2>/dev/null
	in_ns s1 "$BIN/albm-httpd" --listen "[::]:80" --name s1 --log-level warn >>"$TMP/httpd1.log" 2>&1 &
	HTTPD_PID[1]=$!
	track_pid $!
	wait_until 10 in_ns c1 python3 -c "import socket; socket.create_connection(('10.77.0.11', 80), 1)" ||
		fail "s1 did not come back"
	ctl enable web s1 >/dev/null
}
# N sequential GETs from c1 through albmd: "s1 A s2 B fail F"
requests() { CONN_VIP=10.77.0.10 conns "$1"; }
failed_of() { echo "${1##*fail }"; }
flows() { flows_start c1 10.77.0.10 80 8 "$1" 2000000 "$TMP/$2.flows"; }
summary() { grep "^flows " "$1"; }

# ---- sigkill ---------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows /bytes/8M sigkill
kill -KILL "${HTTPD_PID[1]}"
flows_wait "$TMP/sigkill.flows" 30 || fail "sigkill: the flows did not end"
echo "sigkill: $(summary "$TMP/sigkill.flows")"
[ "$(flows_lost "$TMP/sigkill.flows" s2)" = 0 ] || fail "sigkill: flows of the healthy server lost: $(cat "$TMP/sigkill.flows")"
out=$(requests 10)
echo "sigkill: 10 new requests: $out"
[ "$(failed_of "$out")" = 0 ] || fail "sigkill: new requests failed although s2 is up: $out"
[ "$(srv s2 's["state"]')" = up ] || fail "sigkill: s2 is $(srv s2 's["state"]')"
cpu=$(cpu_pct "$ALBMD_PID")
[ "$cpu" -lt "$(busy_limit)" ] || fail "sigkill: albmd at ${cpu}% CPU"
row "proxy: backend SIGKILL mid-transfer" "held: s1 down (dead), retries $(svc 's["retries"]')" \
	"$(flows_lost "$TMP/sigkill.flows" s1)/$(flows_total "$TMP/sigkill.flows" s1) on s1, 0 on s2" "$cpu"
restart_s1

# ---- rst: s1's stack answers albmd with resets ---------------------------------------------
aborts0=$(svc 's["server_aborts"]')
cpu_mark "$ALBMD_PID"
flows /bytes/8M rst
in_ns s1 nft -f - <<'EOF'
table inet albmfault {
	chain in { type filter hook input priority 0; tcp dport 80 reject with tcp reset; }
}
EOF
flows_wait "$TMP/rst.flows" 30 || fail "rst: the flows did not end"
in_ns s1 nft delete table inet albmfault
echo "rst: $(summary "$TMP/rst.flows")"
grep " server=s1 " "$TMP/rst.flows" | grep -q "end=short-eof" && fail "rst: a reset reached a client as a clean end: $(cat "$TMP/rst.flows")"
[ "$(grep " server=s1 " "$TMP/rst.flows" | grep -c "end=reset")" -ge 1 ] || fail "rst: no client saw the reset"
[ "$(flows_lost "$TMP/rst.flows" s2)" = 0 ] || fail "rst: flows of the healthy server lost"
aborts=$(($(svc 's["server_aborts"]') - aborts0))
[ "$aborts" -ge 1 ] || fail "rst: server_aborts did not count the resets"
cpu=$(cpu_pct "$ALBMD_PID")
[ "$cpu" -lt "$(busy_limit)" ] || fail "rst: albmd at ${cpu}% CPU"
row "proxy: backend RST mid-transfer" "held: resets passed on (server_aborts +$aborts)" \
	"$(flows_lost "$TMP/rst.flows" s1)/$(flows_total "$TMP/rst.flows" s1) on s1, 0 on s2" "$cpu"
ctl enable web s1 >/dev/null

# ---- blackhole ---------------------------------------------------------------------------
cpu_mark "$ALBMD_PID"
flows /bytes/8M blackhole
in_ns s1 nft -f - <<'EOF'
table inet albmfault {
	chain in { type filter hook input priority 0; tcp dport 80 drop; }
	chain out { type filter hook output priority 0; tcp sport 80 drop; }
}
EOF
out=$(requests 6)
echo "blackhole: 6 new requests while s1 drops everything: $out"
flows_wait "$TMP/blackhole.flows" 30 || fail "blackhole: the flows did not end"
echo "blackhole: $(summary "$TMP/blackhole.flows")"
[ "$(failed_of "$out")" = 0 ] || fail "blackhole: new requests failed (connect timeout, retry): $out"
[ "$(flows_lost "$TMP/blackhole.flows" s2)" = 0 ] || fail "blackhole: flows of the healthy server lost"
[ "$(srv s2 's["state"]')" = up ] || fail "blackhole: s2 is $(srv s2 's["state"]')"
cpu=$(cpu_pct "$ALBMD_PID")
[ "$cpu" -lt "$(busy_limit)" ] || fail "blackhole: albmd at ${cpu}% CPU"
in_ns s1 nft delete table inet albmfault
row "proxy: backend blackhole (nft drop)" "held: idle timeout, connect retries $(svc 's["retries"]')" \
	"$(flows_lost "$TMP/blackhole.flows" s1)/$(flows_total "$TMP/blackhole.flows" s1) on s1, 0 on s2" "$cpu"
ctl enable web s1 >/dev/null

# ---- netem: slow and lossy is not down -----------------------------------------------------
r0=$(reloads)
sed -i 's/connect-timeout 1s;/connect-timeout 5s;/' "$TMP/albmd.conf"
kill -HUP "$ALBMD_PID"
wait_until 10 reloads_are $((r0 + 1)) || fail "netem: the reload was not applied"
cpu_mark "$ALBMD_PID"
if in_ns s1 tc qdisc add dev eth0 root netem delay 80ms loss 3% 2>/dev/null; then
	how="netem 80ms, 3% loss"
else # a kernel without sch_netem: a slow link (tbf) and random loss (nft numgen)
	in_ns s1 tc qdisc add dev eth0 root tbf rate 20mbit burst 32kbit latency 200ms ||
		fail "netem: neither netem nor tbf"
	in_ns s1 nft -f - <<'EOF'
table inet albmfault {
	chain out { type filter hook output priority 0; tcp sport 80 tcp flags & syn == 0 numgen random mod 100 < 3 drop; }
}
EOF
	how="tbf, 3% drop"
fi
flows /bytes/2M netem
out=$(requests 6)
flows_wait "$TMP/netem.flows" 40 || fail "netem: the flows did not end"
in_ns s1 tc qdisc del dev eth0 root
in_ns s1 nft delete table inet albmfault 2>/dev/null
echo "netem ($how): $(summary "$TMP/netem.flows"); 6 requests: $out"
[ "$(flows_lost "$TMP/netem.flows")" = 0 ] || fail "netem: flows lost: $(cat "$TMP/netem.flows")"
[ "$(failed_of "$out")" = 0 ] || fail "netem: requests failed: $out"
[ "$(srv s1 's["state"]')" = up ] || fail "netem: the slow server was marked $(srv s1 's["state"]')"
cpu=$(cpu_pct "$ALBMD_PID")
row "proxy: slow lossy link ($how)" "held: all complete, s1 stays up" "0/8" "$cpu"
stop_albmd
echo "10-proxy-backend: ok"
