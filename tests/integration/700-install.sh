#!/usr/bin/env bash
# ALBM: make install into a DESTDIR — binaries, XDP object, man pages, config, units,
# sysusers, completion, dashboard; PREFIX moves the paths the units run; a second
# install keeps the operator's config; the albmctl completion completes real names.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../lib/itest.sh
. tests/lib/itest.sh 600 albmd albmctl albm-agent albm-httpd
command -v scdoc >/dev/null || skip "scdoc not installed (scripts/deps.sh)"

D=$TMP/root
# The version the binaries were built with: a commit made since must not relink them
# in the middle of a test run.
if [ -f "$BIN/gen/version.stamp" ]; then
	ALBM_VERSION=$(cat "$BIN/gen/version.stamp")
	export ALBM_VERSION
fi
make -s install DESTDIR="$D" PREFIX=/usr >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make install"; }

want_file() { # MODE PATH
	[ -f "$D$2" ] || fail "not installed: $2"
	[ "$(stat -c %a "$D$2")" = "$1" ] || fail "$2: mode $(stat -c %a "$D$2"), want $1"
}
for b in albmd albm-agent albmctl; do
	want_file 755 "/usr/sbin/$b"
	"$D/usr/sbin/$b" --version | grep -q "^$b " || fail "$b --version"
done
want_file 644 /usr/lib/albm/albm_xdp.bpf.o
file "$D/usr/lib/albm/albm_xdp.bpf.o" 2>/dev/null | grep -q "eBPF\|BPF" ||
	readelf -h "$D/usr/lib/albm/albm_xdp.bpf.o" | grep -q "Linux BPF" || fail "albm_xdp.bpf.o is not a BPF object"
for m in man5/albmd.conf.5 man8/albmd.8 man8/albmctl.8 man8/albm-agent.8; do
	want_file 644 "/usr/share/man/$m"
done
want_file 644 /etc/albm/albmd.conf
want_file 644 /etc/default/albm-agent
want_file 644 /usr/lib/systemd/system/albmd.service
want_file 644 /usr/lib/systemd/system/albm-agent.service
want_file 644 /usr/lib/sysusers.d/albm.conf
want_file 644 /usr/share/bash-completion/completions/albmctl
want_file 644 /usr/share/albm/grafana/albm.json
want_file 644 /usr/share/albm/systemd/albmd-dr.conf
cmp -s examples/albmd.conf "$D/etc/albm/albmd.conf" || fail "/etc/albm/albmd.conf is not the example"
grep -q '^ExecStart=/usr/sbin/albmd -f /etc/albm/albmd.conf$' "$D/usr/lib/systemd/system/albmd.service" ||
	fail "albmd.service ExecStart: $(grep ExecStart "$D/usr/lib/systemd/system/albmd.service")"
grep -q '^u albm ' "$D/usr/lib/sysusers.d/albm.conf" || fail "sysusers: no albm user"

# ---- man pages: the reference text comes from docs/ and renders
grep -q 'drain-timeout' "$D/usr/share/man/man5/albmd.conf.5" || fail "albmd.conf(5) lacks docs/config.md's directives"
grep -q 'mem-reserve' "$D/usr/share/man/man5/albmd.conf.5" || fail "albmd.conf(5) lacks docs/config.md's service table"
grep -q -- '--haproxy-listen' "$D/usr/share/man/man8/albm-agent.8" || fail "albm-agent(8) lacks the options"
grep -q 'set-scheduler' "$D/usr/share/man/man8/albmctl.8" || fail "albmctl(8) lacks the command table"
if command -v man >/dev/null; then
	for m in man5/albmd.conf.5 man8/albmd.8 man8/albmctl.8 man8/albm-agent.8; do
		out=$(MANWIDTH=80 man -l "$D/usr/share/man/$m" 2>&1 >/dev/null) || fail "man -l $m"
		[ -z "$out" ] || fail "man -l $m warns: $out"
	done
	MANWIDTH=80 man -l "$D/usr/share/man/man8/albmd.8" 2>/dev/null | grep -q "^SYSTEMD" || fail "albmd(8) has no SYSTEMD section"
fi

# ---- the operator's config survives a second install
echo "# edited by the operator" >>"$D/etc/albm/albmd.conf"
make -s install DESTDIR="$D" PREFIX=/usr >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make install (again)"; }
tail -1 "$D/etc/albm/albmd.conf" | grep -q "edited by the operator" || fail "second install overwrote the config"

# ---- PREFIX=/usr/local: units point at /usr/local/sbin, config still under /etc
D2=$TMP/root2
make -s install DESTDIR="$D2" PREFIX=/usr/local >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make install PREFIX=/usr/local"; }
[ -x "$D2/usr/local/sbin/albmd" ] || fail "PREFIX=/usr/local: no /usr/local/sbin/albmd"
grep -q '^ExecStart=/usr/local/sbin/albmd -f /etc/albm/albmd.conf$' "$D2/usr/local/lib/systemd/system/albmd.service" ||
	fail "PREFIX=/usr/local: unit ExecStart"
[ -f "$D2/etc/albm/albmd.conf" ] || fail "PREFIX=/usr/local: config not under /etc/albm"
make -s uninstall DESTDIR="$D2" PREFIX=/usr/local >/dev/null 2>&1 || fail "make uninstall"
[ ! -e "$D2/usr/local/sbin/albmd" ] || fail "uninstall left albmd"
[ -f "$D2/etc/albm/albmd.conf" ] || fail "uninstall removed the config"

# ---- completion: commands, and the services and servers of a running albmd
WEB=$(free_port) API=$(free_port)
cat >"$TMP/c.conf" <<CONF
control { socket $TMP/albmd.sock; }
service web { listen 127.0.0.1:$WEB; server s1 127.0.0.1:1; server s2 127.0.0.1:2; }
service api { listen 127.0.0.1:$API; server a1 127.0.0.1:3; }
CONF
start_albmd "$TMP/c.conf"
complete_words() { # the words typed so far, the last one being completed
	# shellcheck disable=SC1090
	PATH="$PWD/$BIN:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		_albmctl; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ \
		"$D/usr/share/bash-completion/completions/albmctl" "$@"
}
got=$(complete_words albmctl dr)
[ "$got" = "drain " ] || fail "complete 'albmctl dr': '$got'"
got=$(complete_words albmctl -s "$TMP/albmd.sock" drain "")
[ "$got" = "api web " ] || fail "complete services: '$got'"
got=$(complete_words albmctl -s "$TMP/albmd.sock" drain web "")
[ "$got" = "s1 s2 " ] || fail "complete servers of web: '$got'"
got=$(complete_words albmctl -s "$TMP/albmd.sock" scheduler api w)
[ "$got" = "wlc wrr " ] || fail "complete schedulers: '$got'"
echo "700-install: ok"
