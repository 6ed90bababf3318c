# ALBM lab: each server's available memory over time under one scheduler (Figures 4 and 5).
# Call: gnuplot -e "gpdir='lab/plot'; dir='D'; sched='rr'; servers='s1 s2'; out='F.png'; ttl='...'; note='...'; \
#                   marks='D/steps-rr.dat'; swap=1; evfile='D/events-rr.gp'" lab/plot/mem.gp
# (swap=0: no swap curves; evfile optional).  Reads D/mem-SCHED-SERVER.dat: t_s avail_MiB
# avail_pct swap_MiB, the step start times (t_s clients-or-rate) from marks, drawn as dashed
# lines labelled with the client count (the rate in open loop), and the timeline's events
# (hogs, pauses, servers down, OOM kills) from evfile, written by lab/lib/timeline.py.
load gpdir.'/common.gp'
set output out
set title ttl."\n{/*0.8 ".note."}"
set xlabel 'time (s)'
set ylabel 'available memory (% of the server''s memory limit)'
# (stats before the yrange: a step's label, e.g. an open-loop rate of 150, is its y)
if (marks ne '') {
	stats marks using 1 nooutput
	if (!exists("STATS_records")) { STATS_records = 0 }
	if (STATS_records > 0) {
		do for [i = 0:int(STATS_records) - 1] {
			stats marks every ::i::i using 1:2 nooutput
			set arrow from first STATS_min_x, graph 0 to first STATS_min_x, graph 1 nohead dt 2 lc rgb '#cccccc'
			set label sprintf('%g', STATS_min_y) at first STATS_min_x, graph 0.98 offset 0.3,0 font ',8' tc rgb '#666666'
		}
	}
}
set yrange [0:105]
set xrange [0:*]
if (!exists("swap")) { swap = 0 }
if (swap) {
	set y2label 'swap used by the server (MiB, dashed)'
	set y2range [0:*]
	set y2tics
	set ytics nomirror
}
set arrow from graph 0, first 5 to graph 1, first 5 nohead dt 3 lc rgb '#888888'
set label 'ALBM target: >= 5 %' at graph 0.01, first 7 tc rgb '#888888' font ',8'
if (exists("evfile") && evfile ne '') { load evfile }
nserv = words(servers)
if (swap) {
	plot for [i = 1:nserv] sprintf('%s/mem-%s-%s.dat', dir, sched, word(servers, i)) using 1:3 \
		with lines lw 1.8 lc i title word(servers, i).' avail %', \
		for [i = 1:nserv] sprintf('%s/mem-%s-%s.dat', dir, sched, word(servers, i)) using 1:4 \
		axes x1y2 with lines dt 2 lw 1 lc i title word(servers, i).' swap MiB'
} else {
	plot for [i = 1:nserv] sprintf('%s/mem-%s-%s.dat', dir, sched, word(servers, i)) using 1:3 \
		with lines lw 1.8 lc i title word(servers, i).' avail %'
}
