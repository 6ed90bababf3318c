# ALBM lab: a summary matrix as a clustered bar chart: one group per scenario, one bar per scheduler.
# Call: gnuplot -e "gpdir='lab/plot'; data='F.dat'; scheds='rr lc albm'; out='F.png'; ttl='...'; \
#                   ylab='...'[; logy=1]" lab/plot/matrix.gp
# Reads data: a header line "scenario sched1 sched2 ...", then one row per scenario ('?' = none).
load gpdir.'/common.gp'
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
	set terminal pngcairo size 1200,560 enhanced font 'Sans,10' linewidth 1.2
}
set output out
set title ttl
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -20 noenhanced
set ylabel ylab
if (exists("logy") && logy) { set logscale y } else { set yrange [0:*] }
set key outside right top box noenhanced
n = words(scheds)
plot for [i=1:n] data using (column(i + 1)):xtic(1) title word(scheds, i) \
	lc rgb sched_color(word(scheds, i))
