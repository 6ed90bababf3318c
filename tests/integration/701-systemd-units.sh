#!/usr/bin/env bash
# ALBM: the systemd units pass `systemd-analyze verify` without a warning: albmd.service,
# albmd.service with the DR drop-in, albm-agent.service (their Documentation= man pages
# included).  A broken copy must be reported, or the check proves nothing.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
need_bin albmd albm-agent
command -v systemd-analyze >/dev/null ||
	skip "systemd-analyze not installed (Debian package systemd): units not verified"
command -v scdoc >/dev/null || skip "scdoc not installed (scripts/deps.sh)"
TMP=$(mktemp -d /tmp/albm-601.XXXXXX)
on_exit "rm -rf '$TMP'"

# Units whose ExecStart= exist on this machine: the built binaries.
make -s units man BUILD="$TMP/b" SBINDIR="$PWD/$BIN" SYSCONFDIR="$TMP/etc" >"$TMP/make.log" 2>&1 ||
	{ cat "$TMP/make.log"; fail "make units man"; }
mkdir -p "$TMP/man/man5" "$TMP/man/man8" "$TMP/u/albmd-dr.service.d"
cp "$TMP"/b/man/*.5 "$TMP/man/man5/"
cp "$TMP"/b/man/*.8 "$TMP/man/man8/"
cp "$TMP/b/dist/albmd.service" "$TMP/b/dist/albm-agent.service" "$TMP/u/"
cp "$TMP/b/dist/albmd.service" "$TMP/u/albmd-dr.service"
cp dist/systemd/albmd-dr.conf "$TMP/u/albmd-dr.service.d/dr.conf"

verify() { # UNIT...: prints what systemd-analyze says; fails on a non-zero exit
	(cd "$TMP/u" && MANPATH="$TMP/man" systemd-analyze verify "$@" 2>&1)
}
for u in albmd.service albm-agent.service albmd-dr.service; do
	out=$(verify "$u") || fail "$u: $out"
	[ -z "$out" ] || fail "$u: $out"
	echo "  $u: verified"
done
grep -q '^Type=notify$' "$TMP/u/albmd.service" || fail "albmd.service is not Type=notify"
grep -q '^User=albm$' "$TMP/u/albmd.service" || fail "albmd.service does not run as albm"

# the check can fail: a typo in the drop-in, and a unit pointing at a missing binary
echo "SystemCallFilter=@no-such-group" >>"$TMP/u/albmd-dr.service.d/dr.conf"
out=$(verify albmd-dr.service) && [ -z "$out" ] && fail "a broken drop-in passed verify"
sed -i "s#^ExecStart=.*#ExecStart=$TMP/nowhere/albmd#" "$TMP/u/albmd.service"
out=$(verify albmd.service) && [ -z "$out" ] && fail "a missing ExecStart binary passed verify"
echo "701-systemd-units: ok"
