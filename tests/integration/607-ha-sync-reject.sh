#!/usr/bin/env bash
# ALBM: flow-sync datagrams that are forged, replayed, garbage, truncated, stale or from an unknown peer are refused and counted.
#
# albmd in d1 is in an ha group with peer d2 (node 2); tests/tools/sync_send in d2's
# namespace plays that peer: a valid datagram with one flow is accepted and the flow is
# pinned in d1's XDP connection table (flows installed 1); then the same datagram again
# (replay), one signed with another key (forged), 100 bytes of garbage (bad_magic), the
# first 50 bytes of a valid one (truncated), one from sender 9 (unknown_peer), one dated
# a minute ago (stale).  Each is counted under its reason in `albmctl list --json`, in
# `albmctl list` and in /metrics, changes nothing else, and albmd keeps running.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albmd albmctl albm-httpd albm-agent tools/sync_send
[ -c /dev/net/tun ] || skip "/dev/net/tun not available"
# shellcheck source=../lib/hanet.sh
. tests/lib/hanet.sh

ha_up --distributors 2 --servers 2 --no-bird
httpd_up 2
HA_CONTROL="http 127.0.0.1:7071;" albmd_ha d1 "$VIP" 2
"$BIN/albm-agent" --gen-key "$TMP/other.key" >/dev/null || fail "gen-key"
EPOCH=$(date +%s%3N) # one epoch for all: a seq seen before is a replay
send() {
	in_ns d2 "$BIN/tools/sync_send" --to 10.78.0.11:7072 --key-file "$STATE/sync.key" \
		--epoch "$EPOCH" "$@"
}
ha() { jget "$(dctl d1 list --json)" "j['ha']$1"; }
FLOW=10.78.1.2:40000,$VIP:80,10.78.0.22

send --sender 2 --seq 1 --flow "$FLOW" >/dev/null || fail "sync_send"
wait_until 5 test "$(ha "['flows_installed']")" = 1 || fail "the valid flow was not installed: $(dctl d1 list)"
[ "$(ha "['peers'][0]['messages_received']")" = 1 ] || fail "peer d2's message not counted"
send --sender 2 --seq 1 --flow "$FLOW" >/dev/null # the same again
send --sender 2 --seq 2 --flow "$FLOW" --key-file "$TMP/other.key" >/dev/null
send --garbage 100 >/dev/null
send --sender 2 --seq 3 --flow "$FLOW" --truncate 50 >/dev/null
send --sender 9 --seq 1 --flow "$FLOW" >/dev/null
send --sender 2 --seq 4 --flow "$FLOW" --age-ms 60000 >/dev/null
refused() { [ "$(ha "['rejected']['$1']")" = "$2" ]; }
for r in replay forged bad_magic truncated unknown_peer stale; do
	wait_until 5 refused "$r" 1 || fail "$r: counted $(ha "['rejected']['$r']"), want 1"
done
echo "refused and counted: $(ha "['rejected']")"
[ "$(ha "['flows_installed']")" = 1 ] || fail "a refused datagram installed a flow"
[ "$(ha "['peers'][0]['messages_received']")" = 1 ] || fail "a refused datagram counted as the peer's"
[ "$(ha "['datagrams_received']")" = 7 ] || fail "datagrams received: $(ha "['datagrams_received']")"
dctl d1 ping >/dev/null || fail "albmd died"
dctl d1 list | grep "refused" | sed 's/^ *//'
dctl d1 list | grep -q "6 datagrams refused (truncated 1, bad_magic 1, forged 1, unknown_peer 1, replay 1, stale 1)" ||
	fail "albmctl list: $(dctl d1 list | grep refused)"
m=$(in_ns d1 curl -s -m 3 http://127.0.0.1:7071/metrics)
for r in replay forged bad_magic truncated unknown_peer stale; do
	echo "$m" | grep -q "^albm_ha_datagrams_rejected_total{reason=\"$r\"} 1$" || fail "/metrics: $r"
done
echo "$m" | grep -q '^albm_ha_flows_installed_total 1$' || fail "/metrics: flows installed"
echo "$m" | grep -q '^albm_ha_peer_messages_received_total{peer="d2"} 1$' || fail "/metrics: peer"
grep -c "refused" "$STATE/d1/albmd.log" | sed 's/^/log lines about refusals: /'
echo "PASS"
