#!/usr/bin/env bash
# ALBM lab: the scenario suite (`make scenarios`) — every lab/scenarios/*.cluster, closed and open loop, docs/SCENARIOS.md.
#
# Per scenario: its capacity bound (the same cluster with the overload removed — no memory
# limit, no events — closed loop under lc), then every scheduler closed loop (32 clients)
# and open loop (Poisson arrivals at 50/70/85/95 % of the bound).  Then docs/SCENARIOS.md:
# a table per scenario, the figures (docs/scenarios/*.png), a summary matrix and the
# issue's targets for albm, MET or MISSED (lab/lib/results.py scenarios).
# Environment: OUT=DIR (default lab/out/scenarios-DATE), BUILD=DIR, SCENARIOS="names"
# (default: every file of lab/scenarios/, in the order below), SCHEDULERS=a,b,...,
# LOADS=50%,70%,85%,95%, OPEN_STEP=3s OPEN_WARMUP=1s, BOUND_SCHED=lc, DOCS=DIR (default
# docs), LAB_ARGS (extra lab/run options, e.g. "--step 2s" for a quick check).
set -uo pipefail
case ${1:-} in
-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "usage: $0 [--help]  (settings through the environment, see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 2

ORDER="paper-homogeneous paper-heterogeneous unknown-capacity noisy-memory noisy-cpu gc-pauses no-swap"
OUT=${OUT:-lab/out/scenarios-$(date +%Y%m%d-%H%M%S)}
DOCS=${DOCS:-docs}
SCENARIOS=${SCENARIOS:-$ORDER}
LOADS=${LOADS:-50%,70%,85%,95%}
OPEN_STEP=${OPEN_STEP:-3s}
OPEN_WARMUP=${OPEN_WARMUP:-1s}
BOUND_SCHED=${BOUND_SCHED:-lc}
read -r -a extra <<<"${LAB_ARGS:-}"
[[ -n ${BUILD:-} ]] && extra+=(--build "$BUILD")
sched=()
[[ -n ${SCHEDULERS:-} ]] && sched=(--schedulers "$SCHEDULERS")
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

# the three lab/run command lines of scenario $1 (bound output in $2), one per line
closed_args() { echo "lab/scenarios/$1.cluster --out $OUT/$1/closed"; }
open_args() {
	echo "lab/scenarios/$1.cluster --out $OUT/$1/open --load $LOADS --step $OPEN_STEP --set warmup=$OPEN_WARMUP"
}
bound_args() {
	echo "lab/scenarios/$1.cluster --out $OUT/$1/bound --schedulers $BOUND_SCHED --no-events --set mem_limit=no"
}

total=0
for s in $SCENARIOS; do
	[[ -f lab/scenarios/$s.cluster ]] || { echo "scenarios: no lab/scenarios/$s.cluster"; exit 2; }
	t=0
	# shellcheck disable=SC2046
	n=$(lab/run $(bound_args "$s") "${extra[@]}" --estimate) &&
		m=$(lab/run $(closed_args "$s") "${extra[@]}" "${sched[@]}" --estimate) &&
		o=$(lab/run $(open_args "$s") --set bound=1 "${extra[@]}" "${sched[@]}" --estimate) ||
		{ echo "scenarios: $s: lab/scenarios/$s.cluster is not valid"; exit 2; }
	t=$((n + m + o))
	echo "scenarios: $s: about $((t / 60)) min $((t % 60)) s"
	total=$((total + t))
done
echo "scenarios: total about $((total / 60)) min (output: $OUT)"
mkdir -p "$OUT" "$DOCS/scenarios"
{ echo "start $(date -u '+%Y-%m-%d %H:%M:%S UTC')"; echo "uptime_before $(uptime)"; } >"$OUT/machine.txt"

rc=0 cmds=()
run() { # NAME ARGS...: one lab/run, logged and recorded
	local name=$1
	shift
	cmds+=("lab/run $*")
	echo "scenarios: lab/run $*"
	lab/run "$@" || { echo "scenarios: $name: lab/run failed (exit $?)"; rc=1; }
}
for s in $SCENARIOS; do
	# shellcheck disable=SC2046
	run "$s" $(bound_args "$s") "${extra[@]}"
	bound=$("$PY" lab/lib/results.py bound "$OUT/$s/bound") || {
		echo "scenarios: $s: no capacity bound measured; skipped"; rc=1; continue; }
	echo "scenarios: $s: capacity bound $bound req/s"
	# shellcheck disable=SC2046
	run "$s" $(closed_args "$s") --set bound="$bound" "${extra[@]}" "${sched[@]}"
	# shellcheck disable=SC2046
	run "$s" $(open_args "$s") --set bound="$bound" "${extra[@]}" "${sched[@]}"
done
{ echo "end $(date -u '+%Y-%m-%d %H:%M:%S UTC')"; echo "uptime_after $(uptime)"; } >>"$OUT/machine.txt"

margs=(--root "$OUT" --figdir "$DOCS/scenarios" --figrel scenarios --keep "$DOCS/SCENARIOS.md"
	--cmd "make scenarios   # = lab/scenarios.sh, OUT=$OUT")
for s in $SCENARIOS; do margs+=(--scenario "$s"); done
for c in "${cmds[@]}"; do margs+=(--cmd "$c"); done
if "$PY" lab/lib/results.py scenarios "${margs[@]}" >"$OUT/SCENARIOS.md"; then
	cp -f "$OUT/SCENARIOS.md" "$DOCS/SCENARIOS.md"
	echo "scenarios: wrote $DOCS/SCENARIOS.md and $DOCS/scenarios/*.png"
else
	echo "scenarios: could not write $DOCS/SCENARIOS.md"; rc=1
fi
targs=()
for s in $SCENARIOS; do targs+=(--scenario "$s"); done
"$PY" lab/lib/results.py scenario-targets --root "$OUT" "${targs[@]}"
exit $rc
