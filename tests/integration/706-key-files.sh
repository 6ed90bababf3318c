#!/usr/bin/env bash
# ALBM: albm-agent and albmd refuse a key file group or others can access (with the
# chmod to run), and an all-zero key; both accept a CRLF key file.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 606 albmd albm-agent
UDP=$(free_udp_port) WEB=$(free_port)
conf() { # KEYFILE
	cat >"$TMP/a.conf" <<CONF
agents { listen 127.0.0.1:$UDP; key-file $1; }
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$WEB; server s1 127.0.0.1:1; }
CONF
}
agent_once() { # KEYFILE: the agent's first error with this key (it fails before sending)
	timeout 10 "$BIN/albm-agent" --name t606 --distributor "127.0.0.1:$UDP" --key-file "$1" \
		--interval 100ms >"$TMP/agent.out" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
}

make_key "$TMP/k"
for mode in 644 640 604 660; do
	cp -p "$TMP/k" "$TMP/k$mode"
	chmod "$mode" "$TMP/k$mode"
	want="key file $TMP/k$mode: permissions 0$mode are too open: the key must not be accessible by group or others; run: chmod 600 $TMP/k$mode"
	conf "$TMP/k$mode"
	"$BIN/albmd" --check -f "$TMP/a.conf" >"$TMP/out" 2>&1 && fail "albmd --check accepted a $mode key"
	grep -qF "$want" "$TMP/out" || fail "albmd --check, key $mode: $(cat "$TMP/out")"
	timeout 10 "$BIN/albmd" -f "$TMP/a.conf" >"$TMP/out" 2>&1 && fail "albmd started with a $mode key"
	grep -qF "$want" "$TMP/out" || fail "albmd, key $mode: $(cat "$TMP/out")"
	agent_once "$TMP/k$mode" && fail "albm-agent ran with a $mode key"
	grep -qF "$want" "$TMP/agent.out" || fail "albm-agent, key $mode: $(cat "$TMP/agent.out")"
done
echo "  group/other-readable keys refused by albmd --check, albmd and albm-agent"

# CRLF: accepted by both (the agent then runs until stopped)
tr -d '\n' <"$TMP/k" >"$TMP/kcrlf"
printf '\r\n' >>"$TMP/kcrlf"
chmod 600 "$TMP/kcrlf"
conf "$TMP/kcrlf"
"$BIN/albmd" --check -f "$TMP/a.conf" >"$TMP/out" 2>&1 || fail "albmd --check, CRLF key: $(cat "$TMP/out")"
timeout 2 "$BIN/albm-agent" --name t606 --distributor "127.0.0.1:$UDP" --key-file "$TMP/kcrlf" \
	--interval 100ms >"$TMP/agent.out" 2>&1
[ $? -eq 124 ] || fail "albm-agent with a CRLF key stopped: $(cat "$TMP/agent.out")"

# all zeros: refused, with the way to make a real key
printf '%064d\n' 0 >"$TMP/kzero"
chmod 600 "$TMP/kzero"
conf "$TMP/kzero"
"$BIN/albmd" --check -f "$TMP/a.conf" >"$TMP/out" 2>&1 && fail "albmd --check accepted an all-zero key"
grep -q "the key is all zeros; make a real one with: albm-agent --gen-key" "$TMP/out" ||
	fail "all-zero key: $(cat "$TMP/out")"
agent_once "$TMP/kzero" && fail "albm-agent ran with an all-zero key"
grep -q "all zeros" "$TMP/agent.out" || fail "agent, all-zero key: $(cat "$TMP/agent.out")"
echo "706-key-files: ok"
