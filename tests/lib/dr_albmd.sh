# ALBM integration tests: albmd in `mode dr` on a private lab/netns (tests/integration/41x-dr-albmd-*).
# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Source after tests/lib/common.sh.  Sets TMP, LAB, VIP and ALBM_LAB_PREFIX.
#
#   dr_lab_up N              lab with N servers and one client, albm-httpd in each server
#                            ([::]:80, IPv4 too; name sI, pid HTTPD_PID[I]); skips when the lab
#                            cannot be built
#   in_ns ROLE CMD...        lab/netns exec
#   ifbytes ROLE rx|tx       bytes counted on ROLE's eth0
#   xdp_attached             true while an XDP program is on the distributor's eth0
#   start_albmd_dr CONF      albmd -f CONF in the distributor namespace (tracked);
#                            ALBMD_PID, log $TMP/albmd.log; skips when XDP cannot attach
#   ctl ARGS...              albmctl on the test's control socket
#   conns N [PATH]           N sequential connections from c1 to the VIP ($CONN_VIP if set,
#                            e.g. fd77::100, no brackets), one GET each, $CONN_GAP seconds
#                            apart (default 0: as fast as they go):
#                            prints "s1 A s2 B ... fail F" (X-Server of each answer)
#   hold N SECS FILE         open N connections from c1 to the VIP, send a GET for 1 MiB
#                            and keep them open (unread, no FIN) for SECS; writes
#                            "s1 A s2 B ... ready" to FILE once all are answered
#   jq_srv SERVER EXPR       a Python expression on SERVER's entry of `list --json`
#                            (variables s = the server, dr = s["dr"]); prints the value
#   stop_albmd               SIGTERM, wait for the exit
#   wait_until SECS CMD...   run CMD every 0.1 s until it succeeds; false after SECS

LAB=lab/netns
VIP=10.77.0.100
export ALBM_LAB_PREFIX=albmt$$
TMP=$(mktemp -d /tmp/albm-dr-albmd.XXXXXX)
ALBMD_PID=""
on_exit "$LAB down >/dev/null 2>&1; rm -rf '$TMP'"

in_ns() { "$LAB" exec "$@"; }
ifbytes() { in_ns "$1" cat "/sys/class/net/eth0/statistics/$2_bytes"; }
xdp_attached() { in_ns d ip link show dev eth0 | grep -q "prog/xdp"; }
ctl() { "$BIN/albmctl" -s "$TMP/albmd.sock" "$@"; }

dr_lab_up() {
	local n=$1 i
	command -v python3 >/dev/null || skip "python3 not installed"
	ip netns list >/dev/null 2>&1 || skip "ip netns not available"
	$LAB up --servers "$n" --clients 1 >"$TMP/up.txt" 2>"$TMP/up.err" ||
		skip "cannot build the namespace lab: $(tail -1 "$TMP/up.err")"
	DR_NSERVERS=$n
	for ((i = 1; i <= n; i++)); do
		"$LAB" exec "s$i" "$BIN/albm-httpd" --listen "[::]:80" --name "s$i" \
			--log-level warn >"$TMP/httpd$i.log" 2>&1 &
		HTTPD_PID[i]=$!
		track_pid $!
	done
	for ((i = 1; i <= n; i++)); do # up when it answers on its own address
		for _ in $(seq 50); do
			in_ns c1 python3 -c "import socket; socket.create_connection(('10.77.0.1$i', 80), 1)" \
				2>/dev/null && break
			sleep 0.1
		done
	done
}

start_albmd_dr() {
	"$LAB" exec d "$BIN/albmd" -f "$1" --log-level debug >>"$TMP/albmd.log" 2>&1 &
	ALBMD_PID=$!
	track_pid "$ALBMD_PID"
	for _ in $(seq 100); do
		ctl ping >/dev/null 2>&1 && return 0
		kill -0 "$ALBMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if grep -qiE "XDP.*(not supported|Operation not supported)|attach.*(Invalid argument|not supported)" \
		"$TMP/albmd.log"; then
		skip "XDP cannot be attached here: $(tail -1 "$TMP/albmd.log")"
	fi
	cat "$TMP/albmd.log"
	fail "albmd did not start"
}

wait_until() {
	local secs=$1 k
	shift
	for ((k = 0; k < secs * 10; k++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

stop_albmd() {
	kill -TERM "$ALBMD_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$ALBMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$ALBMD_PID" 2>/dev/null
}

conns() {
	in_ns c1 python3 - "$1" "${2:-/bytes/64}" "$DR_NSERVERS" "${CONN_VIP:-$VIP}" "${CONN_GAP:-0}" <<'EOF'
import http.client, sys, time
n, path, ns, vip = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
gap = float(sys.argv[5])
seen = {f"s{i}": 0 for i in range(1, ns + 1)}
seen["fail"] = 0
for k in range(n):
    if k and gap:
        time.sleep(gap)
    try:
        c = http.client.HTTPConnection(vip, 80, timeout=3)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        seen[r.getheader("X-Server", "fail")] += 1
        c.close()
    except Exception:
        seen["fail"] += 1
print(" ".join(f"{k} {v}" for k, v in seen.items()))
EOF
}

hold() {
	in_ns c1 python3 - "$1" "$2" "$DR_NSERVERS" "$VIP" >"$3" 2>&1 <<'EOF'
import collections, http.client, sys, time
n, secs, ns, vip = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seen, keep = collections.Counter(), []
for _ in range(n):
    c = http.client.HTTPConnection(vip, 80, timeout=10)
    c.request("GET", "/bytes/1M")
    r = c.getresponse()
    seen[r.getheader("X-Server", "fail")] += 1
    keep.append((c, r))
print(" ".join(f"s{i} {seen[f's{i}']}" for i in range(1, ns + 1)), "ready", flush=True)
time.sleep(secs)
EOF
}

jq_srv() {
	ctl list --json | python3 -c '
import json, sys
name, expr = sys.argv[1], sys.argv[2]
for svc in json.load(sys.stdin)["services"]:
    for s in svc["servers"]:
        if s["name"] == name:
            dr = s.get("dr")
            print(eval(expr))
            sys.exit(0)
sys.exit(1)' "$1" "$2"
}
