#!/usr/bin/env bash
# ALBM: build the Debian package (make deb) -> BUILD/albm_VERSION_ARCH.deb, checked by lintian.
#
#   scripts/deb.sh [BUILD]      (BUILD: the build directory, default build)
#
# The package is built in a copy of the tree without .git and build/ (as from a
# tarball: the version comes from the VERSION file and debian/changelog), in a temp
# dir, so that dpkg-buildpackage's output and its clean step never touch the working
# tree.  Logs: BUILD/deb-build.log, BUILD/deb-lintian.log.
# Exit status: 0 built and lintian reports no error, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
for c in dpkg-buildpackage dh lintian scdoc; do
	command -v "$c" >/dev/null || { echo "deb: $c not found (scripts/deps.sh build test)" >&2; exit 1; }
done
version=$(dpkg-parsechangelog -S Version)
[ "${version%%-*}" = "$(cat VERSION)" ] ||
	{ echo "deb: debian/changelog says $version, VERSION says $(cat VERSION)" >&2; exit 1; }
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
mkdir -p "$BUILD"
work=$(mktemp -d /tmp/albm-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/albm-$version
mkdir -p "$src"
tar --exclude=./.git --exclude="./$BUILD" --exclude=./build --exclude=./lab/out --exclude=./results \
	-cf - . | tar -C "$src" -xf -

echo "deb: building albm $version in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -us -uc) >"$BUILD/deb-build.log" 2>&1 ||
	{ tail -40 "$BUILD/deb-build.log" >&2; echo "deb: build failed (log: $BUILD/deb-build.log)" >&2; exit 1; }
deb=albm_${version}_${arch}.deb
cp "$work/$deb" "$BUILD/$deb"

# lintian: errors fail the build; warnings are printed for the record.
lintian --fail-on error --tag-display-limit 0 "$BUILD/$deb" >"$BUILD/deb-lintian.log" 2>&1 && rc=0 || rc=$?
cat "$BUILD/deb-lintian.log" >&2
[ "$rc" -eq 0 ] || { echo "deb: lintian reports errors" >&2; exit 1; }
echo "$BUILD/$deb"
