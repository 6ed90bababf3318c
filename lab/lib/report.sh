# ALBM lab: merge the per-scheduler CSVs and draw the figures (gnuplot) — sourced by lab/run.
# shellcheck shell=bash
#
# Figures (PNG, in OUT):
#   NAME-rps.png        requests/s vs clients (open loop: vs the offered rate), one line per
#                       scheduler (paper Fig. 2, 3)
#   NAME-p99.png        p99 latency vs clients (rate), one line per scheduler
#   NAME-time.png       requests/s and p99 over time, one line per scheduler, the timeline's
#                       events shaded (from albm-bench --series)
#   NAME-mem-SCHED.png  available memory (and swap) vs time, one line per server, the events
#                       marked, for every scheduler of CL[mem_figures] that ran (default rr,
#                       albm: Fig. 4, 5)

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
		local common="dir='$out/plot'; scheds='${scheds% }'; note='$note'"
		if lab_open; then
			common+="; xlab='offered load (req/s, Poisson)'"
			common+="; xmax=$(open_rates | tr ',' '\n' | awk '$1 > m { m = $1 } END { print m * 1.1 }')"
		else
			common+="; xmax=$(($(clients_last) + 1))"
		fi
		plot_one rps.gp "$out/$name-rps.png" "$common; ttl='$ttl: requests/s'"
		plot_one p99.gp "$out/$name-p99.png" "$common; ttl='$ttl: p99 latency'"
		plot_one time.gp "$out/$name-time.png" "dir='$out/plot'; scheds='${scheds% }'; note='$note'; \
plan='$out/plot/plan.gp'; ttl='$ttl: over time'"
		for s in $(split_list "${CL[mem_figures]}"); do
			[[ " $scheds " == *" $s "* ]] || continue
			plot_one mem.gp "$out/$name-mem-$s.png" "dir='$out/plot'; sched='$s'; \
servers='${servers% }'; marks='$out/plot/steps-$s.dat'; note='$note'; \
swap=$([[ $LAB_OVERLOAD == swap ]] && echo 1 || echo 0); evfile='$out/plot/events-$s.gp'; \
ttl='$ttl: available memory per server under ${s^^}'"
		done
	fi
	"$PY" "$LAB_DIR/lib/results.py" table "$out"
	lab_log "CSV: $out/steps.csv, $out/mem.csv"
	((LAB_PLOT)) && lab_log "figures: $(cd "$out" && ls -- *.png 2>/dev/null | sed "s|^|$out/|" | tr '\n' ' ')"
	return 0
}
