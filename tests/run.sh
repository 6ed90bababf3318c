#!/usr/bin/env bash
# ALBM test runner: runs the suites named on the command line (lint, unit, asan, fuzz,
# integration, faults, or all) and ends with one summary line "N passed, N failed, N skipped".
# Unit tests are cmocka programs (their own per-test lines are kept); integration
# tests are scripts that exit 0 (pass), 4 (skip, with a reason on stdout) or other (fail).
set -u
cd "$(dirname "$0")/.." || exit 1
PASS=0 FAIL=0 SKIP=0
FAILED=()
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"

run_cmocka_dir() { # $1 = directory of test binaries, $2 = label
	local dir=$1 label=$2 t out rc p f s
	[ -d "$dir" ] || { echo "[$label] no tests built in $dir"; return; }
	for t in "$dir"/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1); rc=$?
		printf '%s\n' "$out" > "$LOGDIR/$label-$(basename "$t").log"
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0} f=${f:-0} s=${s:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed, sanitizer report, ...
		PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
		if [ "$f" -ne 0 ]; then
			FAILED+=("$label/$(basename "$t")")
			printf '%s\n' "$out" | tail -40
		fi
		printf '[%s] %-28s %3d passed, %d failed, %d skipped\n' "$label" "$(basename "$t")" "$p" "$f" "$s"
	done
}

run_scripts() { # $1 = label, rest = scripts
	local label=$1 t out rc start
	shift
	for t in "$@"; do
		[ -f "$t" ] || continue
		start=$(date +%s)
		out=$(timeout 600 bash "$t" 2>&1); rc=$?
		printf '%s\n' "$out" > "$LOGDIR/$label-$(basename "$t").log"
		case $rc in
		0) PASS=$((PASS + 1)); printf '[%s] %-40s ok (%ss)\n' "$label" "$(basename "$t")" "$(( $(date +%s) - start ))" ;;
		4) SKIP=$((SKIP + 1)); printf '[%s] %-40s SKIP: %s\n' "$label" "$(basename "$t")" "$(printf '%s\n' "$out" | tail -1)" ;;
		*) FAIL=$((FAIL + 1)); FAILED+=("$label/$(basename "$t")")
		   printf '[%s] %-40s FAILED (exit %d)\n' "$label" "$(basename "$t")" "$rc"
		   printf '%s\n' "$out" | tail -40 ;;
		esac
	done
}

# The proxy's relay-semantics tests once more in each data path other than the default
# (auto, which is epoll: the integration suite runs that): half-close, big transfers,
# PROXY headers, queueing and stress with every connection in the kernel (sockmap) and
# in the worker's io_uring (uring).  A mode the kernel lacks makes the test skip with
# the reason (tests/lib/albmd.sh).
DATA_PATH_TESTS=(206-albmd-relay 207-queue 209-albmd-stress 211-albmd-resets 212-albmd-fin-timeouts
	213-albmd-access-log)
run_data_paths() {
	local mode t
	for mode in sockmap uring; do
		for t in "${DATA_PATH_TESTS[@]}"; do
			ALBM_DATA_PATH=$mode run_scripts "integration-$mode" "tests/integration/$t.sh"
		done
	done
}

run_fuzz() { # short smoke run of every libFuzzer target over its seed corpus
	local t name corpus corpus_arg
	for t in "${BUILD:-build}"/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		corpus=tests/fuzz/corpus/${name#fuzz_} corpus_arg=""
		[ -d "$corpus" ] && corpus_arg=$corpus
		# crash and leak reproducers go under build/, never into the tree
		mkdir -p "build/fuzz-work/$name" "build/fuzz-artifacts/$name"
		if timeout 120 "$t" -runs=20000 -max_total_time=20 -seed=1 \
			-artifact_prefix="build/fuzz-artifacts/$name/" "build/fuzz-work/$name" \
			${corpus_arg:+"$corpus_arg"} > "$LOGDIR/fuzz-$name.log" 2>&1; then
			PASS=$((PASS + 1)); printf '[fuzz] %-40s ok\n' "$name"
		else
			FAIL=$((FAIL + 1)); FAILED+=("fuzz/$name"); printf '[fuzz] %-40s FAILED\n' "$name"
			tail -40 "$LOGDIR/fuzz-$name.log"
		fi
	done
}

# The tree's lint checks (scripts/lint.sh): one result each; a missing tool is a skip.
run_lint() {
	local c out rc
	for c in "$@"; do
		out=$(bash scripts/lint.sh "$c" 2>&1); rc=$?
		printf '%s\n' "$out" > "$LOGDIR/lint-$c.log"
		case $rc in
		0) PASS=$((PASS + 1)); printf '[lint] %-40s ok\n' "$c" ;;
		4) SKIP=$((SKIP + 1)); printf '[lint] %-40s SKIP: %s\n' "$c" "$out" ;;
		*) FAIL=$((FAIL + 1)); FAILED+=("lint/$c"); printf '[lint] %-40s FAILED\n' "$c"
		   printf '%s\n' "$out" | tail -40 ;;
		esac
	done
}

# The fault suite (tests/faults/): its cases add rows to one table, printed at the end.
run_faults() {
	export FAULTS_TABLE=$LOGDIR/faults.tsv
	: >"$FAULTS_TABLE"
	run_scripts faults tests/faults/[0-9]*.sh
	[ -s "$FAULTS_TABLE" ] || return 0
	awk -F'\t' 'BEGIN {
		printf "\n%-46s %-56s %-24s %s\n", "fault", "outcome", "flows lost", "albmd CPU"
		printf "%-46s %-56s %-24s %s\n", "-----", "-------", "----------", "---------" }
		{ printf "%-46s %-56s %-24s %s%s\n", $1, $2, $3, $4, $4 ~ /^[0-9]+$/ ? "%" : "" }
		END { print "" }' "$FAULTS_TABLE"
}

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(all)
for s in "${suites[@]}"; do
	case $s in
	unit) run_cmocka_dir "${BUILD:-build}/tests" unit ;;
	asan) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		run_cmocka_dir "${ASAN_BUILD:-build/asan}/tests" asan ;;
	fuzz) run_fuzz ;;
	integration) run_scripts integration tests/integration/[0-9]*.sh; run_data_paths ;;
	data-paths) run_data_paths ;;
	faults) run_faults ;;
	lint) run_lint shell format cycles size ;;
	all)
		run_lint shell format cycles size
		run_cmocka_dir "${BUILD:-build}/tests" unit
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_cmocka_dir "${ASAN_BUILD:-build/asan}/tests" asan
		run_fuzz
		run_scripts integration tests/integration/[0-9]*.sh
		run_data_paths
		run_faults ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done
[ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
echo "total: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
