#!/bin/sh
# For You over HTTP (issue 5): GET /api/v1/feed/foryou?limit=10 for many
# signed-in users with wrk, against a catalogue of seeded videos, with a
# background of engagement events training the engine during the run. In the
# same run and on the same server: the popular baseline (GET
# /api/v1/feed/popular, one SQL query per region) and GET /healthz as the
# reference of what the HTTP front does with no work behind it. Rounds
# alternate the three; the table shows medians and ratios.
#
# `reel seed --json` makes USERS users (with a bearer token each) and VIDEOS
# videos; the first TOKENS users are the ones wrk asks for, in turn. Before
# measuring, they post HISTORY_S seconds of views (impressions, watches,
# skips of heavy-tailed random videos), so that they are known to the engine
# rather than all new. bench/foryou_scale.sh runs this at the issue's
# catalogue size (1 million videos, 100,000 users).
#
# The target is a rate with p99 under 10 ms. At saturation the rate hardly
# depends on how many connections wrk keeps open, but the latency grows with
# them (each connection's request waits behind the others'), so For You is
# run at several connection counts (FORYOU_CONNS) and the summary gives the
# highest median rate whose median p99 is under 10 ms, as well as the rate at
# CONNS (the connections popular and /healthz are run with).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export REEL_ROOT=$(cd "$here/.." && pwd)
: "${REEL_BUILD:=$REEL_ROOT/build}"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
FORYOU_CONNS=${FORYOU_CONNS:-8 16 32 $CONNS}
USERS=${USERS:-2000}
VIDEOS=${VIDEOS:-20000}
TOKENS=${TOKENS:-400}
HISTORY_S=${HISTORY_S:-5}

command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh --bench"; exit 1; }

work=$(mktemp -d)
trap 'stop_reel; [ -n "${EV_PID:-}" ] && kill $EV_PID 2>/dev/null; rm -rf "$work"' EXIT

# FORYOU_OVERRIDES: more "section.key=value" settings to try (lib.sh).
REEL_OVERRIDES="log.requests=off limits.rate_ip_per_s=0 limits.rate_token_per_s=0 server.threads=2 security.argon2_ops=1 security.argon2_mem=8k ${FORYOU_OVERRIDES:-}"
export REEL_OVERRIDES
# The config start_reel writes is the one seeding uses too (cheap hashing).
start_reel "$work"
stop_reel
t0=$(date +%s)
"$REEL_BUILD/reel" seed --config "$work/reel.ini" --data "$work/data" --users "$USERS" \
    --videos "$VIDEOS" --no-media --seed 1 --json >"$work/seed.json" 2>/dev/null
echo "seeded $USERS users and $VIDEOS videos in $(( $(date +%s) - t0 )) s"
# The first TOKENS users' tokens and every video id, one per line.
/usr/bin/python3 - "$work" "$TOKENS" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
seed = json.load(open(work + "/seed.json"))
with open(work + "/tokens", "w") as f:
    f.writelines(u["token"] + "\n" for u in seed["users"][:n])
with open(work + "/videos", "w") as f:
    f.writelines(v + "\n" for v in seed["videos"])
PY
rm -f "$work/seed.json"
t0=$(date +%s)
start_reel "$work"
echo "server up in $(( $(date +%s) - t0 )) s"

# Each wrk thread takes its share of the tokens in turn (thread k starts at
# the k-th part), so the threads do not ask for the same users at once.
# wrk starts a thread as soon as its setup() returns, so setup() sets only
# the thread it is given: setting the others' globals from there wrote into
# a running thread's Lua state, which now and then corrupted it ("PANIC:
# ... attempt to call field 'format' (a number value)"). The number of
# threads comes from WRK_THREADS, the -t every wrk here is given.
WRK_THREADS=${WRK_THREADS:-2}
export WRK_THREADS
cat >"$work/users.lua" <<'LUA'
local started = 0
function setup(thread)
    thread:set("part", started)
    started = started + 1
