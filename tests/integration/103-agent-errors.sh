#!/usr/bin/env bash
# ALBM: albm-agent on bad input — missing/unreadable key, bad addresses, missing cgroups,
# unparsable /proc lines, bad thresholds: a clear error naming the thing, never a crash;
# an unreachable distributor does not stop the agent, which reports when it is back.
source tests/lib/common.sh
source tests/lib/agent.sh
need_bin albm-agent
command -v python3 > /dev/null || skip "needs python3"
agent_tmpdir
A=$BIN/albm-agent

# expect CODE TEXT CMD...: CMD exits with CODE and its stderr contains TEXT
expect() {
	local code=$1 text=$2 rc
	shift 2
	"$@" > "$T/out" 2> "$T/err"
	rc=$?
	[ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $(cat "$T/err")"
	grep -qF -- "$text" "$T/err" || fail "'$*': message lacks '$text': $(cat "$T/err")"
	echo "  ok: $* -> $(head -1 "$T/err" | sed 's/^[0-9T:.-]* //')"
}

"$A" --gen-key "$T/key" || fail "--gen-key"
[ "$(stat -c %a "$T/key")" = 600 ] || fail "key file mode is $(stat -c %a "$T/key")"
expect 1 "File exists" "$A" --gen-key "$T/key"
expect 1 "key file $T/nokey: No such file or directory" \
	"$A" --name a --distributor 127.0.0.1:9 --key-file "$T/nokey"
mkdir "$T/keydir"
expect 1 "key file $T/keydir: Is a directory" \
	"$A" --name a --distributor 127.0.0.1:9 --key-file "$T/keydir"
echo "not a key" > "$T/badkey"; chmod 600 "$T/badkey"
expect 1 "key file $T/badkey: expected 64 hex characters" \
	"$A" --name a --distributor 127.0.0.1:9 --key-file "$T/badkey"
expect 2 "needs --key-file" "$A" --name a --distributor 127.0.0.1:9
expect 2 "--distributor '127.0.0.1'" "$A" --name a --distributor 127.0.0.1 --key-file "$T/key"
expect 2 "--distributor '300.1.1.1:80'" \
	"$A" --name a --distributor 127.0.0.1:9,300.1.1.1:80 --key-file "$T/key"
expect 1 "--haproxy-listen 'nohost:80'" "$A" --haproxy-listen nohost:80
expect 2 "--name 'two words'" "$A" --name "two words" --haproxy-listen 127.0.0.1:9
expect 2 "--interval: " "$A" --once --interval 5
expect 2 "--mem-low '150'" "$A" --once --mem-low 150
expect 2 "--mem-low (30) < --mem-high (20)" "$A" --once --mem-low 30
expect 2 "nothing to do" "$A" --name a
expect 1 "cgroup /nonexistent/cg: No such file or directory" "$A" --once --cgroup /nonexistent/cg
expect 1 "cgroup albm-no-such-$$: not found" "$A" --once --cgroup "albm-no-such-$$"
expect 1 "not inside a cgroup mount" "$A" --once --cgroup "$T"

# an unparsable /proc line: --once fails naming file and line ...
mkdir -p "$T/proc/net"
for f in meminfo stat loadavg; do cat "/proc/$f" > "$T/proc/$f"; done
# the socket tables only need to be well-formed: a bounded head keeps the fixture
# small on a machine that holds many sockets at the moment
for f in net/tcp net/tcp6; do head -n 2000 "/proc/$f" > "$T/proc/$f"; done
cp -r "$T/proc" "$T/proc.good"
sed -i 's/^MemAvailable:.*/MemAvailable:   lots kB/' "$T/proc/meminfo"
expect 1 "$T/proc/meminfo: cannot parse line 'MemAvailable:   lots kB'" \
	"$A" --once --proc-dir "$T/proc"
# ... and the daemon keeps running, then recovers when the file is good again
APORT=$(free_port tcp)
"$A" --haproxy-listen "127.0.0.1:$APORT" --proc-dir "$T/proc.good" --interval 100ms \
	2> "$T/daemon.log" &
DPID=$!
track_pid "$DPID"
wait_port "$APORT" 20 ||
	fail "agent did not listen: $(cat "$T/daemon.log"; ps -o pid,stat,wchan:20,args -p "$DPID")"
cp "$T/proc/meminfo" "$T/proc.good/meminfo"
agent_line() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
print(s.recv(99).decode().strip())' "$APORT" 2>/dev/null
}
# until_line PATTERN...: poll the agent-check reply (20 s) until it matches a pattern
until_line() {
	local i p
	for ((i = 0; i < 100; i++)); do
		line=$(agent_line)
		for p in "$@"; do
			# shellcheck disable=SC2254
			case $line in $p) return 0 ;; esac
		done
		sleep 0.2
	done
	return 1
}
until_line "drain down #no measurement" || fail "agent-check while blind: '$line'"
kill -0 "$DPID" 2>/dev/null || fail "the agent died on a bad /proc line: $(cat "$T/daemon.log")"
grep -q "meminfo: cannot parse line" "$T/daemon.log" || fail "no error logged: $(cat "$T/daemon.log")"
grep MemAvailable /proc/meminfo > "$T/mline"
sed -i "s/^MemAvailable:.*/$(cat "$T/mline")/" "$T/proc.good/meminfo"
until_line "ready up *%" "drain up" || fail "agent-check after recovery: '$line'"
echo "  ok: the daemon survived an unparsable /proc line, logged it, told HAProxy" \
	"'drain down' while blind and '$line' once the file was good again"

# an unreachable distributor: the agent goes on, and is heard once the receiver is back
UPORT=$(free_port udp)
"$A" --name t103 --distributor "127.0.0.1:$UPORT" --key-file "$T/key" --interval 100ms \
	2> "$T/agent.log" &
APID=$!
track_pid "$APID"
for ((i = 0; i < 50; i++)); do
	grep -q "unreachable" "$T/agent.log" && break
	sleep 0.1
done
grep -q "127.0.0.1:$UPORT unreachable" "$T/agent.log" || fail "no unreachable warning: $(cat "$T/agent.log")"
kill -0 "$APID" || fail "agent exited with its distributor away"
"$A" --decode-from "127.0.0.1:$UPORT" --key-file "$T/key" > "$T/reports.jsonl" &
track_pid $!
# at least two reports went out while nobody listened (the warning needs a failed send)
wait_json "$T/reports.jsonl" "r.get('name') == 't103' and r['seq'] >= 3" > /dev/null ||
	fail "no report after the distributor came back: $(cat "$T/reports.jsonl")"
for ((i = 0; i < 50; i++)); do
	grep -q "reachable again" "$T/agent.log" && break
	sleep 0.1
done
grep -q "127.0.0.1:$UPORT reachable again" "$T/agent.log" || fail "recovery not logged: $(cat "$T/agent.log")"
echo "  ok: unreachable distributor survived, reports resumed"
echo "103-agent-errors: ok"
