#!/bin/sh
# The iteration loop (issue #10), as ratios taken in one paired run (A B A B, medians of the
# runs): a full deja-vu job against the Python peer, a re-render with nothing changed and with
# one stem's effect changed against the full render, and verify against real time. Each figure
# is printed with its target and, when missed, by how much.   Usage: bench/loop.sh [BUILD_DIR]
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
peers=$root/../shared/peers
sg=$build/stemgate
song=$root/examples/deja-vu.yaml
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-loop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
runs=${SG_BENCH_RUNS:-2}

# What the peers need (Debian packages), installed when missing as scripts/deps.sh does.
missing=""
for p in python3-numpy python3-scipy python3-soundfile sox zip bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bench: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
  else
    echo "bench: missing Debian packages; run as root: apt-get install -y$missing" >&2
  fi
fi

# wall seconds of a command
wall() {
  s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; e=$(date +%s.%N)
  echo "$e - $s" | bc
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# ratio target label: prints the figure, met or missed by how much
verdict() {
  echo "$1 $2" | awk -v l="$3" '{r=$1; t=$2; if (r <= t) printf "  %-44s %7.3fx  target <= %.2fx  met\n", l, r, t;
    else printf "  %-44s %7.3fx  target <= %.2fx  MISSED by %.2fx (%.0f%% over)\n", l, r, t, r/t, 100*(r/t-1)}'
}

sed 's/mix: 0.18/mix: 0.19/' "$song" > "$tmp/edit.yaml"
grep -q 'mix: 0.19' "$tmp/edit.yaml" || echo "note: no 'mix: 0.18' in $song; the edit changes nothing"
cp "$song" "$tmp/song.yaml"
full=""; nochange=""; onefx=""; py=""
for i in $(seq "$runs"); do
  rm -rf "$tmp/out"
  f=$(wall "$sg" render "$tmp/song.yaml" -o "$tmp/out" --quiet); full="$full $f"
  n=$(wall "$sg" render "$tmp/song.yaml" -o "$tmp/out" --quiet); nochange="$nochange $n"
  o=$(wall "$sg" render "$tmp/edit.yaml" -o "$tmp/out" --quiet); onefx="$onefx $o"
  if [ -f "$peers/seed_workflow.py" ] && /usr/bin/python3 -c 'import numpy, scipy, soundfile' 2>/dev/null; then
    rm -rf "$tmp/py"; mkdir -p "$tmp/py"
    p=$(cd "$tmp/py" && wall /usr/bin/python3 "$peers/seed_workflow.py"); py="$py $p"
  fi
  echo "run $i: full $f s, nothing changed $n s, one effect $o s, python ${p:-skipped} s"
done
F=$(echo $full | tr ' ' '\n' | median)
N=$(echo $nochange | tr ' ' '\n' | median)
O=$(echo $onefx | tr ' ' '\n' | median)
echo "deja-vu (medians of $runs paired runs): full $F s, nothing changed $N s, one effect changed $O s"
if [ -n "$py" ]; then
  P=$(echo $py | tr ' ' '\n' | median)
  verdict "$(echo "$F / $P" | bc -l)" 0.5 "full deja-vu job / python workflow ($P s)"
else
  echo "  python peer skipped: apt-get install python3-numpy python3-scipy python3-soundfile"
fi
verdict "$(echo "$N / $F" | bc -l)" 0.03 "re-render, nothing changed / full"
verdict "$(echo "$O / $F" | bc -l)" 0.3 "one stem's effect changed / full"
# verify of the default package on one core, against the song's length
zip=$(ls "$tmp/out"/current/*.zip | head -n 1)
v=""; for i in $(seq "$runs"); do v="$v $(wall taskset -c 0 "$sg" verify "$zip" --spec "$tmp/edit.yaml")"; done
V=$(echo $v | tr ' ' '\n' | median)
len=$(awk '/^tempo:/{t=$2} END{print 80*4*60/t}' "$song")
echo "$len $V" | awk '{x=$1/$2; printf "  %-44s %7.1fx  target >= 100x real time  %s\n", "verify x real time (one core)", x, (x >= 100) ? "met" : sprintf("MISSED by %.2fx", 100/x)}'
# peak RSS for 10 and 60-minute songs: not measured here (a 60-minute render takes ~10 min).
# effect verification (#16): CPU time with and without it, paired
"$root/bench/fxverify.sh" "$build" "$song"
