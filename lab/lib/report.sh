# ALBM lab: merge the per-scheduler CSVs and draw the figures (gnuplot) — sourced by lab/run.
# shellcheck shell=bash
#
# Figures (PNG, in OUT):
#   NAME-rps.png        requests/s vs clients, one line per scheduler  (paper Fig. 2, 3)
#   NAME-p99.png        p99 latency vs clients, one line per scheduler
#   NAME-mem-SCHED.png  available memory (and swap) vs time, one line per server, for every
#                       scheduler of CL[mem_figures] that ran (default rr, albm: Fig. 4, 5)

# plot_one SCRIPT OUT VARS: run one lab/plot script; failures are reported, not fatal.
plot_one() {
	local gp=$1 out=$2 vars=$3
	if ! gnuplot -e "gpdir='$LAB_DIR/plot'; $vars; out='$out'" "$LAB_DIR/plot/$gp" \
		2>>"$LAB_OUT/gnuplot.log"; then
		lab_warn "gnuplot $gp failed (see $LAB_OUT/gnuplot.log)"
		return 1
	fi
}

# report_all OUT: steps.csv + mem.csv + figures, then the comparison table on stdout.
report_all() {
	local out=$1 name=${CL[name]} scheds="" s servers="" i note ttl
	"$PY" "$LAB_DIR/lib/results.py" merge "$out" || { lab_warn "merging the CSVs failed"; return 1; }
	for s in $(split_list "${CL[schedulers]}"); do
		[[ -s $out/plot/rps-$s.dat ]] && scheds+="$s "
	done
	for ((i = 0; i < NSERVERS; i++)); do servers+="${S_NAME[i]} "; done
	note="overload: ${LAB_OVERLOAD_NOTE//\'/}; mix ${CL[mix]}; step ${CL[step]}; $(date +%Y-%m-%d)"
	ttl=${CL[title]//\'/}
	if ((LAB_PLOT)) && [[ -n $scheds ]]; then
		local common="dir='$out/plot'; scheds='${scheds% }'; note='$note'; xmax=$(($(clients_last) + 1))"
		plot_one rps.gp "$out/$name-rps.png" "$common; ttl='$ttl: requests/s'"
		plot_one p99.gp "$out/$name-p99.png" "$common; ttl='$ttl: p99 latency'"
		for s in $(split_list "${CL[mem_figures]}"); do
			[[ " $scheds " == *" $s "* ]] || continue
			plot_one mem.gp "$out/$name-mem-$s.png" "dir='$out/plot'; sched='$s'; \
servers='${servers% }'; marks='$out/plot/steps-$s.dat'; note='$note'; \
swap=$([[ $LAB_OVERLOAD == swap ]] && echo 1 || echo 0); \
ttl='$ttl: available memory per server under ${s^^}'"
		done
	fi
	"$PY" "$LAB_DIR/lib/results.py" table "$out"
	lab_log "CSV: $out/steps.csv, $out/mem.csv"
	((LAB_PLOT)) && lab_log "figures: $(cd "$out" && ls -- *.png 2>/dev/null | sed "s|^|$out/|" | tr '\n' ' ')"
	return 0
}
