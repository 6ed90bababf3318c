#!/usr/bin/env bash
# ALBM: install the Debian packages the build, tests, benchmarks and lab need.
# Idempotent: does nothing when every package is already installed.
set -euo pipefail
PKGS=(
	build-essential pkg-config       # gcc, make
	clang llvm libclang-rt-14-dev    # BPF target, libFuzzer, sanitizers
	libbpf-dev bpftool libelf-dev zlib1g-dev  # XDP data plane (dr mode)
	libssl-dev                       # HMAC-SHA256 and random keys (libcrypto)
	libjansson-dev                   # JSON output (agent --json, albmctl list --json, /api/state)
	libcmocka-dev                    # unit tests
	iproute2 procps psmisc curl python3  # namespaces, process tools, test clients
	haproxy nginx libnginx-mod-stream wrk  # interop tests and peer benchmarks
	gnuplot-nox                      # lab figures
	bird2 keepalived                 # HA testbed (lab/hanet): BGP ECMP, VRRP (contrib/)
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The nginx, haproxy, bird2 and keepalived packages start system services; ALBM runs its
# own instances only (in the labs' namespaces).  Only a service this run installed is
# stopped: one the machine already ran is left alone.
for sp in nginx:nginx haproxy:haproxy bird:bird2 keepalived:keepalived; do
	[[ " ${missing[*]} " == *" ${sp#*:} "* ]] || continue
	s=${sp%%:*}
	$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || $SUDO service "$s" stop >/dev/null 2>&1 || true
done
