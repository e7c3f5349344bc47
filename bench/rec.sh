#!/bin/sh
# The recommendation engine in-process (issue 5): reel-bench-rec with a
# synthetic population (default 10 million users, 1 million videos, ids and
# events from heavy-tailed distributions) measures learning events/s on one
# core, For You latency p50/p99, and model memory per user and per video;
# then the same model's learning step in PyTorch (bench/rec_torch.py, one
# thread) on the very events the engine learned from, and the ratio.
# Environment: USERS, VIDEOS, EVENTS, RUNS pass through to reel-bench-rec.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${REEL_BUILD:=$here/../build}"
bin="$REEL_BUILD/bench/reel-bench-rec"
[ -x "$bin" ] || { echo "$bin is missing: build with benchmarks (make bench)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=""
[ -n "${USERS:-}" ] && args="$args --users $USERS"
[ -n "${VIDEOS:-}" ] && args="$args --videos $VIDEOS"
[ -n "${EVENTS:-}" ] && args="$args --events $EVENTS"
[ -n "${RUNS:-}" ] && args="$args --runs $RUNS"
# shellcheck disable=SC2086
"$bin" $args --dump "$work/events.bin" | tee "$work/engine.txt" | grep -v '^LEARN_'
engine=$(sed -n 's/^LEARN_EVENTS_PER_S //p' "$work/engine.txt")
echo
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
    users=${USERS:-10000000}
    videos=${VIDEOS:-1000000}
    /usr/bin/python3 "$here/rec_torch.py" "$work/events.bin" --users "$users" --videos "$videos" \
        | tee "$work/torch.txt" | grep -v '^TORCH_'
    batched=$(sed -n 's/^TORCH_BATCHED_EVENTS_PER_S //p' "$work/torch.txt")
    online=$(sed -n 's/^TORCH_ONLINE_EVENTS_PER_S //p' "$work/torch.txt")
    awk -v e="$engine" -v b="$batched" -v o="$online" 'BEGIN {
        printf "\nlearning, same events, one thread: engine %.0f/s, PyTorch batched %.0f/s, online %.0f/s\n", e, b, o
        printf "engine/PyTorch = %.1fx (batched), %.0fx (online, one event at a time like the engine)\n", e/b, e/o }'
else
    echo "PyTorch comparison skipped: /usr/bin/python3 has no torch (scripts/deps.sh --bench installs python3-torch)"
fi
