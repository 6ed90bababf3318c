#!/usr/bin/env bash
# ALBM: albmd proxy mode distributes real connections as each scheduler says: wrr 4,3,2
# gives the IPVS sequence A A B A B C A B C, rr cycles, sh pins a client, wlc and lc
# spread concurrent connections; scheduler changes at run time; IPv6 listener.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albmctl albm-httpd
command -v curl >/dev/null || skip "curl not installed"
TMP=$(mktemp -d /tmp/albm-201.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh
# shellcheck source=../lib/albmd.sh
. tests/lib/albmd.sh

PA=$(free_port) PB=$(free_port) PC=$(free_port) VIP=$(free_port) VIP6=$(free_port)
start_httpd A "$PA"
start_httpd B "$PB"
start_httpd C "$PC"
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web {
    listen 127.0.0.1:$VIP;
    scheduler wrr;
    server A 127.0.0.1:$PA weight 4;
    server B 127.0.0.1:$PB weight 3;
    server C 127.0.0.1:$PC weight 2;
}
service web6 {
    listen [::1]:$VIP6;
    scheduler rr;
    server A 127.0.0.1:$PA;
    server B 127.0.0.1:$PB;
}
CONF
start_albmd "$TMP/albmd.conf"

# ---- wrr: the exact IPVS sequence, twice round
got=$(sequence 18 "$VIP")
[ "$got" = "A A B A B C A B C A A B A B C A B C" ] || fail "wrr 4,3,2: got '$got'"

# ---- rr after a run-time scheduler change (the cursor starts at the head)
ctl scheduler web rr >/dev/null || fail "albmctl scheduler rr"
got=$(sequence 6 "$VIP")
[ "$got" = "A B C A B C" ] || fail "rr: got '$got'"

# ---- sh: one client address, one server, every time
ctl scheduler web sh >/dev/null || fail "albmctl scheduler sh"
got=$(sequence 6 "$VIP")
first=${got%% *}
[ -n "$first" ] && [ "$(count_in "$first" "$got")" -eq 6 ] || fail "sh: got '$got'"

# ---- wlc with concurrent connections: held-open connections steer the next picks
ctl scheduler web wlc >/dev/null || fail "albmctl scheduler wlc"
# 9 idle connections held open from this shell (albmd connects each to a server)
FDS=()
for i in $(seq 9); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$VIP" || fail "connect $i"
	FDS+=("$fd")
done
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' list --json | grep -q '\"active_conns\": 9'" ||
	fail "9 connections not seen active: $(ctl list)"
json=$(ctl list --json)
# weights 4:3:2 and 9 connections: wlc gives exactly 4, 3 and 2
for pair in A:4 B:3 C:2; do
	n=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print([s['active_conns'] for s in d['services'][0]['servers'] if s['name']==sys.argv[2]][0])" "$json" "${pair%:*}")
	[ "$n" = "${pair#*:}" ] || fail "wlc: ${pair%:*} has $n active connections, want ${pair#*:}: $(ctl list)"
done
for fd in "${FDS[@]}"; do exec {fd}>&-; done
wait_until 5 sh -c "'$BIN/albmctl' -s '$ALBMD_SOCK' stats | grep -q '^conns_current *0$'" ||
	fail "closed connections still counted: $(ctl list)"

# ---- drain: no new connections to A; weight: more to C
ctl drain web A >/dev/null || fail "drain"
ctl scheduler web wrr >/dev/null || fail "albmctl scheduler wrr"
got=$(sequence 10 "$VIP")
[ "$(count_in A "$got")" -eq 0 ] || fail "drained A still picked: '$got'"
ctl enable web A >/dev/null || fail "enable"
ctl weight web C 8 >/dev/null || fail "weight"
got=$(sequence 17 "$VIP")
[ "$(count_in C "$got")" -eq 8 ] || fail "wrr 4,3,8 over 15+2: C picked $(count_in C "$got") times in '$got'"

# ---- IPv6 listener, rr
got=$(curl -s -g --max-time 5 -o /dev/null -w '%header{x-server}' "http://[::1]:$VIP6/")
got="$got $(curl -s -g --max-time 5 -o /dev/null -w '%header{x-server}' "http://[::1]:$VIP6/")"
[ "$got" = "A B" ] || fail "IPv6 rr: got '$got'"

# ---- bytes are counted both ways
curl -s --max-time 10 -o "$TMP/big" "http://127.0.0.1:$VIP/bytes/3M" || fail "3M download"
[ "$(stat -c %s "$TMP/big")" -eq 3145728 ] || fail "3M download size $(stat -c %s "$TMP/big")"
kill -0 "$ALBMD_PID" || fail "albmd died"
echo "ok: wrr/rr/sh/wlc distributions, drain, weight, IPv6"
