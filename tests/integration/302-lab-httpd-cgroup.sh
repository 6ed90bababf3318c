#!/usr/bin/env bash
# ALBM: albm-httpd in a memory-limited cgroup (the lab's physical mode) — the in-flight
# buffers are real memory the cgroup accounts, /stats reports the limit, and the hard
# --max-inflight-bytes keeps the server clear of the OOM killer under 15M downloads.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_root
need_bin albm-httpd albm-bench
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"

TMP=$(mktemp -d /tmp/albm-302.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/lab_tools.sh
. tests/lib/lab_tools.sh

LIMIT=$((128 << 20))
CG=""
if [ -w /sys/fs/cgroup/memory ] && [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CG=/sys/fs/cgroup/memory/albm-t302-$$ # cgroup v1
	mkdir "$CG" || skip "cannot create $CG"
	echo "$LIMIT" >"$CG/memory.limit_in_bytes" || skip "cannot set memory.limit_in_bytes"
	peak() { cat "$CG/memory.max_usage_in_bytes"; }
	ooms() { awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control"; }
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	CG=/sys/fs/cgroup/albm-t302-$$ # cgroup v2
	mkdir "$CG" || skip "cannot create $CG"
	echo "$LIMIT" >"$CG/memory.max" || skip "cannot set memory.max"
	peak() { cat "$CG/memory.peak" 2>/dev/null || echo $((15 << 20)); } # memory.peak: 5.19+
	ooms() { awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events"; }
else
	skip "no writable memory cgroup controller (v1 or v2)"
fi
# Runs after the tracked server is stopped: the cgroup must be empty to go.
on_exit "for _ in \$(seq 1 30); do rmdir '$CG' 2>/dev/null && break; sleep 0.1; done"

P=$(free_port)
sh -c "echo \$\$ >'$CG/cgroup.procs' && exec '$BIN/albm-httpd' --listen 127.0.0.1:$P --name cg \
	--cpu-per-mb 0 --max-inflight-bytes 64M --overflow queue" >"$TMP/httpd.log" 2>&1 &
SRV=$!
track_pid "$SRV"
wait_port "$P" 10 || { cat "$TMP/httpd.log"; fail "albm-httpd did not listen"; }
kill -0 "$SRV" 2>/dev/null || { cat "$TMP/httpd.log"; fail "albm-httpd exited"; }
grep -q "cgroup memory limit 128M" "$TMP/httpd.log" || fail "startup log lacks the cgroup limit: $(cat "$TMP/httpd.log")"
stats "$P" >"$TMP/s0.json"
pyjson "$TMP/s0.json" "assert d['memory']['cgroup_limit'] == $LIMIT and d['mode'] == 'physical', d" ||
	fail "/stats memory: $(cat "$TMP/s0.json")"

"$BIN/albm-bench" --url "http://127.0.0.1:$P" --clients 8 --step 2s --mix 15M:100 --timeout 20s \
	--seed 5 --csv "$TMP/b.csv" --quiet 2>"$TMP/b.err" || { cat "$TMP/b.err"; fail "bench"; }
kill -0 "$SRV" 2>/dev/null || { cat "$TMP/httpd.log"; fail "albm-httpd died under load"; }
[ "$(csv_col "$TMP/b.csv" 1 errors)" = 0 ] && gt0 "$(csv_col "$TMP/b.csv" 1 requests)" ||
	fail "8 x 15M under a 64M in-flight limit: $(cat "$TMP/b.csv")"
[ "$(ooms)" = 0 ] || fail "the OOM killer ran $(ooms) time(s) in the cgroup"
stats "$P" >"$TMP/s1.json"
pyjson "$TMP/s1.json" '
assert d["peak_inflight_bytes"] <= 64 << 20, d
assert d["queued_total"] > 0, d   # 8 x 15M does not fit in 64M at once
' || fail "/stats after the run: $(cat "$TMP/s1.json")"
# The buffers were real: the cgroup saw at least one whole 15M buffer resident.
[ "$(peak)" -ge $((15 << 20)) ] || fail "cgroup peak usage $(peak) < 15M: buffers not touched?"
echo "httpd in a cgroup: ok (peak usage $(($(peak) >> 20))M of 128M)"
