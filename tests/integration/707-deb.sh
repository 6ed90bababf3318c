#!/usr/bin/env bash
# ALBM: make deb — the package builds (about a minute), lintian reports no error, and it
# holds what it should: binaries whose --version is the package's (built without .git),
# units neither enabled nor started, the albm user created in postinst, conffiles.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/common.sh
. tests/lib/common.sh
for c in dpkg-buildpackage dh lintian scdoc; do
	command -v "$c" >/dev/null || skip "$c not installed (scripts/deps.sh build test)"
done
TMP=$(mktemp -d /tmp/albm-607.XXXXXX)
on_exit "rm -rf '$TMP'"

# A build directory of its own: the test never races a developer's `make deb`.
out=$(make -s deb BUILD="$TMP/b" 2>"$TMP/deb.err") || { cat "$TMP/deb.err"; fail "make deb"; }
version=$(dpkg-parsechangelog -S Version)
deb=$TMP/b/albm_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
[ "$out" = "$deb" ] || fail "make deb printed '$out', want $deb"
grep -q "^E:" "$TMP/deb.err" && fail "lintian errors: $(grep '^E:' "$TMP/deb.err")"

[ "$(dpkg-deb -f "$deb" Package)" = albm ] || fail "Package field"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version field"
dpkg-deb -f "$deb" Depends | grep -q adduser || fail "no Depends on adduser"
dpkg-deb -f "$deb" Depends | grep -q libsystemd0 || fail "shlibs: no libsystemd0"
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' >"$TMP/contents"
for f in -rwxr-xr-x:./usr/sbin/albmd -rwxr-xr-x:./usr/sbin/albm-agent -rwxr-xr-x:./usr/sbin/albmctl \
	-rw-r--r--:./usr/lib/albm/albm_xdp.bpf.o -rw-r--r--:./lib/systemd/system/albmd.service \
	-rw-r--r--:./lib/systemd/system/albm-agent.service -rw-r--r--:./etc/albm/albmd.conf \
	-rw-r--r--:./etc/default/albm-agent -rw-r--r--:./usr/share/man/man5/albmd.conf.5.gz \
	-rw-r--r--:./usr/share/man/man8/albmd.8.gz -rw-r--r--:./usr/share/man/man8/albmctl.8.gz \
	-rw-r--r--:./usr/share/man/man8/albm-agent.8.gz \
	-rw-r--r--:./usr/share/bash-completion/completions/albmctl \
	-rw-r--r--:./usr/share/albm/grafana/albm.json -rw-r--r--:./usr/lib/sysusers.d/albm.conf; do
	grep -qxF -e "${f%%:*} ${f#*:}" "$TMP/contents" || fail "not in the package (or wrong mode): ${f#*:}"
done
grep -q "albm-httpd\|albm-bench" "$TMP/contents" && fail "lab tools in the package"

mkdir "$TMP/x" "$TMP/ctl"
dpkg-deb -x "$deb" "$TMP/x"
dpkg-deb -e "$deb" "$TMP/ctl"
upstream=${version%%-*}
for b in albmd albm-agent albmctl; do
	[ "$("$TMP/x/usr/sbin/$b" --version)" = "$b $upstream" ] ||
		fail "$b in the package: '$("$TMP/x/usr/sbin/$b" --version)', want '$b $upstream'"
done
readelf -d "$TMP/x/usr/sbin/albmd" | grep -q "BIND_NOW" || fail "albmd not linked with -z now (hardening)"
grep -qx "/etc/albm/albmd.conf" "$TMP/ctl/conffiles" || fail "albmd.conf is not a conffile"
grep -qx "/etc/default/albm-agent" "$TMP/ctl/conffiles" || fail "/etc/default/albm-agent is not a conffile"
tr "\\n" " " <"$TMP/ctl/postinst" | grep -q "adduser --system --group[^;]*--gecos \"ALBM load balancer\" albm" ||
	fail "postinst does not create the albm user"
# dh_installsystemd --no-enable --no-start: no start, no unconditional enable
grep -q "deb-systemd-invoke.* start\|invoke-rc.d.* start" "$TMP/ctl/postinst" && fail "postinst starts a unit"
grep -B3 "deb-systemd-helper enable" "$TMP/ctl/postinst" | grep -q "was-enabled" ||
	fail "postinst enables the units unconditionally"
grep -q "^ExecStart=/usr/sbin/albmd -f /etc/albm/albmd.conf$" "$TMP/x/lib/systemd/system/albmd.service" ||
	fail "albmd.service ExecStart in the package"
echo "  $(basename "$deb"): $(wc -l <"$TMP/contents") entries, lintian: $(grep -c '^W:' "$TMP/deb.err") warning(s), 0 errors"
echo "707-deb: ok"
