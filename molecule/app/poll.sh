#!/bin/sh
# Requests URL over and over until STOPFILE exists, one HTTP status per line in OUT (000: no
# answer), so a play can check a site answered throughout a change made meanwhile.
# Usage: poll.sh URL STOPFILE OUT
set -eu
url=$1 stop=$2 out=$3
: > "$out"
while [ ! -e "$stop" ]; do
    curl --silent --insecure --max-time 10 --output /dev/null --write-out '%{http_code}\n' "$url" >> "$out" || true
    sleep 0.05
done
