#!/usr/bin/env bash
# ALBM lab: the paper's two experiments at full length (`make paper`), figures and docs/RESULTS.md.
#
# Runs lab/homogeneous.cluster and lab/heterogeneous.cluster as they ship (ramp, then the
# top client count repeated `repeat_last` times so that the targets use the median of 3),
# copies the figures to docs/results/, and writes docs/RESULTS.md: tables, figures, the
# targets check (MET/MISSED, computed by lab/lib/results.py from the CSVs) and the commands.
# The section "Discussion (written by the lead)" of an existing docs/RESULTS.md is kept.
# Environment: OUT=DIR (default lab/out/paper-DATE), BUILD=DIR, EXPERIMENTS="homogeneous
# heterogeneous", DOCS=DIR (default docs: where RESULTS.md and results/ go), and extra
# lab/run options in LAB_ARGS (e.g. "--step 2s --schedulers rr,albm" for a quick check).
set -uo pipefail
case ${1:-} in
-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "usage: $0 [--help]  (settings through the environment, see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 2

OUT=${OUT:-lab/out/paper-$(date +%Y%m%d-%H%M%S)}
DOCS=${DOCS:-docs}
EXPERIMENTS=${EXPERIMENTS:-homogeneous heterogeneous}
read -r -a extra <<<"${LAB_ARGS:-}"
[[ -n ${BUILD:-} ]] && extra+=(--build "$BUILD")
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

total=0
for e in $EXPERIMENTS; do
	t=$(lab/run "lab/$e.cluster" --estimate "${extra[@]}") || { echo "paper: lab/$e.cluster is not valid"; exit 2; }
	echo "paper: $e: about $((t / 60)) min $((t % 60)) s"
	total=$((total + t))
done
echo "paper: total about $((total / 60)) min (output: $OUT)"
mkdir -p "$OUT" "$DOCS/results"

rc=0 cmds=()
for e in $EXPERIMENTS; do
	cmd=(lab/run "lab/$e.cluster" --out "$OUT/$e" "${extra[@]}")
	cmds+=("${cmd[*]}")
	echo "paper: ${cmd[*]}"
	"${cmd[@]}" || { echo "paper: $e: lab/run failed (exit $?)"; rc=1; }
	cp -f "$OUT/$e"/*.png "$DOCS/results/" 2>/dev/null
done

homo="" hetero=""
[[ -f $OUT/homogeneous/steps.csv ]] && homo=$OUT/homogeneous
[[ -f $OUT/heterogeneous/steps.csv ]] && hetero=$OUT/heterogeneous
margs=(--homo "$homo" --hetero "$hetero" --figdir "$DOCS/results" --figrel results
	--keep "$DOCS/RESULTS.md" --cmd "make paper   # = lab/paper.sh, OUT=$OUT")
for c in "${cmds[@]}"; do margs+=(--cmd "$c"); done
if "$PY" lab/lib/results.py markdown "${margs[@]}" >"$OUT/RESULTS.md"; then
	cp -f "$OUT/RESULTS.md" "$DOCS/RESULTS.md"
	echo "paper: wrote $DOCS/RESULTS.md and $DOCS/results/*.png"
else
	echo "paper: could not write $DOCS/RESULTS.md"; rc=1
fi
echo
echo "Targets (ALBM at the top client count, median of the repeated runs):"
"$PY" lab/lib/results.py targets --homo "$homo" --hetero "$hetero"
exit $rc
