# ALBM lab: shared gnuplot settings (loaded by the other lab/plot/*.gp scripts).
# pngcairo when this gnuplot has it, else libgd png.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
	set terminal pngcairo size 960,600 enhanced font 'Sans,10' linewidth 1.5
} else {
	set terminal png size 960,600
}
set grid
set key outside right top box
set datafile separator whitespace
set datafile missing '?'
# one fixed colour per scheduler, so figures of both experiments read alike
sched_color(s) = (s eq 'rr') ? '#d62728' : (s eq 'lc') ? '#1f77b4' : (s eq 'wlc') ? '#17becf' : \
	(s eq 'wrr') ? '#ff7f0e' : (s eq 'albm') ? '#2ca02c' : (s eq 'sed') ? '#9467bd' : \
	(s eq 'twos') ? '#8c564b' : (s eq 'orca') ? '#e377c2' : (s eq 'prequal') ? '#bcbd22' : '#7f7f7f'
sched_width(s) = (s eq 'albm') ? 3 : 1.5
