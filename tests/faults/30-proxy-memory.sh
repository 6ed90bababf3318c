#!/usr/bin/env bash
# ALBM fault suite, mode proxy: albmd in a memory cgroup at a tight limit, under load.
#
# albmd runs alone in a memory cgroup of 10 MiB (v1 memory controller, or v2); 4 long
# downloads run, then 2000 clients connect at once (each connection costs kernel memory
# for two sockets, charged to the cgroup: unguarded, the OOM killer took albmd at about
# 1500 connections).  Must hold: albmd is never OOM-killed and keeps running
# (degrades by refusing: refusals.memory counts the pauses), the long downloads
# complete, the clients are served as memory frees up, no server is marked down, no busy
# loop; after the load it serves at once.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 830 albmd albmctl albm-httpd
# shellcheck source=lib.sh
. tests/faults/lib.sh
need_root
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 8192 ] || skip "hard descriptor limit below 8192"
TOOLS=tests/lib/fault_tools.py
LIMIT=$((10 << 20))

# a memory cgroup of our own, removed at exit
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CG=/sys/fs/cgroup/memory/albmt-faults-$$
	mkdir "$CG" || skip "cannot create a v1 memory cgroup"
	echo "$LIMIT" >"$CG/memory.limit_in_bytes" || skip "cannot set the cgroup's limit"
	ooms() { awk '/^oom_kill / { print $2 }' "$CG/memory.oom_control"; }
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	CG=/sys/fs/cgroup/albmt-faults-$$
	mkdir "$CG" || skip "cannot create a v2 cgroup"
	echo "$LIMIT" >"$CG/memory.max" || skip "cannot set memory.max"
	ooms() { awk '/^oom_kill / { print $2 }' "$CG/memory.events"; }
else
	skip "no memory cgroup controller (v1 /sys/fs/cgroup/memory or v2) to put albmd in"
fi
on_exit "rmdir '$CG' 2>/dev/null"

P1=$(free_port) P2=$(free_port) VIP=$(free_port)
start_httpd s1 "$P1"
start_httpd s2 "$P2"
cat >"$TMP/albmd.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web {
	listen 127.0.0.1:$VIP;
	scheduler rr;
	server s1 127.0.0.1:$P1;
	server s2 127.0.0.1:$P2;
}
CONF
# shellcheck disable=SC2034 # read by the sourced test library
ALBMD_SOCK=$TMP/albmd.sock
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -f "$3" --log-level info' albmd "$CG" "$BIN/albmd" \
	"$TMP/albmd.conf" >>"$TMP/albmd.log" 2>&1 &
ALBMD_PID=$!
track_pid "$ALBMD_PID"
wait_until 10 ctl ping || fail "albmd did not start: $(cat "$TMP/albmd.log")"
grep -q "memory cgroup .*: limit 10 MiB" "$TMP/albmd.log" || fail "albmd did not see its memory limit: $(cat "$TMP/albmd.log")"

cpu_mark "$ALBMD_PID"
flows_start "" 127.0.0.1 "$VIP" 4 /bytes/8M 2000000 "$TMP/mem.flows"
out=$(python3 "$TOOLS" many 127.0.0.1 "$VIP" 2000 --path /bytes/1000 --hold 2 --timeout 60)
flows_wait "$TMP/mem.flows" 30 || fail "the downloads did not end"
cpu=$(cpu_pct "$ALBMD_PID")
echo "2000 clients: $out; downloads: $(grep '^flows ' "$TMP/mem.flows")"
echo "refusals $(stats_json 'd["refusals"]'); working set $(( $(stats_json 'd["memory_working_set"]') >> 10 )) KiB of $(( $(stats_json 'd["memory_limit"]') >> 10 )) KiB; OOM kills $(ooms)"
kill -0 "$ALBMD_PID" 2>/dev/null || fail "albmd died: $(tail -5 "$TMP/albmd.log")"
[ "$(ooms)" = 0 ] || fail "the OOM killer acted in albmd's cgroup"
[ "$(stats_json 'd["refusals"]["memory"]')" -ge 1 ] || fail "no memory refusal counted: the load did not reach the limit?"
[ "$(flows_lost "$TMP/mem.flows")" = 0 ] || fail "downloads lost: $(cat "$TMP/mem.flows")"
ok=${out#ok=} ok=${ok%% *}
[ "$ok" -ge 1900 ] || fail "only $ok of 2000 clients served: $out"
[ "$(svc_json web '",".join(x["state"] for x in s["servers"])')" = "up,up" ] || fail "a server was marked down"
[ "$cpu" -lt "$(busy_limit)" ] || fail "albmd at ${cpu}% CPU"
for i in 1 2 3; do [ -n "$(who "$VIP" /bytes/10)" ] || fail "request $i after the load"; done
row "proxy: memory cgroup 10 MiB + 2000 clients" "held: no OOM kill, paused $(stats_json 'd["refusals"]["memory"]')x, $ok/2000 served" "0/4 long" "$cpu"
echo "30-proxy-memory: ok"
