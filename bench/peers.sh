#!/bin/sh
# Side-by-side benchmark: stemgate against the workflows it replaces (../shared/peers), on the
# same machine in one run, reported as ratios (machines here are noisy; absolute times are not
# comparable across runs). Usage: bench/peers.sh [BUILD_DIR]   (default: build)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
peers=$root/../shared/peers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# seconds of wall time and peak RSS (KiB) of a command, via GNU time when present
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1 || return 1
    cat "$tmp/t"
  else
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; e=$(date +%s.%N)
    echo "$(echo "$e - $s" | bc) 0"
  fi
}

echo "stemgate: render + verify of bench/seed-equivalent.yaml (137 s, 5 stems, every gate)"
sg=$(measure "$build/stemgate" render "$root/bench/seed-equivalent.yaml" -o "$tmp/sg" --force)
echo "  $sg  (s, KiB)"
if [ -f "$peers/sox_pipeline.sh" ] && command -v sox >/dev/null && command -v zip >/dev/null; then
  echo "sox + zip peer (sine stems, no verification)"
  sx=$(cd "$tmp" && measure sh "$peers/sox_pipeline.sh")
  echo "  $sx  (s, KiB)"
  echo "$sg $sx" | awk '{printf "  ratio stemgate/sox: %.2fx time, %.2fx memory\n", $1/$3, $2/($4>0?$4:1)}'
fi
if [ -f "$peers/seed_workflow.py" ] && /usr/bin/python3 -c 'import numpy, scipy, soundfile' 2>/dev/null; then
  echo "python seed workflow (numpy/scipy/soundfile)"
  mkdir -p "$tmp/py"
  py=$(cd "$tmp/py" && measure /usr/bin/python3 "$peers/seed_workflow.py")
  echo "  $py  (s, KiB)"
  echo "$sg $py" | awk '{printf "  ratio stemgate/python: %.2fx time, %.2fx memory\n", $1/$3, $2/$4}'
else
  echo "python peer skipped: apt-get install python3-numpy python3-scipy python3-soundfile"
fi
