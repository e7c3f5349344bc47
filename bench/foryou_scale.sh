#!/bin/sh
# For You over HTTP at the issue's catalogue size: bench/foryou.sh with
# 1,000,000 videos and 100,000 signed-in users (reel seed's most), every one
# of them asked for in turn, after 30 s of posted views. Seeding takes about
# 7 minutes; the server starts in about half a minute and holds about 1.5 GB.
# The in-process bench (rec.sh) covers the 10 million users.
here=$(cd "$(dirname "$0")" && pwd)
USERS=${USERS:-100000} VIDEOS=${VIDEOS:-1000000} TOKENS=${TOKENS:-100000} \
    HISTORY_S=${HISTORY_S:-30} ROUNDS=${ROUNDS:-3} exec sh "$here/foryou.sh"
