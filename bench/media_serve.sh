#!/bin/sh
# Media serving and upload streaming.
#
#   - GET /media/{id}/720.mp4 of a seeded clip with wrk: a player's first
#     request (Range: bytes=0-65535, 206) and the whole file (200), against
#     nginx serving the same file from the same disk on the same cores
#     (2 workers, sendfile on, access_log off; reel: 2 event threads,
#     request logging and rate limits off). Rounds alternate servers; the
#     table shows medians and reel/nginx ratios.
#   - Upload streaming: a 256 MiB file through POST /api/v1/videos
#     (multipart, streamed to disk, then probed: random bytes are refused
#     422 once read) and through one resumable PATCH (appended, fdatasynced),
#     against dd writing the same bytes with conv=fdatasync. Medians of 3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export REEL_ROOT=$(cd "$here/.." && pwd)
: "${REEL_BUILD:=$REEL_ROOT/build}"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
UPLOAD_MB=${UPLOAD_MB:-256}

command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh --bench"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is missing"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
trap 'stop_reel; [ -f "$work/nginx.pid" ] && kill $(cat "$work/nginx.pid") 2>/dev/null; rm -rf "$work"' EXIT

REEL_OVERRIDES="log.requests=off log.level=warn limits.rate_ip_per_s=0 limits.rate_token_per_s=0 server.threads=2 security.argon2_ops=1 security.argon2_mem=8k media.max_upload_bytes=1g media.daily_quota_bytes=0 media.daily_quota_videos=0"
export REEL_OVERRIDES
# The config file is written by start_reel; seed needs it first.
start_reel "$work"
stop_reel
"$REEL_BUILD/reel" seed --config "$work/reel.ini" --data "$work/data" --users 1 --videos 1 \
    --max-seconds 10 --seed 3 --json >"$work/seed.json" 2>/dev/null
start_reel "$work"
video=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["videos"][0])' "$work/seed.json")
token=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["users"][0]["token"])' "$work/seed.json")
file=$(ls "$work"/data/sites/*/media/"$video"/720.mp4 | head -1)
mkdir -p "$work/www/media/$video" "$work/tmp"
cp "$file" "$work/www/media/$video/720.mp4"
# nginx's workers drop root: let them read the copy (mktemp -d is 0700).
chmod 755 "$work" && chmod -R a+rX "$work/www"
size=$(wc -c <"$file")

nginx_port=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    types { video/mp4 mp4; }
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
NGINX
"$NGINX" -c "$work/nginx.conf" -p "$work"
sleep 0.5
path="/media/$video/720.mp4"
# Both must have sent the file, not an error page.
for url in "$REEL_URL$path" "http://127.0.0.1:$nginx_port$path"; do
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")
    [ "$got" = "200 $size" ] || { echo "$url answered $got, not the file"; exit 1; }
done

# wrk output -> "rps p50_ms p99_ms MB/s"
run_wrk() {
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$@" | awk '
        /Requests\/sec/ {rps=$2}
        /Transfer\/sec/ {v=$2; if (v ~ /GB$/) mb=v*1024; else if (v ~ /MB$/) mb=v+0; else if (v ~ /KB$/) mb=v/1024; else mb=v/1048576}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END {printf "%s %.3f %.3f %.1f\n", rps, ms(p50), ms(p99), mb}'
}

printf "%-34s %-6s %10s %9s %9s %9s\n" "request" "server" "req/s" "p50 ms" "p99 ms" "MB/s"
summary=""
for kind in range whole; do
    case $kind in
        range) label="Range: bytes=0-65535 (206)"; set -- -H "Range: bytes=0-65535" ;;
        whole) label="whole file, $size bytes (200)"; set -- ;;
    esac
    : >"$work/reel.runs"; : >"$work/nginx.runs"
    wrk -t2 -c"$CONNS" -d1s "$@" "$REEL_URL$path" >/dev/null   # warm-up
    for i in $(seq 1 "$ROUNDS"); do
        run_wrk "$@" "$REEL_URL$path" >>"$work/reel.runs"
        run_wrk "$@" "http://127.0.0.1:$nginx_port$path" >>"$work/nginx.runs"
    done
    for server in reel nginx; do
        rps=$(cut -d' ' -f1 "$work/$server.runs" | median)
        p50=$(cut -d' ' -f2 "$work/$server.runs" | median)
        p99=$(cut -d' ' -f3 "$work/$server.runs" | median)
        mbs=$(cut -d' ' -f4 "$work/$server.runs" | median)
        printf "%-34s %-6s %10.0f %9.3f %9.3f %9.1f\n" "$label" "$server" "$rps" "$p50" "$p99" "$mbs"
        eval "${server}_rps=$rps"
    done
    ratio=$(awk -v a="$reel_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a/b}')
    summary="$summary$label: reel/nginx requests/s = $ratio\n"
done
printf "\nmedians of %s rounds of wrk -t2 -c%s -d%s, alternating servers\n" "$ROUNDS" "$CONNS" "$DURATION"
printf "$summary"

# ---- upload streaming ------------------------------------------------------
head -c "$((UPLOAD_MB * 1048576))" /dev/urandom >"$work/upload.bin"
seconds() { /usr/bin/python3 -c 'import time; print(time.monotonic())'; }
: >"$work/form.runs"; : >"$work/patch.runs"; : >"$work/dd.runs"
for i in 1 2 3; do
    t0=$(seconds)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        -F "file=@$work/upload.bin" "$REEL_URL/api/v1/videos")
    t1=$(seconds)
    [ "$code" = 422 ] || { echo "multipart upload answered $code"; exit 1; }
    echo "$t0 $t1" | awk -v mb="$UPLOAD_MB" '{print mb / ($2 - $1)}' >>"$work/form.runs"

    url=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"size\": $((UPLOAD_MB * 1048576))}" "$REEL_URL/api/v1/uploads" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
    t0=$(seconds)
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' \
        --data-binary "@$work/upload.bin" "$REEL_URL$url")
    t1=$(seconds)
    [ "$code" = 204 ] || { echo "PATCH answered $code"; exit 1; }
    echo "$t0 $t1" | awk -v mb="$UPLOAD_MB" '{print mb / ($2 - $1)}' >>"$work/patch.runs"
    curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $token" "$REEL_URL$url"

    t0=$(seconds)
    dd if="$work/upload.bin" of="$work/dd.out" bs=1M conv=fdatasync status=none
    t1=$(seconds)
    rm -f "$work/dd.out"
    echo "$t0 $t1" | awk -v mb="$UPLOAD_MB" '{print mb / ($2 - $1)}' >>"$work/dd.runs"
done
form=$(median <"$work/form.runs"); patch=$(median <"$work/patch.runs"); ddr=$(median <"$work/dd.runs")
printf "\nupload of %s MiB, medians of 3 (MB/s)\n" "$UPLOAD_MB"
printf "%-52s %9.0f\n" "POST /api/v1/videos (multipart, stream + probe)" "$form"
printf "%-52s %9.0f\n" "PATCH /api/v1/uploads/{id} (append + fdatasync)" "$patch"
printf "%-52s %9.0f\n" "dd conv=fdatasync (the disk, reference)" "$ddr"
awk -v a="$patch" -v b="$ddr" 'BEGIN {printf "PATCH / dd = %.2f\n", a/b}'
