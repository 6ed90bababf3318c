#!/usr/bin/env bash
# ALBM: the report wire format against an independent implementation of docs/protocol.md
# (Python hmac/struct): the agent's datagrams verify and parse there, and the codec
# accepts that implementation's reports and rejects replays, stale reports, a wrong key
# and an unknown version.
source tests/lib/common.sh
source tests/lib/agent.sh
need_bin albm-agent
command -v python3 > /dev/null || skip "needs python3"
agent_tmpdir
A=$BIN/albm-agent
"$A" --gen-key "$T/key" || fail "--gen-key"

# agent -> python listener
UPORT=$(free_port udp)
python3 tests/lib/agent_proto.py listen "$T/key" "$UPORT" 3 > "$T/py.jsonl" 2> "$T/py.err" &
PY=$!
track_pid "$PY"
wait_udp "$UPORT" || fail "python listener did not start: $(cat "$T/py.err")"
"$A" --name t104 --distributor "127.0.0.1:$UPORT" --key-file "$T/key" --interval 100ms \
	2> "$T/agent.log" &
track_pid $!
wait "$PY" || fail "python listener: $(cat "$T/py.err")"
python3 - "$T/py.jsonl" <<'PY' || fail "agent reports as parsed by Python: $(cat "$T/py.jsonl")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
seqs = [r["seq"] for r in rs]
assert seqs == list(range(seqs[0], seqs[0] + 3)), seqs  # consecutive, none lost on loopback
assert len({r["boot_id"] for r in rs}) == 1
for r in rs:
    assert r["name"] == "t104" and r["interval_ms"] == 100 and r["state"] in ("ok", "overloaded")
    assert 0 < r["mem_available_bytes"] <= r["mem_total_bytes"] and 0 <= r["cpu_util"] <= 1
print("python verified %d agent reports" % len(rs))
PY

# python sender -> the codec (albm-agent --decode-from)
DPORT=$(free_port udp)
"$A" --decode-from "127.0.0.1:$DPORT" --key-file "$T/key" > "$T/dec.jsonl" 2>&1 &
track_pid $!
wait_udp "$DPORT" || fail "decoder did not start"
n=0
for c in ok replay ok2 stale badkey v2; do
	python3 tests/lib/agent_proto.py send "$T/key" "$DPORT" "$c"
	n=$((n + 1))
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l < "$T/dec.jsonl")" -ge "$n" ] && break
		sleep 0.1
	done
	echo "  $c: $(tail -1 "$T/dec.jsonl" | cut -c1-150)"
done
python3 - "$T/dec.jsonl" <<'PY' || fail "decoder verdicts: $(cat "$T/dec.jsonl")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
want = [None, "EALREADY", None, "ETIME", "EPERM", "EPROTO"]
got = [r.get("errno") for r in rs]
assert got == want, got
assert rs[0]["name"] == "py-agent" and rs[0]["cpu_util"] == 0.5 and rs[2]["seq"] == 2
PY
echo "104-agent-protocol: ok"
