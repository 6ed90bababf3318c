#!/usr/bin/env bash
# ALBM: --version on every binary says what scripts/version.sh says (git here), a tree
# without .git (a tarball) takes the VERSION file, and /metrics has albm_build_info.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 602 albmd albm-agent albmctl albm-httpd albm-bench
v=$(sh scripts/version.sh) || fail "scripts/version.sh"
for b in albmd albm-agent albmctl albm-httpd albm-bench; do
	got=$("$BIN/$b" --version) || fail "$b --version: exit $?"
	[ "$got" = "$b $v" ] || fail "$b --version: '$got', want '$b $v' (stale build? make bins)"
done

# a tarball: no .git, the VERSION file as it is
mkdir -p "$TMP/tree/scripts"
cp scripts/version.sh "$TMP/tree/scripts/"
echo 9.8.7 >"$TMP/tree/VERSION"
[ "$(sh "$TMP/tree/scripts/version.sh")" = 9.8.7 ] || fail "tarball version: $(sh "$TMP/tree/scripts/version.sh")"
echo '9.8.7"bad' >"$TMP/tree/VERSION"
sh "$TMP/tree/scripts/version.sh" >/dev/null 2>&1 && fail "a version with a quote was accepted"

# albm_build_info, the version in its label
HTTP=$(free_port) WEB=$(free_port)
cat >"$TMP/a.conf" <<CONF
control { socket $TMP/albmd.sock; http 127.0.0.1:$HTTP; }
service web { listen 127.0.0.1:$WEB; server s1 127.0.0.1:1; }
CONF
start_albmd "$TMP/a.conf"
curl -s --max-time 5 "http://127.0.0.1:$HTTP/metrics" >"$TMP/metrics" || fail "GET /metrics"
grep -qx "albm_build_info{version=\"$v\"} 1" "$TMP/metrics" ||
	fail "albm_build_info: $(grep build_info "$TMP/metrics")"
grep -q '^# TYPE albm_build_info gauge$' "$TMP/metrics" || fail "albm_build_info TYPE"
echo "602-version: ok"
