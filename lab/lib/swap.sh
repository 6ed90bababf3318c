# ALBM lab: the run's own swap file (created, mkswap, swapon; swapoff and removed at the end).
# shellcheck shell=bash
#
# Why a swap file: the per-server memory limit is set below the memory+swap limit, so what
# a server holds beyond its limit is really written out and faulted back in — the physical
# overload of the paper's Figure 4 — instead of being OOM-killed or merely modelled.
# The file is recorded in the state file before swapon, so it is removed on interrupt too.

LAB_SWAPFILE=""

# swap_on DIR BYTES: create DIR/albm-lab-<pid>.swap of BYTES and enable it.  Tries DIR
# first, then /var/tmp (some file systems cannot hold swap: tmpfs, overlay, btrfs CoW).
swap_on() {
	local bytes=$2 dir f
	[[ -z $LAB_SWAPFILE ]] || return 0 # one swap file per run
	command -v mkswap >/dev/null && command -v swapon >/dev/null || {
		lab_warn "mkswap/swapon not found"
		return 1
	}
	for dir in "$1" /var/tmp; do
		f=$dir/albm-lab-$$.swap
		[[ -d $dir && ! -e $f ]] || continue
		state_add "swap $f"
		if { fallocate -l "$bytes" "$f" 2>/dev/null ||
			dd if=/dev/zero of="$f" bs=1M count=$((bytes / 1048576)) status=none 2>/dev/null; } &&
			chmod 600 "$f" && mkswap "$f" >/dev/null 2>&1 && swapon "$f" 2>/dev/null; then
			LAB_SWAPFILE=$f
			lab_log "swap: $f ($(mib "$bytes") MiB) enabled"
			return 0
		fi
		grep -qF -- "$f " /proc/swaps || rm -f "$f"
		state_del "swap $f"
	done
	lab_warn "could not enable a swap file (swapon refused)"
	return 1
}

# swap_off_file FILE: swapoff (brings pages back in) and remove; only albm-lab-*.swap files.
swap_off_file() {
	local f=$1
	[[ $(basename -- "$f") == albm-lab-*.swap ]] || return 0
	if grep -qF -- "$f " /proc/swaps 2>/dev/null; then
		swapoff "$f" || lab_warn "swapoff $f failed"
	fi
	rm -f "$f"
	state_del "swap $f"
}

swap_off() {
	[[ -n $LAB_SWAPFILE ]] || return 0
	swap_off_file "$LAB_SWAPFILE"
	LAB_SWAPFILE=""
}
