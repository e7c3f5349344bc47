#!/bin/sh
# Installs the Debian 12 packages Reel needs to build, test and benchmark.
# Idempotent: asks apt only for what is missing, so it is quick to re-run.
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --bench  also what `make bench` compares against
set -eu

packages="
  build-essential meson ninja-build pkg-config python3 git ca-certificates curl
  libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libsodium-dev libinih-dev
  libavformat-dev libavcodec-dev libavutil-dev libavfilter-dev libswscale-dev
  libswresample-dev
  libcriterion-dev python3-pytest python3-requests ffmpeg
  clang libclang-rt-14-dev
  chromium
"
bench_packages="wrk nginx-light redis-server python3-torch python3-numpy"

if [ "${1:-}" = "--bench" ]; then
    packages="$packages $bench_packages"
fi

# Node.js for the browser tests: Debian's nodejs + npm, unless a Node.js with
# npm is already installed (NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
    packages="$packages nodejs npm"
fi

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "scripts/deps.sh: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
else
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
