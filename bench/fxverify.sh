#!/bin/sh
# What the effect verification (issue #16: fx probes and in-situ rows) adds to a full render, as
# CPU time (user + sys from /usr/bin/time, steadier than wall time on a shared machine) of paired
# renders A B A B into fresh output folders: A with it, B without (SG_BENCH_NO_FXVERIFY=1, a
# switch for this bench only). Target: under 5 %.
# Usage: bench/fxverify.sh [BUILD_DIR] [SONG]   (SG_BENCH_RUNS pairs, default 2)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
song=${2:-$root/examples/deja-vu.yaml}
sg=$build/stemgate
runs=${SG_BENCH_RUNS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-fxv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$song" "$tmp/song.yaml"
# CPU seconds (user + sys) of a command
cpu() {
  /usr/bin/time -f "%U %S" -o "$tmp/time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  awk '{printf "%.2f\n", $1 + $2}' "$tmp/time"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
on=""; off=""
for i in $(seq "$runs"); do
  rm -rf "$tmp/a"; a=$(cpu "$sg" render "$tmp/song.yaml" -o "$tmp/a" --quiet); on="$on $a"
  rm -rf "$tmp/b"; b=$(cpu env SG_BENCH_NO_FXVERIFY=1 "$sg" render "$tmp/song.yaml" -o "$tmp/b" --quiet); off="$off $b"
  echo "pair $i: with verification $a s CPU, without $b s CPU"
done
A=$(echo $on | tr ' ' '\n' | median)
B=$(echo $off | tr ' ' '\n' | median)
echo "$A $B" | awk '{x = 100 * ($1 / $2 - 1); printf "  %-44s %+6.1f%%  (%.1f s / %.1f s CPU)  target < 5%%  %s\n",
  "effect verification / full render", x, $1, $2, (x < 5) ? "met" : "MISSED"}'
