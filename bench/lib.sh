# Helpers shared by the benchmark scripts (sourced, not run).

# A free TCP port on 127.0.0.1.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Median of numbers on stdin, one per line.
median() {
    sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# Starts `reel serve` with a config made from config/reel.ini plus overrides
# (lines "section.key=value" in $REEL_OVERRIDES), waits for its port.
# Sets REEL_PID and REEL_URL. $1 = work directory. Gives up if the server
# exits or is not listening within 2 minutes.
start_reel() {
    work=$1
    /usr/bin/python3 - "$work" <<'PY'
import os, re, sys
work = sys.argv[1]
root = os.environ["REEL_ROOT"]
over = {}
for item in os.environ.get("REEL_OVERRIDES", "").split():
    k, v = item.split("=", 1)
    s, key = k.split(".", 1)
    over[(s, key)] = v
out, section, done = [], None, set()
for line in open(os.path.join(root, "config", "reel.ini")).read().splitlines():
    m = re.match(r"^\[(.+)\]\s*$", line)
    if m:
        for (s, k), v in over.items():
            if s == section and (s, k) not in done:
                out.append(f"{k} = {v}"); done.add((s, k))
        section = m.group(1)
    m2 = re.match(r"^([A-Za-z0-9_]+)\s*=", line)
    if m2 and (section, m2.group(1)) in over:
        out.append(f"{m2.group(1)} = {over[(section, m2.group(1))]}"); done.add((section, m2.group(1)))
        continue
    out.append(line)
for (s, k), v in over.items():
    if (s, k) not in done:
        out.append(f"[{s}]"); out.append(f"{k} = {v}")
open(os.path.join(work, "reel.ini"), "w").write("\n".join(out) + "\n")
PY
    "$REEL_BUILD/reel" serve --config "$work/reel.ini" --data "$work/data" \
        --listen 127.0.0.1:0 >"$work/reel.out" 2>"$work/reel.log" &
    REEL_PID=$!
    # A million videos take the engines half a minute to load.
    for _ in $(seq 1 1200); do
        REEL_URL=$(sed -n 's/^listening on //p' "$work/reel.out")
        [ -n "$REEL_URL" ] && return 0
        kill -0 "$REEL_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "reel did not start:" >&2
    cat "$work/reel.log" >&2
    return 1
}

stop_reel() {
    [ -n "${REEL_PID:-}" ] && kill -TERM "$REEL_PID" 2>/dev/null && wait "$REEL_PID" 2>/dev/null || true
    REEL_PID=
}
