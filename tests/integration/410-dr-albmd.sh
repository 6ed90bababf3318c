#!/usr/bin/env bash
# ALBM: albmd in mode dr — the XDP data plane driven by the daemon, real HTTP through the VIP.
#
# A private lab (lab/netns: 1 client, the distributor, 3 albm-httpd servers) and the
# real albmd in the distributor's namespace with `mode dr; interface eth0;`.  Checks:
#   1. a server whose MAC cannot be resolved is reported by name and held down;
#   2. responses come straight from the real servers: 3 x 15 MB through the VIP while
#      the distributor's eth0 moves less than a tenth of that;
#   3. wrr: new flows follow the weights 1:3 (drained server: none), and albmd's
#      per-server XDP counters (list --json, /metrics) agree with the client;
#   3b. a second service with an IPv6 VIP on the same interface (one attachment);
#   4. rr (albmctl scheduler): equal shares, weights ignored;
#   5. a download from a server drained mid-transfer completes (established flows
#      stay), while every new flow goes elsewhere;
#   6. wlc (table from the scheduler's picks on the XDP flow counts): 24 flows held
#      open on s1 are counted as its connections, the table is wlc's water-fill of
#      those counts, and new flows (paced) go mostly to s2;
#   7. a reload changes weights; 8. SIGTERM and SIGKILL leave eth0 without XDP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd
command -v curl >/dev/null || skip "curl not installed"
# shellcheck source=../lib/dr_albmd.sh
. tests/lib/dr_albmd.sh

dr_lab_up 3
ADMIN=10.77.0.10:9180 # not loopback: albmd wants a token for it
head -c 24 /dev/urandom | base64 >"$TMP/http.token"
chmod 600 "$TMP/http.token"
AUTH="Authorization: Bearer $(cat "$TMP/http.token")"
write_conf() { # SCHED W1 W2 W3
	cat >"$TMP/albmd.conf" <<EOF
control { socket $TMP/albmd.sock; http $ADMIN; http-token-file $TMP/http.token; }
service web {
	listen $VIP:80;
	mode dr;
	interface eth0;
	scheduler $1;
	slow-start off;
	server s1 10.77.0.11 weight $2;
	server s2 10.77.0.12:80 weight $3;
	server s3 10.77.0.13 weight $4;
	server s9 10.77.0.99;   # not on the segment
}
service web6 {                 # a second VIP (IPv6) on the same interface
	listen [fd77::100]:80;
	mode dr;
	interface eth0;
	scheduler rr;
	server s1 fd77::11;
	server s3 fd77::13;
}
EOF
}
write_conf wrr 1 3 0
start_albmd_dr "$TMP/albmd.conf"
xdp_attached || fail "albmd runs but no XDP program is attached to the distributor's eth0"

# ---- 1. an unresolvable server: a clear error naming it, held down -----------------------
s9_down() { [ "$(jq_srv s9 's["state"]')" = down ]; }
wait_until 10 s9_down || fail "s9 (10.77.0.99) is not down: $(ctl list)"
grep -q "server 's9': resolve 10.77.0.99 on eth0: no ARP/neighbour reply" "$TMP/albmd.log" ||
	fail "no clear error for the unresolvable server in the log"
[ "$(jq_srv s9 'dr["in_table"]')" = False ] || fail "s9 is in the XDP table"
echo "1. unresolvable: $(grep -o "server 's9': resolve.*" "$TMP/albmd.log" | head -1)"

# ---- 2. direct return ------------------------------------------------------------------
d_rx0=$(ifbytes d rx) d_tx0=$(ifbytes d tx) c_rx0=$(ifbytes c1 rx)
for n in 1 2 3; do
	in_ns c1 curl -sS -m 60 -o "$TMP/dl$n" "http://$VIP/bytes/15M" || fail "download $n through the VIP"
	[ "$(stat -c %s "$TMP/dl$n")" -eq $((15 << 20)) ] || fail "download $n: wrong size"
done
d_rx=$(($(ifbytes d rx) - d_rx0)) d_tx=$(($(ifbytes d tx) - d_tx0)) c_rx=$(($(ifbytes c1 rx) - c_rx0))
echo "2. direct return: client received $c_rx bytes; distributor eth0 rx $d_rx, tx $d_tx bytes"
[ "$c_rx" -ge $((45 << 20)) ] || fail "client received only $c_rx bytes"
[ $((d_rx + d_tx)) -lt $(((45 << 20) / 10)) ] ||
	fail "the distributor carried $((d_rx + d_tx)) bytes: responses went through it"

