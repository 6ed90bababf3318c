#!/usr/bin/env bash
# ALBM: --version on every binary says what scripts/version.sh says (git here), a tree
# without .git (a tarball) takes the VERSION file, and /metrics has albm_build_info.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 602 albmd albm-agent albmctl albm-httpd albm-bench
# What the build compiled in (the stamp make wrote from scripts/version.sh): a checkout
# gives VERSION+git.COMMIT (or a tag's describe), and COMMIT is one of this repository.
[ -f "$BIN/gen/version.stamp" ] || skip "$BIN/gen/version.stamp missing (make bins)"
v=$(cat "$BIN/gen/version.stamp")
case $v in
"$(cat VERSION)+git."*) git cat-file -e "${v##*+git.}^{commit}" 2>/dev/null ||
	fail "version $v names no commit of this repository" ;;
"$(cat VERSION)") [ -e .git ] && fail "version $v without its commit in a git checkout" ;;
*) git describe --tags --match 'v[0-9]*' >/dev/null 2>&1 || fail "version $v: neither VERSION nor a tag" ;;
esac
for b in albmd albm-agent albmctl albm-httpd albm-bench; do
	got=$("$BIN/$b" --version) || fail "$b --version: exit $?"
	[ "$got" = "$b $v" ] || fail "$b --version: '$got', want '$b $v' (built at another commit? make bins)"
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
echo "702-version: ok"
