#!/bin/sh
# Side-by-side benchmark: stemgate against the workflows it replaces (../shared/peers), on the
# same machine in one run, paired (A B C A B C ...), medians, reported as ratios with the issue's
# targets (#10 target 2: seed-equivalent <= 0.2x the Python workflow and faster than the SoX
# script). Machines here are noisy; absolute times are not comparable across runs.
# Usage: bench/peers.sh [BUILD_DIR]   (default: build; SG_BENCH_RUNS=3 for medians of three)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
peers=$root/../shared/peers
runs=${SG_BENCH_RUNS:-2}
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
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
med() { echo $1 | tr ' ' '\n' | median; }
# ratio target label: the figure, met or missed by how much
verdict() {
  echo "$1 $2" | awk -v l="$3" '{r=$1; t=$2; if (r <= t) printf "  %-46s %7.3fx  target <= %.2fx  met\n", l, r, t;
    else printf "  %-46s %7.3fx  target <= %.2fx  MISSED by %.2fx (%.0f%% over)\n", l, r, t, r/t, 100*(r/t-1)}'
}

have_sox=0; have_py=0
[ -f "$peers/sox_pipeline.sh" ] && command -v sox >/dev/null && command -v zip >/dev/null && have_sox=1
[ -f "$peers/seed_workflow.py" ] && /usr/bin/python3 -c 'import numpy, scipy, soundfile' 2>/dev/null && have_py=1
sg_t=""; sg_m=""; sx_t=""; sx_m=""; py_t=""; py_m=""
for i in $(seq "$runs"); do
  r=$(measure "$build/stemgate" render "$root/bench/seed-equivalent.yaml" -o "$tmp/sg" --force)
  sg_t="$sg_t ${r% *}"; sg_m="$sg_m ${r#* }"
  line="run $i: stemgate ${r% *} s"
  if [ $have_sox = 1 ]; then
    rm -rf "$tmp/sx"; mkdir -p "$tmp/sx"
    # the peer leaves its own mktemp folder behind: made inside ours, which goes at exit
    r=$(cd "$tmp/sx" && export TMPDIR="$tmp/sx" && measure sh "$peers/sox_pipeline.sh"); sx_t="$sx_t ${r% *}"; sx_m="$sx_m ${r#* }"
    line="$line, sox ${r% *} s"
  fi
  if [ $have_py = 1 ]; then
    rm -rf "$tmp/py"; mkdir -p "$tmp/py"
    r=$(cd "$tmp/py" && measure /usr/bin/python3 "$peers/seed_workflow.py"); py_t="$py_t ${r% *}"; py_m="$py_m ${r#* }"
    line="$line, python ${r% *} s"
  fi
  echo "$line"
done
S=$(med "$sg_t")
echo "bench/seed-equivalent.yaml (137 s, 5 stems, every gate, mastered, zipped, verified from the archive)"
echo "  stemgate: $S s wall, $(med "$sg_m") KiB peak RSS (medians of $runs)"
if [ $have_sox = 1 ]; then
  X=$(med "$sx_t")
  echo "  sox + zip peer (sine stems, no verification): $X s, $(med "$sx_m") KiB"
  verdict "$(echo "$S / $X" | bc -l)" 1.0 "stemgate / sox pipeline"
else
  echo "  sox peer skipped: apt-get install sox zip"
fi
if [ $have_py = 1 ]; then
  P=$(med "$py_t")
  echo "  python seed workflow (numpy/scipy/soundfile): $P s, $(med "$py_m") KiB"
  verdict "$(echo "$S / $P" | bc -l)" 0.2 "stemgate / python workflow"
else
  echo "  python peer skipped: apt-get install python3-numpy python3-scipy python3-soundfile"
fi
