#!/bin/sh
# Peak memory against song length (issue #10, target 6: <= 64 MB for a 10-minute song, a
# 60-minute song within 10 % of it). Renders examples/minimal.yaml stretched to each length
# (one section of 30 bars a minute at 120 BPM; dx7 keys and synthesized drums, the cheapest song
# that runs every step: what grows with length is the analysis, not the instruments) and prints
# the peak RSS (/usr/bin/time -f %M) and CPU of each render, then the growth per minute.
# bench/long-song.sh MINUTES gives the default song's stems instead (far slower).
# Not run by make check.   Usage: bench/memory.sh [BUILD_DIR] [MINUTES...]   (default 1 10 60)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
mins=${*:-1 10 60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-memory.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
first=""
for m in $mins; do
  # verify analyses at most 3600 s and the song's tail adds ~4 s: 60 minutes is 1796 bars.
  bars=$((m * 30))
  [ "$bars" -gt 1796 ] && bars=1796
  sed "s/^    bars: 8$/    bars: $bars/" "$root/examples/minimal.yaml" > "$tmp/song$m.yaml"
  grep -q "bars: $bars" "$tmp/song$m.yaml" || { echo "memory: cannot stretch minimal.yaml" >&2; exit 1; }
  /usr/bin/time -o "$tmp/time" -f '%M %U %S %e' "$build/stemgate" render "$tmp/song$m.yaml" \
    -o "$tmp/out$m" --quiet >/dev/null
  set -- $(cat "$tmp/time")
  kb=$1
  echo "$m min: peak RSS $(echo "$kb / 1024" | bc -l | xargs printf '%.1f') MB, CPU $(echo "$2 + $3" | bc) s, wall $4 s"
  if [ -z "$first" ]; then first="$m $kb"; fi
  last="$m $kb"
  rm -rf "$tmp/out$m"
done
echo "$first $last" | awk '$3 > $1 { g = ($4 - $2) / 1024 / ($3 - $1)
  printf "growth: %.2f MB a minute between %d and %d minutes", g, $1, $3
  if ($3 < 60) printf " (straight line to 60 minutes: %.0f MB)", $4 / 1024 + g * (60 - $3)
  printf "\n" }'
echo "target: <= 64 MB at 10 minutes, 60 minutes within 10 % of it; load average $(cut -d' ' -f1-3 /proc/loadavg)"
