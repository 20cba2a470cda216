#!/bin/sh
# The iteration loop (issue #10), as ratios taken in one paired run (A B A B, medians of the
# runs): a full deja-vu job against the Python peer; a re-render with nothing changed, with one
# stem's effect changed, with the master's settings changed and with one stem's notes changed,
# each against the full render; and verify on one core against real time. Each figure is
# printed with its target and, when missed, by how much.   Usage: bench/loop.sh [BUILD_DIR]
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

# The edits, each applied on top of the one before, so each render changes one thing:
# one stem's effect (a reverb's mix), then the master's settings (its loudness target), then one
# stem's notes (the bass an octave down).
sed 's/mix: 0.18/mix: 0.19/' "$song" > "$tmp/edit.yaml"
grep -q 'mix: 0.19' "$tmp/edit.yaml" || echo "note: no 'mix: 0.18' in $song; the edit changes nothing"
sed 's/^  loudness_lufs: -14$/  loudness_lufs: -14.2/' "$tmp/edit.yaml" > "$tmp/master.yaml"
grep -q 'loudness_lufs: -14.2' "$tmp/master.yaml" || echo "note: no master loudness_lufs: -14 in $song"
sed 's/^    octave: 0$/    octave: -1/' "$tmp/master.yaml" > "$tmp/notes.yaml"
grep -q 'octave: -1' "$tmp/notes.yaml" || echo "note: no 'octave: 0' in $song; the notes edit changes nothing"
cp "$song" "$tmp/song.yaml"
# CPU seconds (user + sys) of the last render, beside the wall time
cpu() { awk '{print $1 + $2}' "$tmp/time"; }
timed() { /usr/bin/time -o "$tmp/time" -f '%U %S' "$@"; }
full=""; nochange=""; onefx=""; master=""; notes=""; py=""; cfull=""; cfx=""; cmaster=""; cnotes=""
for i in $(seq "$runs"); do
  rm -rf "$tmp/out"
  f=$(wall timed "$sg" render "$tmp/song.yaml" -o "$tmp/out" --quiet); full="$full $f"; cfull="$cfull $(cpu)"
  n=$(wall "$sg" render "$tmp/song.yaml" -o "$tmp/out" --quiet); nochange="$nochange $n"
  o=$(wall timed "$sg" render "$tmp/edit.yaml" -o "$tmp/out" --quiet); onefx="$onefx $o"; cfx="$cfx $(cpu)"
  m=$(wall timed "$sg" render "$tmp/master.yaml" -o "$tmp/out" --quiet); master="$master $m"; cmaster="$cmaster $(cpu)"
  t=$(wall timed "$sg" render "$tmp/notes.yaml" -o "$tmp/out" --quiet); notes="$notes $t"; cnotes="$cnotes $(cpu)"
  if [ -f "$peers/seed_workflow.py" ] && /usr/bin/python3 -c 'import numpy, scipy, soundfile' 2>/dev/null; then
    rm -rf "$tmp/py"; mkdir -p "$tmp/py"
    p=$(cd "$tmp/py" && wall /usr/bin/python3 "$peers/seed_workflow.py"); py="$py $p"
  fi
  echo "run $i: full $f s, nothing changed $n s, one effect $o s, master $m s, notes $t s, python ${p:-skipped} s"
done
med() { echo $1 | tr ' ' '\n' | median; }
F=$(med "$full"); N=$(med "$nochange"); O=$(med "$onefx"); M=$(med "$master"); T=$(med "$notes")
echo "deja-vu (medians of $runs paired runs, wall): full $F s, nothing changed $N s, one effect changed $O s, master settings changed $M s, one stem's notes changed $T s"
echo "  CPU (user + sys): full $(med "$cfull") s, one effect $(med "$cfx") s, master $(med "$cmaster") s, notes $(med "$cnotes") s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$py" ]; then
  P=$(med "$py")
  verdict "$(echo "$F / $P" | bc -l)" 0.5 "full deja-vu job / python workflow ($P s)"
else
  echo "  python peer skipped: apt-get install python3-numpy python3-scipy python3-soundfile"
fi
verdict "$(echo "$N / $F" | bc -l)" 0.03 "re-render, nothing changed / full"
verdict "$(echo "$O / $F" | bc -l)" 0.3 "one stem's effect changed / full"
verdict "$(echo "$M / $F" | bc -l)" 0.3 "master settings changed / full"
verdict "$(echo "$T / $F" | bc -l)" 0.4 "one stem's notes changed / full"
# verify of the default package on one core (taskset), against the song's length as rendered
zip=$(ls "$tmp/out"/current/*.zip | head -n 1)
len=$("$sg" render "$tmp/notes.yaml" -o "$tmp/out" --quiet 2>&1 | sed -n 's/.*(\([0-9.]*\) s song.*/\1/p' | tail -n 1)
v=""; cv=""
for i in $(seq "$runs"); do
  v="$v $(wall timed taskset -c 0 "$sg" verify "$zip" --spec "$tmp/notes.yaml")"; cv="$cv $(cpu)"
done
V=$(med "$v"); CV=$(med "$cv")
# Wall time on one pinned core is the figure; its CPU time (user + sys) is printed beside it,
# since on a loaded machine the wall time also counts waiting for the core.
echo "${len:-0} $V $CV" | awk '{x=($2 > 0) ? $1/$2 : 0; printf "  %-44s %7.1fx  target >= 100x real time  %s (CPU %.2f s: %.1fx)\n", "verify x real time (one core, " $2 " s for " $1 " s)", x, (x >= 100) ? "met" : sprintf("MISSED by %.2fx", (x > 0) ? 100/x : 0), $3, ($3 > 0) ? $1/$3 : 0}'
# peak RSS for 10 and 60-minute songs: not measured here (a 60-minute render takes ~10 min).
# effect verification (#16): CPU time with and without it, paired (SG_BENCH_SKIP_FXVERIFY=1: not)
[ "${SG_BENCH_SKIP_FXVERIFY:-0}" = 1 ] || "$root/bench/fxverify.sh" "$build" "$song"
