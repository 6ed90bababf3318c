#!/usr/bin/env bash
# ALBM: albmd --check — the example parses, bad configs are rejected with file:line
# messages, and albmd refuses to start on them (nothing is left running).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albm-agent
TMP=$(mktemp -d /tmp/albm-200.XXXXXX)
on_exit "rm -rf '$TMP'"
# shellcheck source=../lib/albmd.sh
. tests/lib/albmd.sh

make_key "$TMP/agent.key"

# ---- the commented example is valid (with a key file that exists here)
sed "s#/etc/albm/agent.key#$TMP/agent.key#" examples/albmd.conf >"$TMP/example.conf"
"$BIN/albmd" --check -f "$TMP/example.conf" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "example rejected"; }
grep -q "configuration ok (3 services)" "$TMP/out" || fail "check output: $(cat "$TMP/out")"

# ---- --list-schedulers names what the config accepts
for s in $("$BIN/albmd" --list-schedulers); do
	printf 'service s {\n listen 127.0.0.1:1;\n scheduler %s;\n server a 127.0.0.1:2;\n}\n' "$s" >"$TMP/s.conf"
	"$BIN/albmd" --check -f "$TMP/s.conf" >/dev/null 2>&1 || fail "scheduler $s listed but rejected"
done

# ---- a DR service parses (servers by IP, with or without the service's port)
cat >"$TMP/dr.conf" <<'CONF'
service d {
    listen 10.0.0.1:80;
    mode dr;
    interface eth0;
    scheduler mh;
    server r1 10.0.0.2 weight 1;
    server r2 10.0.0.3:80;
}
CONF
"$BIN/albmd" --check -f "$TMP/dr.conf" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "dr config rejected"; }

# ---- bad configs: exit non-zero, and the message names file and line
# each case: "LINE|pattern of the message|config text"
bad() {
	local want_line=$1 pattern=$2 text=$3 n=$((++NBAD))
	printf '%b' "$text" >"$TMP/bad$n.conf"
	if "$BIN/albmd" --check -f "$TMP/bad$n.conf" >"$TMP/bad$n.out" 2>&1; then
		fail "bad config $n accepted: $text"
	fi
	grep -q "^$TMP/bad$n.conf:$want_line: .*$pattern" "$TMP/bad$n.out" ||
		fail "bad config $n: want line $want_line /$pattern/, got: $(cat "$TMP/bad$n.out")"
}
NBAD=0
S='service web {\n    listen 127.0.0.1:8080;\n'
bad 3 "unknown scheduler 'nope'" "${S}    scheduler nope;\n    server a 127.0.0.1:1;\n}\n"
bad 3 "unknown directive 'lisen'" "${S}    lisen 1;\n}\n"
bad 3 "bad weight 'x'" "${S}    server a 127.0.0.1:1 weight x;\n}\n"
bad 4 "already defined at line 3" "${S}    server a 127.0.0.1:1;\n    server a 127.0.0.1:2;\n}\n"
bad 3 "mode proxy needs ADDRESS:PORT" "${S}    server a 127.0.0.1;\n}\n"
bad 3 "not terminated by ';'" "${S}    server a 127.0.0.1:1\n}\n"
bad 1 "not closed by '}'" "${S}    server a 127.0.0.1:1;\n"
bad 1 "needs 'listen" 'service web {\n    server a 127.0.0.1:1;\n}\n'
bad 1 "mode dr needs 'interface" 'service d {\n listen 10.0.0.1:80;\n mode dr;\n server r 10.0.0.2;\n}\n'
bad 5 "cannot change the port" 'service d {\n listen 10.0.0.1:80;\n mode dr;\n interface eth0;\n server r 10.0.0.2:81;\n}\n'
bad 2 "bad agent timeout" 'agents {\n timeout 5;\n listen 127.0.0.1:7070;\n key-file /k;\n}\n'
bad 1 "needs 'key-file" 'agents {\n listen 127.0.0.1:7070;\n}\n'
bad 7 "listens on the address of service 'a'" 'service a {\n listen 127.0.0.1:80;\n server x 127.0.0.1:1;\n}\n\n\nservice b {\n listen 127.0.0.1:80;\n server x 127.0.0.1:1;\n}\n'
bad 3 "duplicate 'listen' (first at line 2)" "${S}    listen 127.0.0.1:8081;\n    server a 127.0.0.1:1;\n}\n"
bad 5 "duplicate 'workers' (first at line 1)" 'workers 2;\n\n\n\nworkers 3;\n'
# overlapping listeners would fail (or, with SO_REUSEPORT, silently split) at start
bad 5 "listens on 127.0.0.1:80, which overlaps 0.0.0.0:80 of service 'a' (line 1)" 'service a {\n listen 0.0.0.0:80;\n server x 127.0.0.1:1;\n}\nservice b {\n listen 127.0.0.1:80;\n server x 127.0.0.1:1;\n}\n'
bad 2 "listens on \\[::\\]:80, which overlaps \\[::1\\]:80" 'service a { listen [::1]:80; server x [::1]:1; }\nservice b { listen [::]:80; server x [::1]:1; }\n'
bad 2 "control http 0.0.0.0:9090 overlaps 127.0.0.1:9090 of service 'a'" 'control {\n http 0.0.0.0:9090;\n}\nservice a { listen 127.0.0.1:9090; server x 127.0.0.1:1; }\n'
bad 2 "unexpected '}'" 'workers 2;\n}\n'
bad 1 "bad workers '0'" 'workers 0;\n'
bad 2 "unterminated quoted string" '# comment\npid-file "/x;\n'
bad 2 "key-file:.*No such file" "agents {\n key-file $TMP/missing.key;\n listen 127.0.0.1:7070;\n}\n"
# several errors at once: all are reported
bad 4 "bad weight" "${S}    scheduler nope;\n    server a 127.0.0.1:1 weight 70000;\n}\n"
grep -q ":3: unknown scheduler" "$TMP/bad$NBAD.out" || fail "only one of two errors reported"

# ---- albmd itself refuses to start on a bad config, with the same message
"$BIN/albmd" -f "$TMP/bad1.conf" >"$TMP/run.out" 2>&1 && fail "albmd started on a bad config"
grep -q "bad1.conf:3: unknown scheduler" "$TMP/run.out" || fail "start error: $(cat "$TMP/run.out")"
echo "ok: example valid, $NBAD bad configs rejected with file:line"
