#!/usr/bin/env bash
# Builds the Debian package: scripts/package.sh [BUILD_DIR [OUT_DIR]]
# (defaults: build, and OUT_DIR = BUILD_DIR). Configures and builds
# BUILD_DIR first if it has never been configured; cpack then brings it up
# to date, installs it under /usr in a staging directory (binaries stripped)
# and writes OUT_DIR/weft_VERSION_ARCH.deb, whose Depends dpkg-shlibdeps
# (package dpkg-dev) computes from the libraries weft, weftd and libweft.so
# link. Prints the package's path; cpack's log is OUT_DIR/package.log.
#   sudo apt-get install ./build/weft_*.deb     sudo apt-get remove weft
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
out=${2:-$dir}

if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "weft: dpkg-shlibdeps is missing (package dpkg-dev): run scripts/deps.sh --test" >&2
  exit 1
fi
[[ -f $dir/CPackConfig.cmake ]] || scripts/build.sh "$dir"
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/package.log
if ! cpack --config "$dir/CPackConfig.cmake" -G DEB -B "$out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "weft: cpack failed; see $log" >&2
  exit 1
fi
# "CPack: - package: /path/weft_0.1.0_amd64.deb generated."
deb=$(sed -nE 's/^CPack: - package: (.*\.deb) generated\.$/\1/p' "$log")
if [[ -z $deb || ! -f $deb ]]; then
  cat "$log" >&2
  echo "weft: cpack made no .deb; see $log" >&2
  exit 1
fi
rm -rf "$out/_CPack_Packages"
echo "$deb"
