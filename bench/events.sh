#!/bin/sh
# Engagement event ingestion (issue 3), durability on (fdatasync before 202):
#  1. over HTTP: wrk posts batches of 100 events (POST /api/v1/events) with
#     the bearer tokens of 200 seeded users, about 2,000 seeded videos;
#     events/s = 100 x requests/s; p99 is per batch (request). Reference in
#     the same run: GET /healthz on the same server (req/s) — the HTTP
#     front's ceiling on this machine.
#  2. in process: threads appending batches of 100 straight to the log
#     (reel-bench-events), the ceiling of the log itself.
# Medians of $ROUNDS runs. wrk shares the two cores with reel.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export REEL_ROOT=$(cd "$here/.." && pwd)
: "${REEL_BUILD:=$REEL_ROOT/build}"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
USERS=${USERS:-200}
VIDEOS=${VIDEOS:-2000}

command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh --bench"; exit 1; }
[ -x "$REEL_BUILD/bench/reel-bench-events" ] || { echo "build reel-bench-events first (ninja -C $REEL_BUILD)"; exit 1; }

work=$(mktemp -d)
trap 'stop_reel; rm -rf "$work"' EXIT

REEL_OVERRIDES="log.requests=off log.level=warn limits.rate_ip_per_s=0 limits.rate_token_per_s=0 server.threads=2 security.argon2_ops=1 security.argon2_mem=8k events.fsync=on"
export REEL_OVERRIDES
start_reel "$work"
"$REEL_BUILD/reel" seed --config "$work/reel.ini" --data "$work/data" --users "$USERS" \
    --videos "$VIDEOS" --no-media --seed 7 --json >"$work/seed.json"

# The wrk script: tokens and 64 ready-made bodies of 100 events each.
/usr/bin/python3 - "$work" <<'PY'
import json, random, sys
work = sys.argv[1]
seed = json.load(open(f"{work}/seed.json"))
rng = random.Random(7)
tokens = [u["token"] for u in seed["users"]]
videos = seed["videos"]
types = ["impression", "impression", "play", "watch", "watch", "skip"]
bodies = []
for _ in range(64):
    evs = []
    for _ in range(100):
        t = rng.choice(types)
        e = {"type": t, "video_id": rng.choice(videos)}
        if t in ("watch", "skip"):
            e["watched_ms"] = rng.randrange(200, 60000)
        evs.append(e)
    bodies.append(json.dumps({"events": evs}, separators=(",", ":")))
def lua(s):
    return "[==[" + s + "]==]"
with open(f"{work}/events.lua", "w") as f:
    f.write("tokens = {" + ",".join(lua(t) for t in tokens) + "}\n")
    f.write("bodies = {" + ",".join(lua(b) for b in bodies) + "}\n")
    f.write("""
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/events",
    {["Authorization"] = "Bearer " .. tokens[n % #tokens + 1],
     ["Content-Type"] = "application/json"},
    bodies[n % #bodies + 1])
end
""")
print(len(bodies[0]), file=open(f"{work}/body_bytes", "w"))
PY

# wrk output -> "rps p50_ms p99_ms non2xx"
run_wrk() {
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$@" | awk '
        /Requests\/sec/ {rps=$2}
        /Non-2xx/ {bad=$NF}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END {printf "%s %.3f %.3f %d\n", rps, ms(p50), ms(p99), bad+0}'
}

: >"$work/events.runs"; : >"$work/healthz.runs"
wrk -t2 -c"$CONNS" -d2s -s "$work/events.lua" "$REEL_URL/api/v1/events" >/dev/null   # warm-up
for i in $(seq 1 "$ROUNDS"); do
    run_wrk -s "$work/events.lua" "$REEL_URL/api/v1/events" >>"$work/events.runs"
    run_wrk "$REEL_URL/healthz" >>"$work/healthz.runs"
done
bad=$(awk '{s+=$4} END {print s+0}' "$work/events.runs")
stop_reel
total=0
for region in eu us intl; do
    n=$("$REEL_BUILD/reel" events stats --config "$work/reel.ini" --data "$work/data" --region "$region" \
        | sed 's/.*"end_offset":\([0-9]*\).*/\1/')
    total=$((total + n))
done

ev_rps=$(cut -d' ' -f1 "$work/events.runs" | median)
ev_p50=$(cut -d' ' -f2 "$work/events.runs" | median)
ev_p99=$(cut -d' ' -f3 "$work/events.runs" | median)
hz_rps=$(cut -d' ' -f1 "$work/healthz.runs" | median)
body=$(cat "$work/body_bytes")
printf "HTTP, %d connections, batches of 100 events (%s bytes), fsync on, %s rounds of %s\n" \
    "$CONNS" "$body" "$ROUNDS" "$DURATION"
printf "%-34s %14s %12s %10s %10s\n" "" "events/s" "requests/s" "p50 ms" "p99 ms"
calc() { awk "BEGIN {print $1}"; }
printf "%-34s %14.0f %12.0f %10s %10s\n" "POST /api/v1/events (median)" \
    "$(calc "$ev_rps * 100")" "$ev_rps" "$ev_p50" "$ev_p99"
printf "%-34s %14s %12.0f\n" "GET /healthz (reference)" "-" "$hz_rps"
printf "batches refused: %s; events in the logs after the run: %s\n" "$bad" "$total"
printf "events/s vs target 300,000: %.2f; event requests/s vs /healthz: %.2f\n" \
    "$(calc "$ev_rps * 100 / 300000")" "$(calc "$ev_rps / $hz_rps")"
[ "$bad" -eq 0 ] || { echo "FAIL: some batches were refused"; exit 1; }

echo
echo "In process (reel-bench-events), batches of 100, fsync on unless noted, ${ROUNDS} rounds of 3 s"
printf "%-34s %14s %10s %10s %14s\n" "" "events/s" "p50 ms" "p99 ms" "batches/fsync"
for spec in "1 1" "8 1" "32 1" "8 0"; do
    set -- $spec
    : >"$work/inproc.runs"
    for i in $(seq 1 "$ROUNDS"); do
        rm -rf "$work/log"
        "$REEL_BUILD/bench/reel-bench-events" "$work/log" "$1" 100 3 "$2" >>"$work/inproc.runs"
    done
    label="$1 thread(s)"
    if [ "$2" = 0 ]; then label="$label, fsync off"; fi
    printf "%-34s %14.0f %10s %10s %14.1f\n" "$label" \
        "$(cut -d' ' -f1 "$work/inproc.runs" | median)" \
        "$(cut -d' ' -f2 "$work/inproc.runs" | median)" \
        "$(cut -d' ' -f3 "$work/inproc.runs" | median)" \
        "$(awk '{a+=$4; s+=$5} END {print (s ? a/s : 0)}' "$work/inproc.runs")"
done
