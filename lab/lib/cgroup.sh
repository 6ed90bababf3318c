# ALBM lab: per-server cgroups (memory limit below memory+swap limit, CPU quota), v1 or v2.
# shellcheck shell=bash
#
# v1 (memory, cpu and cpuacct hierarchies, as mounted on the lab machine):
#   memory.limit_in_bytes = mem, memory.memsw.limit_in_bytes = mem + swap, swappiness 100,
#   cpu.cfs_quota_us = cpu% of cpu.cfs_period_us.
# v2 (unified): memory.max = mem, memory.swap.max = swap, cpu.max = "quota period".
# All cgroups of one run live under one parent named albm-lab-<PID of lab/run>, recorded in
# the state file so that an interrupted run can be cleaned up.

CG_ROOT=/sys/fs/cgroup
CG_VERSION=""    # 1, 2 or "" (none usable)
CG_PARENT=""     # albm-lab-<pid>
CG_SWAP_OK=0     # the memory controller accounts swap (memsw / memory.swap.max)
CG_V1_HIER=()    # v1 hierarchies to join: memory, cpu, cpuacct (once each: cpu and
                 # cpuacct are often one hierarchy mounted as cpu,cpuacct)

# cg_v1_hierarchies: fill CG_V1_HIER with the distinct v1 mount points.
cg_v1_hierarchies() {
	local h real seen=" "
	CG_V1_HIER=()
	for h in memory cpu cpuacct; do
		[[ -d $CG_ROOT/$h ]] || continue
		real=$(readlink -f "$CG_ROOT/$h")
		[[ $seen == *" $real "* ]] && continue
		seen+="$real "
		CG_V1_HIER+=("$h")
	done
}

# cg_detect: set CG_VERSION; v1 needs the memory and cpu hierarchies, v2 both controllers.
cg_detect() {
	CG_VERSION=""
	[[ $(id -u) -eq 0 ]] || return 1
	if [[ -f $CG_ROOT/memory/memory.limit_in_bytes && -f $CG_ROOT/cpu/cpu.cfs_quota_us ]]; then
		CG_VERSION=1
		[[ -f $CG_ROOT/memory/memory.memsw.limit_in_bytes ]] && CG_SWAP_OK=1
		cg_v1_hierarchies
	elif [[ -f $CG_ROOT/cgroup.controllers ]] &&
		grep -qw memory $CG_ROOT/cgroup.controllers && grep -qw cpu $CG_ROOT/cgroup.controllers; then
		CG_VERSION=2
		[[ -n $(find $CG_ROOT -maxdepth 2 -name memory.swap.max -print -quit 2>/dev/null) ]] && CG_SWAP_OK=1
	else
		return 1
	fi
}

# cg_dirs SERVER: the cgroup directories a server's processes join (space separated).
cg_dirs() {
	local s=$1 h
	if [[ $CG_VERSION == 1 ]]; then
		for h in "${CG_V1_HIER[@]}"; do
			printf '%s ' "$CG_ROOT/$h/$CG_PARENT/$s"
		done
	else
		printf '%s' "$CG_ROOT/$CG_PARENT/$s"
	fi
}

# cg_path SERVER: the one path the agent is scoped to (the memory cgroup).
cg_path() {
	if [[ $CG_VERSION == 1 ]]; then
		echo "$CG_ROOT/memory/$CG_PARENT/$1"
	else
		echo "$CG_ROOT/$CG_PARENT/$1"
	fi
}

# cg_setup_parent: create the run's parent cgroup(s).
cg_setup_parent() {
	local h
	CG_PARENT=albm-lab-$$
	if [[ $CG_VERSION == 1 ]]; then
		for h in "${CG_V1_HIER[@]}"; do
			state_add "cgroup $CG_ROOT/$h/$CG_PARENT"
			mkdir "$CG_ROOT/$h/$CG_PARENT" 2>/dev/null || { state_del "cgroup $CG_ROOT/$h/$CG_PARENT"; return 1; }
		done
		# children inherit; hierarchy accounting must be on for the memsw limits to nest
		echo 1 >"$CG_ROOT/memory/$CG_PARENT/memory.use_hierarchy" 2>/dev/null
	else
		grep -qw memory $CG_ROOT/cgroup.subtree_control ||
			echo "+memory" >$CG_ROOT/cgroup.subtree_control || return 1
		grep -qw cpu $CG_ROOT/cgroup.subtree_control ||
			echo "+cpu" >$CG_ROOT/cgroup.subtree_control || return 1
		state_add "cgroup $CG_ROOT/$CG_PARENT"
		mkdir "$CG_ROOT/$CG_PARENT" 2>/dev/null || { state_del "cgroup $CG_ROOT/$CG_PARENT"; return 1; }
		echo "+memory +cpu" >"$CG_ROOT/$CG_PARENT/cgroup.subtree_control" || return 1
	fi
}

