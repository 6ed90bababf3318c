# ALBM integration tests: the HA testbed lab/hanet (tests/integration/6xx-ha-*).
# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Source after tests/lib/common.sh.  Sets LAB, TMP, STATE, VIP, VRRP_VIP, ALBM_LAB_PREFIX.
#
#   ha_up ARGS...            lab/hanet up ARGS (skips when the lab or BIRD is missing)
#   in_ns ROLE CMD...        lab/hanet exec
#   now_ms                   wall clock, ms
#   wait_until SECS CMD...   run CMD every 50 ms until it succeeds; false after SECS
#   nexthops                 the router's next hops for the ECMP VIP, space separated
#   hops_are "LIST"          true when they are LIST (for wait_until: evaluated each time)
#   sessions_up N            true when the router has N established BGP sessions
#   httpd_up N               albm-httpd (name sI) in servers s1..sN, waits for them
#   announce dI              hold the ECMP VIP on albm-vip0 in dI (tests/tools/vip_announce,
#                            albmd's part-2 stand-in); ANN_PID[I]; its stdin is fd 10+I
#   albmd_dr dI VIP          albmd (mode dr, wrr over every server) in dI for VIP:80;
#                            ALBMD_PID[I], config $STATE/dI/albmd.conf, socket .../albmd.sock
#   albmd_ha dI VIP N        the same with `announce on` and an ha block with d1..dN as the
#                            group (node-id I, UDP 7072, key $STATE/sync.key); settings from
#                            HA_SCHED (wrr), HA_SYNC (on), HA_INTERVAL (5s), HA_LINGER (2s),
#                            HA_ANNOUNCE (on; off: in the group, not announced),
#                            HA_TOP, HA_CONTROL, HA_BLOCK, HA_SVC (extra lines at the top level,
#                            in control, in the ha block, in the service); waits until the
#                            VIP is announced
#   announced dI             true while dI's albmd says its VIP is announced
#   dl_start N SIZE RATE     N long downloads from c1 (tests/lib/ha_downloads.py) in the
#                            background; waits until all are mid-transfer; dl_wait sets
#                            DL_RES to the result (JSON) when they end
#   jget JSON EXPR           a value of a JSON document (python expression on `j`)
#   dctl dI ARGS...          albmctl of dI's albmd
#   dr_flows dI              new flows dI's XDP program scheduled (sum over servers)
#   conns N VIP              N new connections from c1, one GET each: "s1 A ... fail F"
#   conns_for SECS VIP       the same, one every 20 ms for SECS seconds
#   pid_in ROLE NAME         PIDs of the processes called NAME in ROLE's namespace
#   has_proc ROLE NAME       true when there is one

LAB=lab/hanet
VIP=10.78.9.100
VRRP_VIP=10.78.0.100
export ALBM_LAB_PREFIX=albmh$$
STATE=$($LAB state)
TMP=$(mktemp -d /tmp/albm-hanet.XXXXXX)
declare -a ANN_PID ALBMD_PID
HA_SERVERS=0
on_exit "$LAB down >/dev/null 2>&1; rm -rf '$TMP'"

