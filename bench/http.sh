#!/bin/sh
# HTTP front benchmark (issue 2): GET /healthz and GET /api/v1/users/{id}
# with wrk, against nginx serving a static file of the same size in the same
# run. Both servers get the same two cores and the same wrk settings; nginx
# runs 2 workers with access_log off and unlimited keep-alive requests, reel
# runs 2 event threads with request logging off and rate limits off.
# Rounds alternate reel/nginx; the table shows medians and reel/nginx ratios.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export REEL_ROOT=$(cd "$here/.." && pwd)
: "${REEL_BUILD:=$REEL_ROOT/build}"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}

command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh --bench"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is missing"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
trap 'stop_reel; [ -f "$work/nginx.pid" ] && kill $(cat "$work/nginx.pid") 2>/dev/null; rm -rf "$work"' EXIT

REEL_OVERRIDES="log.requests=off limits.rate_ip_per_s=0 limits.rate_token_per_s=0 server.threads=2 security.argon2_ops=1 security.argon2_mem=8k"
export REEL_OVERRIDES
start_reel "$work"

user_json=$(curl -sf -X POST "$REEL_URL/api/v1/accounts" -H 'Content-Type: application/json' \
    -d '{"username":"bench_user","password":"bench password","email":"bench@example.com","country":"DE"}')
user_id=$(printf '%s' "$user_json" | /usr/bin/python3 -c 'import sys,json; print(json.load(sys.stdin)["user"]["id"])')
mkdir -p "$work/www"
curl -sf "$REEL_URL/healthz" >"$work/www/healthz"
curl -sf "$REEL_URL/api/v1/users/$user_id" >"$work/www/user"

nginx_port=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
NGINX
mkdir -p "$work/tmp"
"$NGINX" -c "$work/nginx.conf" -p "$work"
sleep 0.5

# wrk output -> "rps p50_ms p99_ms"
run_wrk() {
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$1" | awk '
        /Requests\/sec/ {rps=$2}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END {printf "%s %.3f %.3f\n", rps, ms(p50), ms(p99)}'
}

printf "%-28s %-6s %12s %10s %10s\n" "endpoint (bytes)" "server" "req/s" "p50 ms" "p99 ms"
summary=""
for target in healthz user; do
    case $target in
        healthz) reel_url="$REEL_URL/healthz"; label="GET /healthz" ;;
        user) reel_url="$REEL_URL/api/v1/users/$user_id"; label="GET /api/v1/users/{id}" ;;
    esac
    size=$(wc -c <"$work/www/$target")
    : >"$work/reel.runs"; : >"$work/nginx.runs"
    wrk -t2 -c"$CONNS" -d1s "$reel_url" >/dev/null   # warm-up
    for i in $(seq 1 "$ROUNDS"); do
        run_wrk "$reel_url" >>"$work/reel.runs"
        run_wrk "http://127.0.0.1:$nginx_port/$target" >>"$work/nginx.runs"
    done
    for server in reel nginx; do
        rps=$(cut -d' ' -f1 "$work/$server.runs" | median)
        p50=$(cut -d' ' -f2 "$work/$server.runs" | median)
        p99=$(cut -d' ' -f3 "$work/$server.runs" | median)
        printf "%-28s %-6s %12.0f %10.3f %10.3f\n" "$label ($size)" "$server" "$rps" "$p50" "$p99"
        eval "${server}_rps=$rps"
    done
    ratio=$(awk -v a="$reel_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a/b}')
    summary="$summary$label: reel/nginx requests/s = $ratio (target >= 0.80)\n"
done
printf "\nmedians of %s rounds of wrk -t2 -c%s -d%s, alternating servers\n" "$ROUNDS" "$CONNS" "$DURATION"
printf "$summary"
