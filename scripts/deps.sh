#!/usr/bin/env bash
# ALBM: install the Debian packages that building, testing or the lab need, by group.
#
#   scripts/deps.sh [build|test|lab]...     (no argument: build)
#
#   build  compile albmd, albm-agent, albmctl, the lab tools and the man pages
#   test   build + what `make test` runs: interop tests, unit/fuzz/package tests
#   lab    build + the peer benchmarks and the lab (`make deps-lab`)
#
# Idempotent: does nothing when every package is already installed.  It never stops,
# disables or restarts a service that was there before: a package new to this machine
# that would start a daemon on install (haproxy, nginx) is kept from starting by a
# temporary policy-rc.d that denies only services that did not exist before, and its
# new units are left disabled (it was not running before, and nothing here needs it
# running: the tests and benchmarks start their own instances).
set -euo pipefail

BUILD_PKGS=(
	build-essential pkg-config       # gcc, make
	clang llvm libclang-rt-14-dev    # BPF target, libFuzzer, sanitizers
	libbpf-dev bpftool libelf-dev zlib1g-dev  # XDP data plane (dr mode), sockmap relay (proxy)
	liburing-dev                     # io_uring relay (proxy data-path uring), bench/uring_relay.c
	libssl-dev                       # HMAC-SHA256 and random keys (libcrypto)
	libjansson-dev                   # JSON output (agent --json, albmctl list --json, /api/state)
	libsystemd-dev                   # sd_notify: albmd's readiness under systemd (Type=notify)
	scdoc                            # man pages (docs/man/*.scd)
)
TEST_PKGS=(
	libcmocka-dev                    # unit tests
	shellcheck                       # make lint: every shell script at warning level
	clang-format                     # make lint: the C sources as .clang-format says
	iproute2 procps psmisc curl python3  # namespaces, process tools, test clients
	nftables                         # fault suite: blackholes inside a server's namespace
	libcap2-bin util-linux           # capsh, setpriv: albmd as an unprivileged user
	systemd                          # systemd-analyze verify of the units
	haproxy                          # interop test (agent-check)
	debhelper lintian dpkg-dev fakeroot  # make deb and its test
	bird2 keepalived                 # HA testbed (lab/hanet): BGP ECMP, VRRP (contrib/)
	chromium libjs-chart.js          # albmd's dashboard, rendered in a headless browser
)
LAB_PKGS=(
	iproute2 procps psmisc curl python3  # the lab's clusters and clients
	haproxy nginx libnginx-mod-stream wrk  # peer benchmarks (make bench-peers)
	gnuplot-nox                      # lab figures
	linux-perf                       # bench/peers.sh --syscalls (system calls per request)
	bird2 keepalived                 # HA testbed (lab/hanet), make bench-ha
)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(build)
want=("${BUILD_PKGS[@]}")
for g in "${groups[@]}"; do
	case $g in
	build) ;;
	test) want+=("${TEST_PKGS[@]}") ;;
	lab) want+=("${LAB_PKGS[@]}") ;;
	*) echo "deps: unknown group '$g' (build, test, lab)" >&2; exit 2 ;;
	esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${want[@]}"; do
	installed "$p" || [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Services and packages present before: these are never touched.
before_pkgs=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }')
before_svcs=$( { find /etc/init.d -maxdepth 1 -type f -printf '%f\n' 2>/dev/null
	find /lib/systemd/system /etc/systemd/system -maxdepth 1 -name '*.service' \
		-printf '%f\n' 2>/dev/null | sed 's/\.service$//'; } | sort -u | tr '\n' ' ')

# A policy-rc.d of the machine's own (containers often have one) is respected as it is.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
	$SUDO tee "$POLICY" >/dev/null <<EOF
#!/bin/sh
# Written by ALBM's scripts/deps.sh for one apt-get run, then removed: services that
# existed before may do what their packages do; new ones do not start on install.
for s in $before_svcs; do
	[ "\$1" = "\$s" ] || [ "\$1" = "\$s.service" ] && exit 0
done
exit 101
EOF
	$SUDO chmod 755 "$POLICY"
	own_policy=1
	trap '[ "$own_policy" = 1 ] && $SUDO rm -f "$POLICY"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Units that came with packages new to this machine stay disabled (they did not run
# before, and an enabled nginx would start at the next boot on port 80).
if command -v systemctl >/dev/null; then
	new_pkgs=$(comm -13 <(printf '%s\n' "$before_pkgs" | sort) \
		<(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort))
	for p in $new_pkgs; do
		for u in $(dpkg -L "$p" 2>/dev/null | sed -n 's#^/lib/systemd/system/\([^/@]*\.service\)$#\1#p'); do
			[[ " $before_svcs " == *" ${u%.service} "* ]] && continue
			$SUDO systemctl disable -q "$u" >/dev/null 2>&1 || true
		done
	done
fi
