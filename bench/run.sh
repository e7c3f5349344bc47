#!/bin/sh
# Runs every benchmark (bench/*.sh) against a release build and prints their
# tables. Usage: bench/run.sh BUILD_DIR [NAME...]   (e.g. bench/run.sh build http)
# Results are also written to bench/results/<name>.txt (not committed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
shift || true
mkdir -p "$here/results"
names="$*"
if [ -z "$names" ]; then
    names=$(cd "$here" && ls *.sh | grep -v '^run\.sh$' | grep -v '^lib\.sh$' | sed 's/\.sh$//')
fi
status=0
for name in $names; do
    echo "== bench/$name =="
    if ! REEL_BUILD="$build" sh "$here/$name.sh" 2>&1 | tee "$here/results/$name.txt"; then
        status=1
    fi
    echo
done
exit $status
