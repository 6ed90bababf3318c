#!/usr/bin/env bash
# ALBM: lab/run's cluster-file checks for the timeline and the open loop — every bad event
# line, restart delay or load setting is refused before anything starts, with an error that
# names the file and line; good ones resolve (--dry-run shows the events and the rates).
# Needs no root and starts nothing.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd
command -v python3 >/dev/null || skip "python3 not installed"

TMP=$(mktemp -d /tmp/albm-511.XXXXXX)
on_exit "rm -rf '$TMP'"

# cluster FILE LINE...: a 2-server cluster; the extra lines start at line 6.
cluster() {
	local f=$1
	shift
	{
		echo "name = syntax"
		echo "schedulers = rr"
		echo "server a mem=32M"
		echo "server b mem=64M swap=0"
		echo "# the lines under test follow"
		printf '%s\n' "$@"
	} >"$f"
}

# refused 'WHY' LINE...: lab/run exits 2 naming FILE:6 and WHY.
refused() {
	local why=$1 out rc
	shift
	cluster "$TMP/bad.cluster" "$@"
	out=$(lab/run "$TMP/bad.cluster" --estimate 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "accepted (exit $rc): $*"
	grep -qF "$TMP/bad.cluster:6: " <<<"$out" || fail "no file:line in '$out' for: $*"
	grep -qF -- "$why" <<<"$out" || fail "expected '$why' in '$out' for: $*"
}

refused "pause needs for=DUR" "event at=5s server=a pause"
refused "hog-mem needs for=DUR" "event at=5s server=a hog-mem=10%"
refused "no server 'zz'" "event at=5s for=2s server=zz kill"
refused "at 'x' is not a duration" "event at=x for=2s server=a pause"
refused "for '5' is not a duration" "event at=1s for=5 server=a pause"
refused "for= must be longer than 0" "event at=1s for=0s server=a pause"
refused "needs at=DUR" "event for=2s server=a pause"
refused "needs server=NAME" "event at=1s for=2s pause"
refused "needs a kind" "event at=1s for=2s server=a"
refused "1..95%" "event at=1s for=2s server=a hog-mem=96%"
refused "1..800%" "event at=1s for=2s server=a hog-cpu=801%"
refused "expected a percentage of one CPU" "event at=1s for=2s server=a hog-cpu=2"
refused "expected a whole percentage" "event at=1s for=2s server=a hog-mem=1.5%"
refused "is not below a's mem=32M" "event at=1s for=2s server=a hog-mem=32M"
refused "two event kinds" "event at=1s for=2s server=a pause kill"
refused "two event kinds" "event at=1s for=2s server=a hog-cpu=50% hog-mem=10%"
refused "unknown event key 'bogus'" "event at=1s for=2s server=a bogus=1 pause"
refused "unknown event word 'frobnicate'" "event at=1s for=2s server=a frobnicate"
refused "at= given twice" "event at=1s at=2s for=1s server=a pause"
refused "'server=' needs a value" "event at=1s for=1s server= pause"
refused "restart_delay 'soon'" "server c restart_delay=soon"
refused "every= must be longer than for=" "event at=1s for=2s every=2s server=a pause"
refused "every 'x' is not a duration" "event at=1s for=2s every=x server=a pause"
refused "every= must be at least 100ms" "event at=1s every=50ms server=a kill"
refused "every= given twice" "event at=1s for=1s every=5s every=6s server=a pause"

# Settings checked after the whole file (and the command line) are named, not placed.
cluster "$TMP/open.cluster" "load = 85%"
out=$(lab/run "$TMP/open.cluster" --estimate 2>&1)
[ $? -eq 2 ] && grep -q "needs bound" <<<"$out" || fail "load without bound: $out"
out=$(lab/run "$TMP/open.cluster" --set bound=40 --set rate=10 --estimate 2>&1)
[ $? -eq 2 ] && grep -q "exclude each other" <<<"$out" || fail "rate and load: $out"
for bad in "rate=0" "rate=1,,2" "pool=0" "bound=fast" "restart_delay=1" "mem_limit=maybe"; do
	out=$(lab/run "$TMP/open.cluster" --set bound=40 --set "$bad" --estimate 2>&1)
	[ $? -eq 2 ] || fail "--set $bad accepted: $out"
done

# ---- good lines: the timeline and the open loop resolve
cluster "$TMP/good.cluster" "event at=1s for=2s server=a hog-mem=50%" \
	"event at=1.5s for=500ms server=b hog-cpu=150%" "event at=3s for=1s server=a pause" \
	"event at=4s server=b kill" "event at=5s for=1s server=b restart" \
	"event at=6s for=1s server=a hog-mem=8M" "load = 50%,95%" "bound = 40" "pool = 64"
lab/run "$TMP/good.cluster" --estimate >/dev/null 2>"$TMP/est.err" || { cat "$TMP/est.err"; fail "good file refused"; }
lab/run "$TMP/good.cluster" --dry-run --out "$TMP/dry" --build "$BIN" >"$TMP/dry.out" 2>&1 ||
	{ cat "$TMP/dry.out"; fail "dry run failed"; }
grep -qx 'events_planned=6' "$TMP/dry.out" || fail "events not in cluster.env: $(cat "$TMP/dry.out")"
grep -qx 'event.1=at_ms:1000 for_ms:2000 server:a kind:hog-mem value:50%' "$TMP/dry.out" || fail "event.1"
grep -qx 'event.2=at_ms:1500 for_ms:500 server:b kind:hog-cpu value:150%' "$TMP/dry.out" || fail "event.2"
grep -qx 'event.4=at_ms:4000 for_ms: server:b kind:kill value:' "$TMP/dry.out" || fail "event.4"
grep -qx 'loop=open' "$TMP/dry.out" && grep -qx 'rates=20,38' "$TMP/dry.out" || fail "open loop not resolved"
grep -q 'server.b=.*swap:0 .*restart_delay:2s' "$TMP/dry.out" || fail "server b: $(grep server.b "$TMP/dry.out")"
# The command line wins over the file: --rate replaces the file's load.
lab/run "$TMP/good.cluster" --rate 7.5 --dry-run --out "$TMP/dry2" --build "$BIN" 2>&1 |
	grep -qx 'rates=7.5' || fail "--rate did not replace the file's load"
# --no-events keeps the file valid and switches the timeline off.
lab/run "$TMP/good.cluster" --no-events --dry-run --out "$TMP/dry3" --build "$BIN" 2>&1 |
	grep -qx 'events=no' || fail "--no-events"
# every=: one event per period within the bench runs (2 steps of 4 s: 8 s)
cluster "$TMP/every.cluster" "event at=1s for=1s every=3s server=a pause" "clients = 1,2" "step = 4s"
lab/run "$TMP/every.cluster" --dry-run --out "$TMP/dry4" --build "$BIN" >"$TMP/dry4.out" 2>&1 ||
	{ cat "$TMP/dry4.out"; fail "every= refused"; }
grep -qx 'events_planned=3' "$TMP/dry4.out" &&
	grep -qx 'event.3=at_ms:7000 for_ms:1000 server:a kind:pause value:' "$TMP/dry4.out" ||
	fail "every= not expanded: $(grep event "$TMP/dry4.out")"
# the shipped scenarios are valid, with their bound runs and open loops (make scenarios)
for f in lab/scenarios/*.cluster; do
	for a in "" "--no-events --set mem_limit=no" "--load 50%,95% --set bound=40 --step 4s"; do
		# shellcheck disable=SC2086
		lab/run "$f" $a --estimate >/dev/null 2>"$TMP/sc.err" || { cat "$TMP/sc.err"; fail "$f $a refused"; }
	done
done
echo "cluster syntax: ok"
