# ALBM lab: requests/s vs clients, one line per scheduler (the paper's Figures 2 and 3).
# Call: gnuplot -e "gpdir='lab/plot'; dir='D'; scheds='rr lc albm'; out='F.png'; ttl='...'; note='...'; xmax=33[; xlab='offered load (req/s)']" lab/plot/rps.gp
# Reads D/rps-SCHED.dat: clients (open loop: rate) rps p99_ms errors (ramp steps; '#' lines are comments).
load gpdir.'/common.gp'
set output out
set title ttl."\n{/*0.8 ".note."}"
if (!exists("xlab")) { xlab = 'concurrent clients' }
set xlabel xlab
set ylabel 'requests/s'
set yrange [0:*]
set xrange [0:xmax]
plot for [s in scheds] sprintf('%s/rps-%s.dat', dir, s) using 1:2 with linespoints \
	lc rgb sched_color(s) lw sched_width(s) pt 7 ps 0.8 title s