end
tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
function init(args)
    part, parts = part or 0, tonumber(os.getenv("WRK_THREADS")) or 1
    math.randomseed(part + 1)
    user = math.floor(#tokens * part / parts)
end
function next_token()
    user = user % #tokens + 1
    return tokens[user]
end
LUA

# History: views of heavy-tailed random videos (rank = N u^2.5), a third
# watched for 5-40 s, the rest skipped.
cat >"$work/history.lua" <<'LUA'
dofile(os.getenv("USERS_LUA"))
local videos = {}
for line in io.lines(os.getenv("VIDEOS_FILE")) do videos[#videos + 1] = line end
request = function()
    local parts = {}
    for _ = 1, 5 do
        local v = videos[math.floor(#videos * math.random() ^ 2.5) + 1]
        parts[#parts + 1] = '{"type":"impression","video_id":"' .. v .. '"}'
        if math.random() < 0.33 then
            parts[#parts + 1] = '{"type":"watch","video_id":"' .. v .. '","watched_ms":' ..
                                math.random(5000, 40000) .. '}'
        else
            parts[#parts + 1] = '{"type":"skip","video_id":"' .. v .. '"}'
        end
    end
    return wrk.format("POST", "/api/v1/events",
                      {["Authorization"] = "Bearer " .. next_token(),
                       ["Content-Type"] = "application/json"},
                      '{"events":[' .. table.concat(parts, ",") .. ']}')
end
LUA
export TOKENS_FILE="$work/tokens" VIDEOS_FILE="$work/videos" USERS_LUA="$work/users.lua"
wrk -t"$WRK_THREADS" -c16 -d"${HISTORY_S}s" -s "$work/history.lua" "$REEL_URL" | awk '
    /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF}
    END {if (bad > 0) {print "history: non-2xx answers: " bad > "/dev/stderr"; exit 1}
         printf "history: %.0f event posts a second (5 views each) for %s s\n", rps, "'"$HISTORY_S"'"}'

cat >"$work/feed.lua" <<'LUA'
dofile(os.getenv("USERS_LUA"))
local path = os.getenv("FEED_PATH")
request = function()
    return wrk.format("GET", path, {["Authorization"] = "Bearer " .. next_token()})
end
LUA

# Background training: each of the users watches or skips videos it was
# served, a few hundred events a second, so the engine learns while it serves.
/usr/bin/python3 - "$REEL_URL" "$work/tokens" >/dev/null 2>&1 <<'PY' &
import json, random, sys, time, urllib.request
base, tokens = sys.argv[1], open(sys.argv[2]).read().split()
rnd = random.Random(1)
def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
while True:
    t = rnd.choice(tokens)
    items = call("GET", "/api/v1/feed/foryou?limit=10", t)["items"]
    events = []
    for v in items:
        events.append({"type": "impression", "video_id": v["id"]})
        if rnd.random() < 0.4:
            events.append({"type": "watch", "video_id": v["id"], "watched_ms": rnd.randint(5000, 40000)})
        else:
            events.append({"type": "skip", "video_id": v["id"]})
    if events:
        call("POST", "/api/v1/events", t, {"events": events})
    time.sleep(0.01)
PY
EV_PID=$!

# wrk output -> "rps p50_ms p99_ms"; $1 = path, $2 = connections.
run_wrk() {
    FEED_PATH="$1" wrk -t"$WRK_THREADS" -c"$2" -d"$DURATION" --latency -s "$work/feed.lua" "$REEL_URL" | awk '
        /Requests\/sec/ {rps=$2}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        /Non-2xx/ {bad=$NF}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END {if (bad > 0) {print "non-2xx answers: " bad > "/dev/stderr"; exit 1}
             printf "%s %.3f %.3f\n", rps, ms(p50), ms(p99)}'
}

FOR_YOU="/api/v1/feed/foryou?limit=10"
FEED_PATH=$FOR_YOU wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$work/feed.lua" "$REEL_URL" >/dev/null
names=""
for c in $FORYOU_CONNS; do names="$names foryou_c$c"; done
names="$names popular healthz"
for name in $names; do : >"$work/$name.runs"; done
for i in $(seq 1 "$ROUNDS"); do
    for c in $FORYOU_CONNS; do
        run_wrk "$FOR_YOU" "$c" >>"$work/foryou_c$c.runs"
    done
    run_wrk "/api/v1/feed/popular?limit=10" "$CONNS" >>"$work/popular.runs"
    run_wrk "/healthz" "$CONNS" >>"$work/healthz.runs"
done
kill $EV_PID 2>/dev/null || true
EV_PID=

printf "%-36s %6s %10s %10s %10s\n" "endpoint" "conns" "req/s" "p50 ms" "p99 ms"
: >"$work/summary"
for name in $names; do
    rps=$(cut -d' ' -f1 "$work/$name.runs" | median)
    p50=$(cut -d' ' -f2 "$work/$name.runs" | median)
    p99=$(cut -d' ' -f3 "$work/$name.runs" | median)
    case $name in
        foryou_c*) label="GET $FOR_YOU"; conns=${name#foryou_c} ;;
        popular) label="GET /api/v1/feed/popular?limit=10"; conns=$CONNS ;;
        healthz) label="GET /healthz"; conns=$CONNS ;;
    esac
    printf "%-36s %6s %10.0f %10.3f %10.3f\n" "$label" "$conns" "$rps" "$p50" "$p99"
    echo "$name $conns $rps $p99" >>"$work/summary"
done
printf "\nmedians of %s rounds of wrk -t$WRK_THREADS -d%s over %s users' tokens, %s videos,\n" \
    "$ROUNDS" "$DURATION" "$TOKENS" "$VIDEOS"
printf "with a background client sending feed requests and watch/skip events\n"
awk -v conns="$CONNS" '
    {rps[$1] = $3; p99[$1] = $4}
    $1 ~ /^foryou_c/ && $4 < 10 && $3 > best {best = $3; bestc = $2; bestq = $4}
    END {
        f = rps["foryou_c" conns]; h = rps["healthz"]; p = rps["popular"]
        printf "at %s connections: foryou/healthz requests/s = %.2f, foryou/popular = %.2f\n", conns, f/h, f/p
        printf "For You at %s connections: %.0f requests/s with p99 %.2f ms\n", conns, f, p99["foryou_c" conns]
        if (best > 0)
            printf "For You with p99 under 10 ms: %.0f requests/s (%s connections, p99 %.2f ms; target 20000/s)\n", best, bestc, bestq
        else
            printf "For You with p99 under 10 ms: no connection count tried met it (target 20000/s)\n"
    }' "$work/summary"
if grep -q 'event=rec_snapshot_failed' "$work/reel.log"; then
    echo "snapshot failures in the log"
    exit 1
fi
