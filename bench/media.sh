#!/bin/sh
# Media benchmark (issue 4): transcoding a 60 s 1080x1920 source to Reel's
# whole ladder (1080x1920, 720x1280, 360x640 H.264 + AAC MP4 with faststart,
# and the JPEG thumbnail), against the `ffmpeg` program doing the same ladder
# with the same settings in the same run:
#   - one decode of the source, split three ways, each branch scaled with
#     bicubic and padded to its rung, setsar=1, yuv420p (the filter graph
#     Reel builds, written out);
#   - libx264 with the same preset, CRF and threads (the [media] defaults of
#     config/reel.ini); AAC stereo 48 kHz at the same bit rate; timestamps
#     passed through; +faststart; the thumbnail from the 720 branch at 1 s.
# Rounds alternate reel/ffmpeg; the table shows medians of wall time (the
# target: reel/ffmpeg at most 1.1) and of CPU time (user+sys, which the
# other tenants of a shared machine disturb less).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
REEL_ROOT=$(cd "$here/.." && pwd)
: "${REEL_BUILD:=$REEL_ROOT/build}"
ROUNDS=${ROUNDS:-3}
SECONDS_OF_VIDEO=${SECONDS_OF_VIDEO:-60}
BENCH="$REEL_BUILD/bench/reel-bench-media"

command -v ffmpeg >/dev/null || { echo "ffmpeg is missing: scripts/deps.sh"; exit 1; }
[ -x "$BENCH" ] || { echo "$BENCH is missing: build $REEL_BUILD first"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

src="$work/source.mp4"
"$BENCH" synth "$src" "$SECONDS_OF_VIDEO"
set -- $("$BENCH" settings)
preset=$1 crf=$2 threads=$3 abr=$4

graph="[0:v]split=3[s0][s1][s2];"
graph="$graph[s0]scale=w=1080:h=1920:flags=bicubic,pad=w=1080:h=1920:x=0:y=0:color=black,setsar=1,format=yuv420p[o0];"
graph="$graph[s1]scale=w=720:h=1280:flags=bicubic,pad=w=720:h=1280:x=0:y=0:color=black,setsar=1,format=yuv420p,split=2[o1][t];"
graph="$graph[s2]scale=w=360:h=640:flags=bicubic,pad=w=360:h=640:x=0:y=0:color=black,setsar=1,format=yuv420p[o2];"
graph="$graph[t]trim=start=1,setpts=PTS-STARTPTS[th];"
graph="$graph[0:a]aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,asplit=3[a0][a1][a2]"

rendition() { # $1 video label, $2 audio label, $3 file
    echo "-map [$1] -map [$2] -c:v libx264 -preset $preset -crf $crf -threads $threads" \
         "-c:a aac -b:a $abr -fps_mode passthrough -movflags +faststart $3"
}

run_ffmpeg() {
    out=$1
    # shellcheck disable=SC2046
    ffmpeg -hide_banner -v error -y -i "$src" -filter_complex "$graph" \
        $(rendition o0 a0 "$out/1080.mp4") \
        $(rendition o1 a1 "$out/720.mp4") \
        $(rendition o2 a2 "$out/360.mp4") \
        -map "[th]" -frames:v 1 -q:v 3 "$out/thumb.jpg"
}

run_reel() {
    "$BENCH" transcode "$src" "$1"
}

now() { date +%s.%N; }

# CPU seconds (user + sys) used so far by this shell's finished children,
# from the second line of the `times` builtin ("0m20.370s 0m0.570s"). Sets
# $cpu; `times` must run in this shell, not in a $(...) subshell.
children_cpu() {
    times >"$work/times.out"
    cpu=$(awk 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$work/times.out")
}

echo "source: ${SECONDS_OF_VIDEO} s 1080x1920 30 fps H.264 + AAC; x264 preset=$preset crf=$crf threads=$threads; AAC $abr b/s; $ROUNDS rounds"
: >"$work/reel.times"
: >"$work/ffmpeg.times"
: >"$work/reel.cpu"
: >"$work/ffmpeg.cpu"
for round in $(seq 1 "$ROUNDS"); do
    for who in reel ffmpeg; do
        out="$work/out-$who-$round"
        mkdir -p "$out"
        children_cpu
        c0=$cpu
        t0=$(now)
        "run_$who" "$out"
        t1=$(now)
        children_cpu
        c1=$cpu
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$work/$who.times"
        awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f\n", b - a }' >>"$work/$who.cpu"
        for f in 1080.mp4 720.mp4 360.mp4 thumb.jpg; do
            [ -s "$out/$f" ] || { echo "$who made no $f"; exit 1; }
        done
        rm -rf "$out"
    done
    printf 'round %d: reel %.2f s (cpu %.2f s), ffmpeg %.2f s (cpu %.2f s)\n' "$round" \
        "$(tail -n1 "$work/reel.times")" "$(tail -n1 "$work/reel.cpu")" \
        "$(tail -n1 "$work/ffmpeg.times")" "$(tail -n1 "$work/ffmpeg.cpu")"
done

reel=$(median <"$work/reel.times")
ffm=$(median <"$work/ffmpeg.times")
ratio=$(awk -v a="$reel" -v b="$ffm" 'BEGIN { printf "%.3f", a / b }')
reel_cpu=$(median <"$work/reel.cpu")
ffm_cpu=$(median <"$work/ffmpeg.cpu")
cpu_ratio=$(awk -v a="$reel_cpu" -v b="$ffm_cpu" 'BEGIN { printf "%.3f", a / b }')
printf '%-34s %10s %10s %8s\n' "${SECONDS_OF_VIDEO} s 1080x1920 -> ladder, median of $ROUNDS" \
    "reel (s)" "ffmpeg (s)" "ratio"
printf '%-34s %10.2f %10.2f %8.3f\n' "wall time" "$reel" "$ffm" "$ratio"
printf '%-34s %10.2f %10.2f %8.3f\n' "cpu time (user+sys)" "$reel_cpu" "$ffm_cpu" "$cpu_ratio"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 1.1) }'; then
    echo "target reel/ffmpeg <= 1.1: met"
else
    echo "target reel/ffmpeg <= 1.1: NOT met"
    exit 1
fi
