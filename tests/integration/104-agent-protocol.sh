#!/usr/bin/env bash
# ALBM: the report wire format against an independent implementation of docs/protocol.md
# (Python hmac/struct): the agent's datagrams (version 2) verify and parse there; a
# version-1-only receiver (a distributor from before the optional fields) refuses them
# cleanly and takes --report-version 1; the codec accepts that implementation's reports
# (v1, and v2 with a field of an unknown type) and rejects replays, stale reports, a
# wrong key and an unknown version.
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
import json, os, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
seqs = [r["seq"] for r in rs]
assert seqs == list(range(seqs[0], seqs[0] + 3)), seqs  # consecutive, none lost on loopback
assert len({r["boot_id"] for r in rs}) == 1
for r in rs:
    assert r["name"] == "t104" and r["interval_ms"] == 100 and r["state"] in ("ok", "overloaded")
    assert 0 < r["mem_available_bytes"] <= r["mem_total_bytes"] and 0 <= r["cpu_util"] <= 1
    assert r["version"] == 2 and r["unknown_fields"] == 0, r
    assert "oom_kills" in r and r["majfault_rate"] >= 0, r  # /proc/vmstat: every kernel
    if os.path.exists("/proc/pressure/memory"):
        assert set(r["host_psi"]) == {"memory", "cpu", "io"}, r
print("python verified %d agent reports" % len(rs))
PY

# agent -> a version-1-only listener: v2 refused cleanly; --report-version 1 accepted
for ver in 2 1; do
	UPORT=$(free_port udp)
	python3 tests/lib/agent_proto.py listen "$T/key" "$UPORT" 2 --v1-only > "$T/v1.jsonl" 2> "$T/py.err" &
	PY=$!
	track_pid "$PY"
	wait_udp "$UPORT" || fail "python listener did not start: $(cat "$T/py.err")"
	"$A" --name t104 --distributor "127.0.0.1:$UPORT" --key-file "$T/key" --interval 100ms \
		--report-version "$ver" 2>> "$T/agent.log" &
	AG=$!
	track_pid "$AG"
	wait "$PY" || fail "python v1 listener: $(cat "$T/py.err")"
	kill "$AG"
	echo "  v1-only receiver, agent --report-version $ver: $(head -1 "$T/v1.jsonl" | cut -c1-100)"
	python3 - "$T/v1.jsonl" "$ver" <<'PY' || fail "v1-only receiver: $(cat "$T/v1.jsonl")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
if sys.argv[2] == "2":
    assert all(r.get("error") == "version 2 not supported" for r in rs), rs
else:
    assert all(r.get("version") == 1 and "oom_kills" not in r for r in rs), rs
PY
done

# python sender -> the codec (albm-agent --decode-from)
DPORT=$(free_port udp)
"$A" --decode-from "127.0.0.1:$DPORT" --key-file "$T/key" > "$T/dec.jsonl" 2>&1 &
track_pid $!
wait_udp "$DPORT" || fail "decoder did not start"
n=0
for c in ok replay ok2 stale badkey v2 v3; do
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
want = [None, "EALREADY", None, "ETIME", "EPERM", None, "EPROTO"]
got = [r.get("errno") for r in rs]
assert got == want, got
assert rs[0]["name"] == "py-agent" and rs[0]["cpu_util"] == 0.5 and rs[2]["seq"] == 2
assert rs[0]["version"] == 1 and "oom_kills" not in rs[0], rs[0]
v2 = rs[5]
assert v2["version"] == 2 and v2["unknown_fields"] == 1 and v2["oom_kills"] == 3, v2
assert v2["host_psi"]["memory"] == {"some_avg10": 1.0, "full_avg10": 0.5, "some_pct": 12.34,
                                    "full_pct": 100.0}, v2
assert v2["cg_psi"]["io"]["some_avg10"] == 6.0 and v2["majfault_rate"] == 250.5, v2
PY
echo "104-agent-protocol: ok"
