# ALBM lab: small shell helpers (logging, size/duration parsing, ports) — sourced by lab/run.
# shellcheck shell=bash

lab_log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
lab_warn() { printf '[lab %s] warning: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
lab_die() { printf '[lab] error: %s\n' "$*" >&2; exit 2; }

# size_bytes TEXT: "96M" -> 100663296.  Binary suffixes K/M/G (as albm_parse_size), an
# optional B, and a fraction ("12.5M") are accepted.  Prints nothing and fails on bad input.
size_bytes() {
	local t=${1^^} mul=1 num
	t=${t%B}
	case $t in
	*K) mul=1024; num=${t%K} ;;
	*M) mul=1048576; num=${t%M} ;;
	*G) mul=1073741824; num=${t%G} ;;
	*) num=$t ;;
	esac
	[[ $num =~ ^[0-9]+(\.[0-9]+)?$ ]] || return 1
	awk -v n="$num" -v m="$mul" 'BEGIN { printf "%.0f\n", n * m }'
}

# duration_ms TEXT: "250ms" -> 250, "10s" -> 10000, "1.5s" -> 1500, "2m" -> 120000.
# The unit is required (as in src/common/duration.c).
duration_ms() {
	local t=$1 num mul
	case $t in
	*us) num=${t%us}; mul=0.001 ;;
	*ms) num=${t%ms}; mul=1 ;;
	*s) num=${t%s}; mul=1000 ;;
	*m) num=${t%m}; mul=60000 ;;
	*h) num=${t%h}; mul=3600000 ;;
	*) return 1 ;;
	esac
	[[ $num =~ ^[0-9]+(\.[0-9]+)?$ ]] || return 1
	awk -v n="$num" -v m="$mul" 'BEGIN { v = n * m; if (v > 0 && v < 1) v = 1; printf "%.0f\n", v }'
}

# mib BYTES: bytes -> whole MiB (for messages and file names).
mib() { echo $(( $1 / 1048576 )); }

# port_busy PORT: true when something listens on 127.0.0.1:PORT (TCP) or binds it (UDP).
port_busy() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -qiE "^ *[0-9]+: [0-9A-F]{8}:$hex [0-9A-F]{8}:[0-9A-F]{4} (0A|07) " \
		/proc/net/tcp /proc/net/udp 2>/dev/null
}

# wait_port PORT TIMEOUT_S: wait until a TCP listener is up on 127.0.0.1:PORT.
wait_port() {
	local port=$1 deadline=$((SECONDS + ${2:-10}))
	while ((SECONDS < deadline)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# The system python3 when there is one: a version manager's shim (pyenv) can take
# seconds to start on a loaded machine, which would shift the memory sampler's clock.
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=$(command -v python3 || echo python3); fi

# http_get URL: body on stdout (curl when present, else python3 stdlib).
http_get() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 3 "$1"
	else
		"$PY" - "$1" <<'EOF'
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())
EOF
	fi
}

# split_list "a,b, c" -> one item per line, blanks dropped.
split_list() { tr ', ' '\n\n' <<<"$1" | sed '/^$/d'; }
