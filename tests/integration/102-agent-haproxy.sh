#!/usr/bin/env bash
# ALBM: interop with a real HAProxy (Debian's 2.6) — agent-check pointed at albm-agent; as
# the server's cgroup fills up, HAProxy lowers the server's weight, then drains it, and
# puts it back when the memory is freed.
source tests/lib/common.sh
source tests/lib/agent.sh
need_root
need_bin albm-agent
command -v haproxy > /dev/null || skip "haproxy not installed (scripts/deps.sh)"
command -v python3 > /dev/null || skip "needs python3"
agent_tmpdir
CG=albm-t102-$$
cg_v1_create "$CG" $((128 << 20))
# ~8 MiB of Python, then 56 MiB (about half the limit available), then 56 more (< 10 %)
hog_start 56 56

APORT=$(free_port tcp)
"$BIN/albm-agent" --name t102 --cgroup "$CG" --haproxy-listen "127.0.0.1:$APORT" \
	--interval 100ms --samples 2 2> "$T/agent.log" &
track_pid $!
wait_port "$APORT" || fail "agent-check port $APORT not listening: $(cat "$T/agent.log")"

FPORT=$(free_port tcp)
SPORT=$(free_port tcp)
cat > "$T/haproxy.cfg" <<CFG
global
	stats socket $T/haproxy.sock mode 600 level admin
defaults
	mode tcp
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$FPORT
	default_backend be
backend be
	server s1 127.0.0.1:$SPORT weight 100 agent-check agent-addr 127.0.0.1 agent-port $APORT agent-inter 200ms
CFG
haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1 &
track_pid $!
wait_port "$FPORT" || fail "haproxy did not start: $(cat "$T/haproxy.log")"

# "STATUS WEIGHT" of be/s1 from the stats socket (show stat), or the raw
# "show servers state" line with --state.
hastat() {
	python3 - "$T/haproxy.sock" "${1:-}" <<'PY'
import csv, io, socket, sys
def ask(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out.decode()
        out += d
if sys.argv[2] == "--state":
    lines = ask("show servers state be").splitlines()
    head = lines[1].lstrip("# ").split()
    row = dict(zip(head, lines[2].split()))
    print("srv_admin_state=%s srv_uweight=%s" % (row["srv_admin_state"], row["srv_uweight"]))
else:
    for r in csv.DictReader(io.StringIO(ask("show stat").lstrip("# "))):
        if r["pxname"] == "be" and r["svname"] == "s1":
            print(r["status"].replace(" ", "_"), r["weight"])
PY
}

# Wait until the python condition on status (str) and weight (int) holds.
wait_stat() {
	local i s
	for ((i = 0; i < 100; i++)); do
		s=$(hastat)
		if python3 -c "import sys; status, weight = sys.argv[1], int(sys.argv[2]); sys.exit(not ($2))" $s; then
			echo "  $1: haproxy $s ($(hastat --state)); agent says: $(agent_line)"
			return 0
		fi
		sleep 0.2
	done
	fail "$1: haproxy still shows '$s' (agent says '$(agent_line)'): $(cat "$T/agent.log")"
}

agent_line() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
print(s.recv(100).decode().strip())' "$APORT"
}

wait_stat "idle" "not status.startswith('DRAIN') and weight >= 80"
hog_step USR1 "allocated 1"
wait_stat "half full" "not status.startswith('DRAIN') and 20 <= weight < 70"
hog_step USR1 "allocated 2"
wait_stat "full" "status.startswith('DRAIN')"
hog_step USR2 freed
wait_stat "freed" "not status.startswith('DRAIN') and weight >= 80"
echo "102-agent-haproxy: ok"