# ---- 3. wrr 1:3:0 ----------------------------------------------------------------------
flows() { jq_srv "$1" 'dr["new_flows"]'; }
f1=$(flows s1) f2=$(flows s2) f3=$(flows s3)
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 300)"
echo "3. wrr 1:3:0, 300 connections: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] || fail "$nfail requests failed"
[ "$s3" -eq 0 ] || fail "weight-0 server s3 got $s3 connections"
# s2's expected share is 75 %; 180..270 of 300 is about five standard deviations.
[ "$s2" -ge 180 ] && [ "$s2" -le 270 ] && [ "$s1" -gt 0 ] || fail "wrr 1:3: s1 $s1, s2 $s2"
sleep 0.5 # the counters are read every 100 ms
[ $(($(flows s1) - f1)) -eq "$s1" ] && [ $(($(flows s2) - f2)) -eq "$s2" ] &&
	[ $(($(flows s3) - f3)) -eq 0 ] ||
	fail "albmd's XDP counters: s1 +$(($(flows s1) - f1)), s2 +$(($(flows s2) - f2)), s3 +$(($(flows s3) - f3))"
metrics=$(in_ns d curl -s -m 5 -H "$AUTH" "http://$ADMIN/metrics") || fail "GET /metrics"
grep -q "^albm_dr_server_new_flows_total{service=\"web\",server=\"s2\"} [1-9]" <<<"$metrics" ||
	fail "/metrics has no DR flow counter for s2"
grep -q "^albm_dr_xdp_total{interface=\"eth0\",counter=\"tx\"} [1-9]" <<<"$metrics" ||
	fail "/metrics has no XDP tx counter"
ctl list | grep -q "dr: in-table table-weight 3" || fail "albmctl list shows no DR line for s2"

# ---- 3b. IPv6 VIP of a second service on the same interface ---------------------------------
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(CONN_VIP=fd77::100 conns 40)"
echo "3b. IPv6 VIP (service web6, rr over s1 and s3): s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$s1" -ge 10 ] && [ "$s3" -ge 10 ] ||
	fail "IPv6 VIP: s1 $s1, s2 $s2, s3 $s3, failed $nfail"

# ---- 4. rr -------------------------------------------------------------------------------
ctl scheduler web rr >/dev/null || fail "albmctl scheduler web rr"
sleep 0.3
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 200)"
echo "4. rr (weights 1:3:0 ignored, s3 drained): s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s3" -eq 0 ] || fail "rr: s3 $s3, failed $nfail"
[ "$s1" -ge 70 ] && [ "$s2" -ge 70 ] || fail "rr: not equal shares: s1 $s1, s2 $s2"

# ---- 5. drain during a download ------------------------------------------------------------
ctl drain web s2 >/dev/null && sleep 0.3
"$LAB" exec c1 curl -sS -m 60 --limit-rate 4M -o "$TMP/slow" -D "$TMP/slow.h" "http://$VIP/bytes/6M" &
slow=$!
track_pid $slow
sleep 0.5 # under way on s1, the only server with a weight
ctl drain web s1 >/dev/null && ctl enable web s2 >/dev/null && sleep 0.3
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 40)"
echo "5. s1 drained during a download: new connections s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$s1" -eq 0 ] && [ "$s2" -eq 40 ] || fail "new flows after draining s1: s1 $s1, s2 $s2"
wait $slow || fail "the download established on s1 broke when s1 was drained"
grep -qi "^x-server: s1" "$TMP/slow.h" && [ "$(stat -c %s "$TMP/slow")" -eq $((6 << 20)) ] ||
	fail "the drained server's download did not complete intact: $(stat -c %s "$TMP/slow") bytes, $(grep -i x-server "$TMP/slow.h")"
ctl enable web s1 >/dev/null

