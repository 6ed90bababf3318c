# ALBM lab: network-namespace helpers shared by the testbeds (lab/hanet; the same steps as lab/netns).
# shellcheck shell=bash
#
#   ns_exists NS          true when the named namespace exists
#   ns_make NS            create it, loopback up, no IPv6 DAD (addresses usable at once)
#   ns_list PREFIX RE     the namespaces named PREFIX-<RE>, read from the system (so that a
#                         teardown finds them after a crash), sorted
#   ns_remove NS          stop what runs inside (TERM, then KILL after a second; by PID,
#                         from the kernel's own list) and delete it; idempotent

ns_exists() { [[ -e /run/netns/$1 ]]; }

ns_make() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

ns_list() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1-$2\$" | sort -V || true
}

ns_remove() {
	local ns=$1 pids n sig
	for n in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[[ -z $pids ]] && break
		sig=-TERM
		((n > 5)) && sig=-KILL # still there after a second
		# shellcheck disable=SC2086
		kill "$sig" $pids 2>/dev/null || true
		sleep 0.2
	done
	ip netns del "$ns" 2>/dev/null || true
}
