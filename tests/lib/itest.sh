# ALBM: the common start of an albmd integration test — libraries, binaries, tools, a temp dir
# shellcheck shell=bash
#
# Usage, from a test whose working directory is the repository root:
#   . tests/lib/itest.sh ID BIN...
# checks that BIN... are built and that python3 and curl are installed (else skips),
# creates $TMP (/tmp/albm-ID.XXXXXX, removed on exit) and loads the helpers of
# common.sh, lab_tools.sh and albmd.sh.
# shellcheck source=common.sh
. tests/lib/common.sh
need_bin "${@:2}"
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"
TMP=$(mktemp -d "/tmp/albm-$1.XXXXXX")
on_exit "rm -rf '$TMP'"
# shellcheck source=lab_tools.sh
. tests/lib/lab_tools.sh
# shellcheck source=albmd.sh
. tests/lib/albmd.sh
