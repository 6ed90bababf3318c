#!/bin/sh
# ALBM: print the version of this source tree, for --version and albm_build_info.
#   a git checkout at a tag vX.Y.Z      -> git describe without the v (X.Y.Z, X.Y.Z-3-gabc1234)
#   a git checkout without such a tag   -> VERSION+git.COMMIT (0.1.0+git.1a2b3c4d5e6f)
#   no git (a tarball, a Debian build)  -> the VERSION file as it is
# Only [A-Za-z0-9.+~-] is printed: the version ends up in a Prometheus label.
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null) || { echo "version.sh: no VERSION file" >&2; exit 1; }
v=$base
if [ -e .git ] && command -v git >/dev/null 2>&1; then
	if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		v=${d#v}
	elif h=$(git rev-parse --short=12 HEAD 2>/dev/null); then
		v=$base+git.$h
	fi
fi
case $v in
"" | *[!A-Za-z0-9.+~-]*) echo "version.sh: bad version '$v' (VERSION file?)" >&2; exit 1 ;;
esac
echo "$v"
