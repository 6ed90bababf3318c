#!/usr/bin/env bash
# ALBM: albmd under churn — `workers 4`, clients opening and closing a connection per
# request on two services while the configuration is reloaded (servers added and removed,
# schedulers changed, a service renamed so that its listening address changes hands) and
# albmctl changes weights, drains, enables and schedulers; then every request answered,
# the counters balanced (no connection left active in any service, server or scheduler)
# and albmd alive.  Against the sanitizer build (make SAN=1 BUILD=build/asan bins, then
# BUILD=build/asan bash tests/integration/209-albmd-stress.sh) any report fails it.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 209 albmd albmctl albm-httpd albm-bench

P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)
VA=$(free_port) VB=$(free_port)
start_httpd s1 "$P1"
start_httpd s2 "$P2"
start_httpd s3 "$P3"
start_httpd s4 "$P4"

# write_conf VARIANT: four configurations the reloads cycle through
write_conf() {
	local v=$1 sa=rr sb=wlc b=b extra=""
	case $v in
	1) sa=wlc; extra="server s3 127.0.0.1:$P3 weight 2;" ;;
	2) sa=lc; sb=wrr; b=b2 ;;
	3) sb=rr; extra="server s4 127.0.0.1:$P4;" ;;
	esac
	cat >"$TMP/albmd.conf.new" <<-CONF
	workers 4;
	control { socket $TMP/albmd.sock; }
	service a {
	    listen 127.0.0.1:$VA;
	    scheduler $sa;
	    server s1 127.0.0.1:$P1 weight $((1 + v));
	    server s2 127.0.0.1:$P2;
	    $extra
	}
	service $b {
	    listen 127.0.0.1:$VB;
	    scheduler $sb;
	    server s3 127.0.0.1:$P3;
	    server s4 127.0.0.1:$P4 weight 3;
	}
	CONF
	mv "$TMP/albmd.conf.new" "$TMP/albmd.conf"
}
write_conf 0
start_albmd "$TMP/albmd.conf"
ctl stats | grep -q '^workers *4$' || fail "not 4 workers: $(ctl stats)"

# ---- load: 2 x 12 closed-loop clients, a new connection per 1-byte request, ~8 s
for v in A B; do
	port=$VA
	[ "$v" = B ] && port=$VB
	"$BIN/albm-bench" --url "http://127.0.0.1:$port" --clients 12 --mix 1:100 --step 8s \
		--duration 10s --timeout 10s --seed 209 --quiet --no-progress \
		--json "$TMP/bench-$v.json" >"$TMP/bench-$v.log" 2>&1 &
	eval "BENCH_$v=\$!"
	track_pid "$!"
done

# ---- meanwhile: reloads and control commands for 6 s (at least 4 reloads: a sanitizer
# build is slow), bounded in count and by 9 s
reloads=0 cmds=0
start=$SECONDS
for ((i = 0; i < 400 && SECONDS - start < 9; i++)); do
	((SECONDS - start >= 6 && reloads >= 4)) && break
	case $((i % 6)) in
	0) write_conf $(((i / 6) % 4)); ctl reload >/dev/null && reloads=$((reloads + 1)) ;;
	1) ctl weight a s1 $((1 + i % 7)) >/dev/null && cmds=$((cmds + 1)) ;;
	2) ctl drain a s2 >/dev/null && cmds=$((cmds + 1)) ;;
	3) ctl enable a s2 >/dev/null && cmds=$((cmds + 1)) ;;
	4) ctl scheduler a "$( ((i % 12 == 4)) && echo wrr || echo lc)" >/dev/null &&
		cmds=$((cmds + 1)) ;;
	5) ctl weight b s4 $((1 + i % 5)) >/dev/null 2>&1 # fails while b is b2
	   ctl list --json >/dev/null &&
		cmds=$((cmds + 1)) ;;
	esac
done
kill -0 "$ALBMD_PID" 2>/dev/null || fail "albmd died under churn: $(tail -20 "$TMP/albmd.log")"
[ "$reloads" -ge 2 ] && [ "$cmds" -ge 8 ] ||
	fail "too little churn: $reloads reloads, $cmds commands"
wait "$BENCH_A" "$BENCH_B" || fail "albm-bench failed: $(cat "$TMP"/bench-*.log)"
write_conf 0 # services a and b again, whatever the last reload left
ctl reload >/dev/null || fail "reload after the churn"

# ---- every request answered, through both services
for v in A B; do
	pyjson "$TMP/bench-$v.json" '
s = d["steps"][0]
assert s["requests"] >= 100, s
assert s["errors"] == 0, s["errors_by_kind"]
print(s["requests"], end=" ")
' >>"$TMP/requests" || fail "service $v under churn: $(cat "$TMP/bench-$v.log")"
done

# ---- the counters balance once the clients are gone: no connection left anywhere
balanced() {
	ctl list --json >"$TMP/l.json" && ctl stats --json >"$TMP/s.json" || return 1
	pyjson "$TMP/l.json" '
for svc in d["services"]:
    assert svc["active_conns"] == 0, svc
    for s in svc["servers"]:
        assert s["active_conns"] == 0 and s["inactive_conns"] == 0, s
' && pyjson "$TMP/s.json" 'assert d["conns_current"] == 0, d'
}
wait_until 10 balanced || fail "connections left active: $(ctl list) $(ctl stats)"
final=$(ctl list --json) || fail "albmd does not answer"
pyjson <(echo "$final") '
names = sorted(s["name"] for s in d["services"])
assert names == ["a", "b"], names
total = sum(s["total_conns"] for s in d["services"])
assert total >= 200, total
' || fail "final state: $final"
ctl ping >/dev/null || fail "albmd does not answer after the churn"
echo "ok: workers 4, $reloads reloads and $cmds control commands under connection churn;" \
	"requests (a, b): $(cat "$TMP/requests")all answered; counters balanced"
