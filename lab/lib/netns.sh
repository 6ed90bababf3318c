# ALBM lab: --mode dr through lab/netns (the namespace testbed: up, down, exec, addr).
# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
#
# In mode dr the distributor only rewrites the frames' MAC addresses (XDP) and the servers
# answer the client directly, so nothing can share one loopback: lab/netns builds a bridge
# with a client (c1), the distributor (d) and one namespace per server (s1..sN), the VIP
# on the distributor's eth0 and on every server's lo.  This run uses a private prefix
# (ALBM_LAB_PREFIX=albmlab<PID>) so that it never touches another lab.
# In proxy mode every helper below is a no-op and everything runs on 127.0.0.1.
#
# Layout in mode dr (port base P as in proxy mode):
#   bench        in c1, to http://VIP:P
#   albmd        in d: service VIP:P mode dr interface eth0; agents on DADDR:P+2;
#                HTTP control 127.0.0.1:P+1 (inside d; the sampler runs in d too)
#   server i     in s(i+1): albm-httpd on 0.0.0.0:P (the VIP is on its lo), agent next
#                to it; both in the lab's own cgroups (not lab/netns's unlimited ones)

LAB_NETNS_UP=0
LAB_NETNS=$LAB_DIR/netns
LAB_NETNS_PREFIX=albmlab$$
NSCMD=()

is_dr() { [[ ${CL[mode]} == dr ]]; }

# ns_cmd ROLE: NSCMD = the command prefix that runs a program in ROLE's network namespace
# (d, c1, s1..sN), empty in proxy mode.  nsenter --net, not `ip netns exec` (nor
# lab/netns exec, which uses it): that also makes a new mount namespace with a fresh
# /sys, where /sys/fs/cgroup is not mounted, and the agents and the sampler read cgroups.
ns_cmd() {
	NSCMD=()
	is_dr && NSCMD=(nsenter "--net=/run/netns/$LAB_NETNS_PREFIX-$1")
	return 0
}

# Addresses the processes use, per mode.
addr_vip() { if is_dr; then echo 10.77.0.100; else echo 127.0.0.1; fi; }
addr_dist() { if is_dr; then echo 10.77.0.10; else echo 127.0.0.1; fi; }
addr_server() { if is_dr; then echo "10.77.0.$((11 + $1))"; else echo 127.0.0.1; fi; }

lab_netns_up() {
	is_dr || return 0
	if [[ ! -x $LAB_NETNS ]]; then
		lab_warn "mode dr needs lab/netns (not present): use --mode proxy"
		return 1
	fi
	[[ $(id -u) -eq 0 ]] || { lab_warn "mode dr needs root (network namespaces, XDP)"; return 1; }
	state_add "netns $LAB_NETNS_PREFIX"
	LAB_NETNS_UP=1
	ALBM_LAB_PREFIX=$LAB_NETNS_PREFIX "$LAB_NETNS" up --servers "$NSERVERS" --clients 1 \
		>"$LAB_OUT/netns.txt" 2>"$LAB_OUT/netns.log" || { cat "$LAB_OUT/netns.log" >&2; return 1; }
}

lab_netns_down() {
	((LAB_NETNS_UP)) || return 0
	ALBM_LAB_PREFIX=$LAB_NETNS_PREFIX "$LAB_NETNS" down 2>>"$LAB_OUT/netns.log" ||
		lab_warn "lab/netns down failed (see $LAB_OUT/netns.log)"
	state_del "netns $LAB_NETNS_PREFIX"
	LAB_NETNS_UP=0
}

# ns_wait_port ROLE ADDR PORT TIMEOUT_S: a TCP listener answers inside ROLE's namespace.
ns_wait_port() {
	local role=$1 addr=$2 port=$3 deadline=$((SECONDS + $4))
	if ! is_dr; then
		wait_port "$port" "$4"
		return
	fi
	while ((SECONDS < deadline)); do
		nsenter "--net=/run/netns/$LAB_NETNS_PREFIX-$role" bash -c "exec 3<>/dev/tcp/$addr/$port" \
			2>/dev/null &&
			return 0
		sleep 0.2
	done
	return 1
}

# ns_http_get ROLE URL: http_get from inside ROLE's namespace.
ns_http_get() {
	if ! is_dr; then
		http_get "$2"
		return
	fi
	nsenter "--net=/run/netns/$LAB_NETNS_PREFIX-$1" curl -fsS --max-time 3 "$2"
}