# ---- 6. wlc: the table from the scheduler's picks on the counted flows -----------------------
ctl scheduler web wlc >/dev/null && ctl weight web s2 1 >/dev/null && ctl drain web s2 >/dev/null
sleep 0.3
hold 24 60 "$TMP/hold" & # 24 open flows on s1 (s2 drained)
track_pid $!
wait_until 30 grep -q ready "$TMP/hold" || fail "could not open 24 flows: $(cat "$TMP/hold")"
grep -q "s1 24" "$TMP/hold" || fail "the held flows are not all on s1: $(cat "$TMP/hold")"
active_s1() { [ "$(jq_srv s1 's["active_conns"]')" -ge 24 ]; }
wait_until 10 active_s1 || fail "the 24 open flows on s1 are not counted: $(ctl list)"
ctl enable web s2 >/dev/null
# The table is a pure function of the counts (docs/dr.md): K picks of wlc water-filled
# on s1's and s2's live connections.  Wait until the applied table is that function of
# the counts it shows (within the 1/8 a picks table may drift before it is rebuilt).
wlc_table() {
	ctl list --json | python3 -c '
import json, sys
svc = json.load(sys.stdin)["services"][0]
dr, srv = svc["dr"], {s["name"]: s for s in svc["servers"]}
if dr["table_from"] != "picks":
    sys.exit("table from " + dr["table_from"])
load = {n: srv[n]["active_conns"] * 256 + srv[n]["inactive_conns"] for n in ("s1", "s2")}
want = {"s1": 0, "s2": 0}
for _ in range(dr["table_k"]):   # wlc, weights 1:1, ties to s1 (first in the list)
    n = min(("s1", "s2"), key=lambda n: (load[n], n))
    want[n] += 1
    load[n] += 256
got = {n: srv[n]["dr"]["table_weight"] for n in ("s1", "s2")}
for n in got:
    if abs(got[n] - want[n]) > max(got[n], want[n]) // 8:
        sys.exit("table %s, water-fill %s (k %d)" % (got, want, dr["table_k"]))
if got["s2"] < 3 * got["s1"]:
    sys.exit("table %s does not favour s2" % got)
print("table s1 %d, s2 %d of k %d with s1 %d active" %
      (got["s1"], got["s2"], dr["table_k"], srv["s1"]["active_conns"]))'
}
wait_until 10 wlc_table || fail "wlc's table does not reflect the held flows: $(wlc_table 2>&1)"
table=$(wlc_table)
# New flows follow that table.  Paced (50 per second at most, 5 per tick) so that K
# stays at its minimum of 32 and the table at about 4:28 whatever the machine's speed:
# unpaced, K follows the rate and a fast client turns it towards 1:1.
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(CONN_GAP=0.02 conns 60)"
echo "6. wlc with 24 flows open on s1 ($table): new connections s1 $s1, s2 $s2," \
	"failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s2" -ge $((s1 * 2)) ] || fail "wlc: s1 $s1, s2 $s2, failed $nfail"

# ---- 7. reload: weights from the file ----------------------------------------------------------
write_conf wrr 0 1 1
kill -HUP "$ALBMD_PID"
s3_w() { [ "$(jq_srv s3 'dr["table_weight"]')" = 1 ]; }
wait_until 10 s3_w || fail "reload did not give s3 weight 1"
read -r _ s1 _ s2 _ s3 _ nfail <<<"$(conns 60)"
echo "7. after a reload to 0:1:1: s1 $s1, s2 $s2, s3 $s3, failed $nfail"
[ "$nfail" -eq 0 ] && [ "$s1" -eq 0 ] && [ "$s2" -gt 0 ] && [ "$s3" -gt 0 ] ||
	fail "after the reload: s1 $s1, s2 $s2, s3 $s3, failed $nfail"

# ---- 8. the interface is clean after SIGTERM and after SIGKILL ---------------------------------
stop_albmd
xdp_attached && fail "XDP program still attached after albmd stopped"
grep -q "XDP program detached from eth0" "$TMP/albmd.log" || fail "no detach logged"
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/albmd.log" && fail "sanitizer report"
start_albmd_dr "$TMP/albmd.conf"
xdp_attached || fail "XDP not attached after a restart"
kill -KILL "$ALBMD_PID"
wait "$ALBMD_PID" 2>/dev/null
sleep 0.3
xdp_attached && fail "XDP program still attached after albmd was killed"
echo "8. XDP detached on SIGTERM and after SIGKILL"
echo "PASS"