in_ns() { "$LAB" exec "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

wait_until() {
	local secs=$1 deadline
	shift
	deadline=$(($(now_ms) + secs * 1000))
	while (($(now_ms) < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

ha_up() {
	ip netns list >/dev/null 2>&1 || skip "ip netns not available"
	command -v python3 >/dev/null || skip "python3 not installed"
	if [[ " $* " != *" --no-bird "* ]]; then
		command -v bird >/dev/null || skip "BIRD 2 not installed (scripts/deps.sh: bird2)"
	fi
	$LAB up "$@" >"$TMP/up.out" 2>"$TMP/up.err" || {
		grep -qi "operation not permitted\|not supported" "$TMP/up.err" &&
			skip "cannot build the namespace lab: $(tail -1 "$TMP/up.err")"
		fail "lab/hanet up: $(cat "$TMP/up.err")"
	}
}

nexthops() { $LAB nexthops | tr '\n' ' ' | sed 's/ $//'; }
# hops_are "A B": for wait_until, which runs it again each time (a "$(nexthops)" in
# wait_until's arguments would be expanded once, before the wait).
hops_are() { [ "$(nexthops)" = "$1" ]; }
sessions_up() { [ "$($LAB birdc r show protocols | grep -c Established)" -eq "$1" ]; }

httpd_up() {
	local n=$1 i
	HA_SERVERS=$n
	for ((i = 1; i <= n; i++)); do
		"$LAB" exec "s$i" "$BIN/albm-httpd" --listen "[::]:80" --name "s$i" --log-level warn \
			>"$TMP/httpd$i.log" 2>&1 &
		track_pid $!
	done
	for ((i = 1; i <= n; i++)); do
		wait_until 10 in_ns c1 python3 -c \
			"import socket; socket.create_connection(('10.78.0.$((20 + i))', 80), 1)" ||
			fail "albm-httpd in s$i does not answer"
	done
}

announce() {
	local d=$1 i=${1#d}
	mkfifo "$TMP/ann-$d"
	# "$LAB" exec, not in_ns: a function in the background would be a subshell, and $!
	# its PID instead of the tool's (lab/hanet execs down to the tool: one PID)
	"$LAB" exec "$d" "$BIN/tools/vip_announce" albm-vip0 "$VIP" <"$TMP/ann-$d" >"$TMP/ann-$d.out" 2>&1 &
	ANN_PID[i]=$!
	track_pid $!
	eval "exec $((10 + i))>'$TMP/ann-$d'" # keeps its stdin open: it runs until told
	wait_until 5 grep -q ready "$TMP/ann-$d.out" || fail "vip_announce in $d: $(cat "$TMP/ann-$d.out")"
}

albmd_dr() {
	local d=$1 vip=$2 i=${1#d} k conf=$STATE/$1/albmd.conf
	{
		echo "control { socket $STATE/$d/albmd.sock; }"
		echo "service web { listen $vip:80; mode dr; interface eth0; scheduler wrr;"
		echo "	slow-start off;"
		for ((k = 1; k <= HA_SERVERS; k++)); do echo "	server s$k 10.78.0.$((20 + k));"; done
		echo "}"
	} >"$conf"
	"$LAB" exec "$d" "$PWD/$BIN/albmd" -f "$conf" >"$STATE/$d/albmd.log" 2>&1 &
	ALBMD_PID[i]=$!
	track_pid $!
	wait_until 10 dctl "$d" ping || { cat "$STATE/$d/albmd.log"; fail "albmd in $d did not start"; }
	if ! wait_until 5 sh -c "$PWD/$BIN/albmctl -s $STATE/$d/albmd.sock list | grep -q in-table"; then
		grep -qiE "XDP.*not supported|attach.*(Invalid argument|not supported)" \
			"$STATE/$d/albmd.log" && skip "XDP cannot be attached here"
		fail "albmd in $d: no server in the XDP table: $(tail -3 "$STATE/$d/albmd.log")"
	fi
}

ha_key() {
	[ -f "$STATE/sync.key" ] || "$BIN/albm-agent" --gen-key "$STATE/sync.key" >/dev/null ||
		fail "cannot make the group's key"
}

albmd_ha() {
	local d=$1 vip=$2 n=$3 i=${1#d} k conf=$STATE/$1/albmd.conf
	ha_key
	{
		echo "control { socket $STATE/$d/albmd.sock; ${HA_CONTROL:-} }"
		echo "announce-linger ${HA_LINGER:-2s};"
		echo "${HA_TOP:-}"
		echo "ha { node-id $i; listen 10.78.0.$((10 + i)):7072; key-file $STATE/sync.key;"
		echo "	flow-sync ${HA_SYNC:-on}; table-interval ${HA_INTERVAL:-5s};"
		for ((k = 1; k <= n; k++)); do
			[ "$k" = "$i" ] || echo "	peer d$k 10.78.0.$((10 + k)):7072 node-id $k;"
		done
		echo "	${HA_BLOCK:-}"
		echo "}"
		echo "service web { listen $vip:80; mode dr; interface eth0; scheduler ${HA_SCHED:-wrr};"
		echo "	announce ${HA_ANNOUNCE:-on}; slow-start off;"
		echo "	${HA_SVC:-}"
		for ((k = 1; k <= HA_SERVERS; k++)); do echo "	server s$k 10.78.0.$((20 + k));"; done
		echo "}"
	} >"$conf"
	"$LAB" exec "$d" "$PWD/$BIN/albmd" -f "$conf" >"$STATE/$d/albmd.log" 2>&1 &
	ALBMD_PID[i]=$!
	track_pid $!
	wait_until 10 dctl "$d" ping || { cat "$STATE/$d/albmd.log"; fail "albmd in $d did not start"; }
	[ "${HA_ANNOUNCE:-on}" = on ] || return 0
	if ! wait_until 5 announced "$d"; then
		grep -qiE "XDP.*not supported|attach.*(Invalid argument|not supported)" \
			"$STATE/$d/albmd.log" && skip "XDP cannot be attached here"
		grep -q "/dev/net/tun" "$STATE/$d/albmd.log" && skip "no /dev/net/tun"
		fail "albmd in $d did not announce: $(tail -3 "$STATE/$d/albmd.log")"
	fi
}

jget() { python3 -c "import json, sys; j = json.loads(sys.argv[1]); print($2)" "$1"; }

announced() {
	[ "$(jget "$(dctl "$1" list --json)" 'j["services"][0]["dr"]["announced"]')" = 1 ]
}

dl_start() {
	rm -f "$TMP/dl.ready" "$TMP/dl.out"
	"$LAB" exec c1 python3 tests/lib/ha_downloads.py "$VIP" "$1" "$2" "$3" --timeout 60 \
		--ready "$TMP/dl.ready" >"$TMP/dl.out" 2>"$TMP/dl.err" &
	DL_PID=$!
	track_pid $!
	wait_until 20 test -s "$TMP/dl.ready" || fail "downloads did not start: $(cat "$TMP/dl.err")"
}

dl_wait() { # not in $(...): a subshell cannot wait for our child
	wait "$DL_PID" 2>/dev/null
	DL_RES=$(cat "$TMP/dl.out")
}

dctl() { local d=$1; shift; "$BIN/albmctl" -s "$STATE/$d/albmd.sock" "$@"; }

dr_flows() {
	dctl "$1" list --json | python3 -c '
import json, sys
print(sum(s["dr"]["new_flows"] for svc in json.load(sys.stdin)["services"] for s in svc["servers"]))'
}

conns() { conns_py "$1" "$2" 0; }
conns_for() { conns_py 100000 "$2" "$1"; }

conns_py() {
	in_ns c1 python3 - "$1" "$2" "$HA_SERVERS" "$3" <<'PY'
import http.client, sys, time
n, vip, ns, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
seen = {f"s{i}": 0 for i in range(1, ns + 1)}
seen["fail"] = 0
end = time.monotonic() + secs
for _ in range(n):
    if secs and time.monotonic() >= end:
        break
    if secs:
        time.sleep(0.02)
    try:
        c = http.client.HTTPConnection(vip, 80, timeout=3)
        c.request("GET", "/bytes/64")
        r = c.getresponse()
        r.read()
        seen[r.getheader("X-Server", "fail")] += 1
        c.close()
    except Exception:
        seen["fail"] += 1
print(" ".join(f"{k} {v}" for k, v in seen.items()))
PY
}

pid_in() {
	local p
	for p in $(ip netns pids "$ALBM_LAB_PREFIX-ha-$1" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
	done
	return 0
}

has_proc() { [ -n "$(pid_in "$1" "$2")" ]; }
