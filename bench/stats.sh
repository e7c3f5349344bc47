#!/bin/sh
# Benchmark of src/stats: HyperLogLog update rate, error and size against
# Redis's PFADD/PFCOUNT on the same ids, and a 100-million-user MAU.
#   bench/run.sh BUILD_DIR stats   (or: REEL_BUILD=DIR bench/stats.sh, or
#   bench/stats.sh BUILD_DIR; default build)
# Starts Debian's redis-server on a free loopback port for the run (no
# persistence) and stops it afterwards; without redis-server the Redis
# columns are skipped. Extra arguments go to reel-bench-stats (--runs N,
# --ids N, --mau-users N).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=${REEL_BUILD:-${1:-build}}
[ -z "${REEL_BUILD:-}" ] && [ $# -gt 0 ] && shift
bin="$build/bench/reel-bench-stats"
if [ ! -x "$bin" ]; then
    echo "bench/stats.sh: $bin not built (ninja -C $build)" >&2
    exit 1
fi

redis_pid=""
workdir=$(mktemp -d /tmp/reel-bench-stats.XXXXXX)
cleanup() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

port_args=""
if command -v redis-server >/dev/null 2>&1; then
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$workdir" --daemonize no >"$workdir/redis.log" 2>&1 &
    redis_pid=$!
    tries=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "bench/stats.sh: redis-server did not start:" >&2
            cat "$workdir/redis.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$port"
    port_args="--redis-port $port"
else
    echo "bench/stats.sh: redis-server not installed (scripts/deps.sh --bench); Redis skipped"
fi

# shellcheck disable=SC2086
"$bin" $port_args "$@"
