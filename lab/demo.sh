#!/usr/bin/env bash
# ALBM lab: the 1-2 minute demo (`make demo`) — homogeneous cluster, rr vs lc vs albm, short ramp.
#
# Clients 1, then 8-16-24-32 as one ramp (memory builds up across its steps), 5 s each,
# once per scheduler; then a comparison table and the figures' paths.  As root the
# overload is physical (cgroups + a swap file of the run's own); otherwise albm-httpd's
# paging model stands in, and the output says so.
# Environment: OUT=DIR (default lab/out/demo-DATE), BUILD=DIR (binaries, default build),
# SCHEDULERS=rr,lc,albm, CLIENTS=1,8:32:8, STEP=5s, PORT_BASE=17300.
set -uo pipefail
case ${1:-} in
-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "usage: $0 [--help]  (settings through the environment, see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 2

OUT=${OUT:-lab/out/demo-$(date +%Y%m%d-%H%M%S)}
args=(lab/homogeneous.cluster --out "$OUT"
	--schedulers "${SCHEDULERS:-rr,lc,albm}" --clients "${CLIENTS:-1,8:32:8}" --step "${STEP:-5s}"
	--repeat-last 0 --set warmup=0s --set settle=1s --port-base "${PORT_BASE:-17300}")
[[ -n ${BUILD:-} ]] && args+=(--build "$BUILD")
if [[ $(id -u) -ne 0 ]]; then
	echo "demo: not root — no cgroups or swap; the servers' overload is albm-httpd's paging model"
fi
echo "demo: lab/run ${args[*]}"
start=$SECONDS
lab/run "${args[@]}"
rc=$?
echo
echo "demo: finished in $((SECONDS - start)) s (exit $rc)"
echo "demo: CSV     $OUT/steps.csv (per step), $OUT/mem.csv (memory samples)"
if ls "$OUT"/*.png >/dev/null 2>&1; then
	echo "demo: figures $(ls "$OUT"/*.png | tr '\n' ' ')"
fi
echo "demo: full-length experiments: make paper (about 20 minutes; writes docs/RESULTS.md)"
exit $rc