# cg_write FILE VALUE: write one control file, with a message naming it on failure.
cg_write() {
	if ! echo "$2" >"$1" 2>/dev/null; then
		lab_warn "cannot write '$2' to $1"
		return 1
	fi
}

# cg_create SERVER MEM_BYTES SWAP_BYTES CPU_PCT [noswap]: one server's cgroup with its
# limits.  SWAP_BYTES 0 = no swap allowed (memory+swap limit = memory limit).  `noswap`
# (swap=0 in the cluster file) also sets swappiness 0, which keeps the cgroup's anonymous
# memory out of swap where swap is not accounted (v1 without memsw).
cg_create() {
	local s=$1 mem=$2 swap=$3 cpu=$4 noswap=${5:-} d period quota
	if [[ $CG_VERSION == 1 ]]; then
		d=$CG_ROOT/memory/$CG_PARENT/$s
		mkdir "$d" || return 1
		cg_write "$d/memory.limit_in_bytes" "$mem" || return 1
		if ((CG_SWAP_OK)); then
			cg_write "$d/memory.memsw.limit_in_bytes" $((mem + swap)) || return 1
		fi
		cg_write "$d/memory.swappiness" "$([[ $noswap == noswap ]] && echo 0 || echo 100)"
		d=$CG_ROOT/cpu/$CG_PARENT/$s
		mkdir "$d" || return 1
		period=$(cat "$d/cpu.cfs_period_us")
		quota=$((period * cpu / 100))
		cg_write "$d/cpu.cfs_quota_us" "$quota" || return 1
		if [[ " ${CG_V1_HIER[*]} " == *" cpuacct "* ]]; then
			mkdir "$CG_ROOT/cpuacct/$CG_PARENT/$s" || return 1
		fi
	else
		d=$CG_ROOT/$CG_PARENT/$s
		mkdir "$d" || return 1
		cg_write "$d/memory.max" "$mem" || return 1
		[[ -f $d/memory.swap.max ]] && { cg_write "$d/memory.swap.max" "$swap" || return 1; }
		period=100000
		cg_write "$d/cpu.max" "$((period * cpu / 100)) $period" || return 1
	fi
}

# cg_reset SERVER: between schedulers — reset the peak counters (v1) so that each run's
# maxima are its own.  Memory itself is freed when the server process exits.
cg_reset() {
	[[ $CG_VERSION == 1 ]] || return 0
	echo 0 >"$CG_ROOT/memory/$CG_PARENT/$1/memory.max_usage_in_bytes" 2>/dev/null
	echo 0 >"$CG_ROOT/memory/$CG_PARENT/$1/memory.memsw.max_usage_in_bytes" 2>/dev/null
	return 0
}

# cg_remove_tree DIR: rmdir DIR and its child cgroups (processes must be gone first).
# Refuses anything not named albm-lab-*.
cg_remove_tree() {
	local d=$1 c i
	[[ $d == */albm-lab-* ]] || return 0
	[[ -d $d ]] || { state_del "cgroup $d"; return 0; } # recorded, never made (or gone)
	for c in "$d"/*/; do
		[[ -d $c ]] || continue
		c=${c%/}
		[[ -f $c/cgroup.procs ]] || continue
		for ((i = 0; i < 30; i++)); do
			rmdir "$c" 2>/dev/null && break
			sleep 0.1
		done
	done
	rmdir "$d" 2>/dev/null || { lab_warn "cannot remove cgroup $d (processes left: $(cat "$d"/*/cgroup.procs "$d"/cgroup.procs 2>/dev/null | tr '\n' ' '))"; return 1; }
	state_del "cgroup $d"
}

# cg_procs DIR: PIDs still in DIR and its children (for the leak check).
cg_procs() { cat "$1"/cgroup.procs "$1"/*/cgroup.procs 2>/dev/null; }
