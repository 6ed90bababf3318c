#!/usr/bin/env bash
# ALBM: the tree's lint checks, run by `make test` (tests/run.sh lint) and `make lint`.
#
#   scripts/lint.sh shell    shellcheck at warning level on every shell script in git
#   scripts/lint.sh format   clang-format (.clang-format) leaves every C file unchanged
#   scripts/lint.sh cycles   no include cycles between the modules of src/ (include_cycles.py)
#   scripts/lint.sh size     no source file over SIZE_MAX lines (src, tests, bench, lab)
#
# Exit 0 clean, 1 findings (printed), 4 the tool is not installed (a skip, with a reason).
set -u
cd "$(dirname "$0")/.." || exit 1

# Every tracked shell script: *.sh, and files whose first line is a bash/sh shebang.
shell_files() {
	local f
	git ls-files | while read -r f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh) echo "$f" ;;
		*.*) ;;
		*) head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b' && echo "$f" ;;
		esac
	done
}

lint_shell() {
	command -v shellcheck >/dev/null || { echo "shellcheck not installed"; exit 4; }
	# warnings and errors (info and style are advice); each file on its own, in parallel
	shell_files | xargs -P "$(nproc)" -n 8 shellcheck -S warning
}

# The clang-format release the tree is formatted with: another one breaks lines
# differently, so it is told to skip rather than fail (make format with it would
# reformat the tree).  Debian 12 ships 14.
FORMAT_MAJOR=14

lint_format() {
	local f bad=0 v
	command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 4; }
	v=$(clang-format --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
	if [ "$v" != "$FORMAT_MAJOR" ]; then
		echo "clang-format $v here; the tree is formatted with $FORMAT_MAJOR: not checked"
		exit 4
	fi
	for f in $(git ls-files '*.c' '*.h'); do
		if ! clang-format --style=file "$f" | cmp -s - "$f"; then
			echo "not formatted: $f (make format)"
			bad=1
		fi
	done
	return $bad
}

lint_cycles() {
	command -v python3 >/dev/null || { echo "python3 not installed"; exit 4; }
	python3 scripts/include_cycles.py src
}

# One concept per file: a file past this has more than one (issue 12).
SIZE_MAX=700

lint_size() {
	local f n bad=0
	# tracked and new (not ignored) files, so that a file is checked before its commit
	while read -r f; do
		[ -f "$f" ] || continue
		n=$(wc -l <"$f")
		if [ "$n" -gt "$SIZE_MAX" ]; then
			echo "$f: $n lines (at most $SIZE_MAX: split it along a seam)"
			bad=1
		fi
	done < <(git ls-files --cached --others --exclude-standard -- src tests bench lab |
		grep -E '\.(c|h|py|sh)$')
	return $bad
}

case ${1:-} in
shell) lint_shell ;;
format) lint_format ;;
cycles) lint_cycles ;;
size) lint_size ;;
*) echo "usage: scripts/lint.sh shell|format|cycles|size" >&2; exit 2 ;;
esac
