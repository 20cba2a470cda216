#!/bin/sh
# Writes to stdout a spec of about MINUTES minutes with the default song's stems, effects and
# drums (examples/deja-vu.yaml), its sections repeated as verse/chorus pairs: the input of the
# memory figure (peak RSS must not grow with the song).   Usage: bench/long-song.sh MINUTES
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
min=${1:?usage: long-song.sh MINUTES}
# 140 BPM, 4/4: 35 bars a minute; pairs of sections of 8 bars, or of a multiple of 8 when the
# song would need more than 120 sections (the spec allows 128).
sb=$(( 8 * ((min * 35 + 959) / 960) ))
pairs=$(( (min * 35 + 2 * sb - 1) / (2 * sb) ))
sed -n '/^title:/,/^sections:/p' "$root/examples/deja-vu.yaml" | sed 's/^title:.*/title: Long/'
i=0
while [ "$i" -lt "$pairs" ]; do
  i=$((i + 1))
  printf '  - name: verse %d\n    bars: %d\n    chords: "Gmaj7 | Em7 | Am7 | D7"\n' "$i" "$sb"
  printf '  - name: chorus %d\n    bars: %d\n    energy: full\n    chords: "Cmaj7 | Bm7 | Em7 | A7"\n' "$i" "$sb"
done
echo
sed -n '/^stems:/,$p' "$root/examples/deja-vu.yaml" | sed 's/sections: \[bridge\]/sections: [chorus 1]/'
