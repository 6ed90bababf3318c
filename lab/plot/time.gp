# ALBM lab: requests/s and p99 latency over time, one line per scheduler, the timeline's events shaded.
# Call: gnuplot -e "gpdir='lab/plot'; dir='D'; scheds='rr lc albm'; out='F.png'; ttl='...'; note='...'; \
#                   plan='D/plan.gp'" lab/plot/time.gp
# Reads D/series-SCHED.dat: t_s rps p99_ms errors (albm-bench --series; t = 0 is the start of
# the scheduler's timeline, so every scheduler's events are at the same x), and the planned
# events from plan (lab/lib/timeline.py).
load gpdir.'/common.gp'
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
	set terminal pngcairo size 960,900 enhanced font 'Sans,10' linewidth 1.5
} else {
	set terminal png size 960,900
}
set output out
set multiplot layout 2,1 title ttl."\n{/*0.8 ".note."}"
set xrange [0:*]
set yrange [0:*]
if (exists("plan") && plan ne '') { load plan }
set xlabel 'time since the timeline''s start (s)'
set ylabel 'requests/s'
plot for [s in scheds] sprintf('%s/series-%s.dat', dir, s) using 1:2 with lines \
	lc rgb sched_color(s) lw sched_width(s) title s
set ylabel 'p99 latency (ms)'
plot for [s in scheds] sprintf('%s/series-%s.dat', dir, s) using 1:3 with lines \
	lc rgb sched_color(s) lw sched_width(s) title s
unset multiplot
