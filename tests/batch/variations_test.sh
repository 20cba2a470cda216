#!/bin/sh
# stemgate batch over one spec's variations with the shared node cache:
# - three variants differing only in the drums' seed: Bass and Keys (dry and fx nodes) are
#   rendered once, the two other variants report them as shared cache hits, the drums never;
# - every variant's delivered files equal a render of that variant alone without the cache;
# - two shards started at once on one output root and one cache, merged, give the index and
#   files of one process;
# - a corrupted cache entry is detected, not used, and rebuilt;
# - a bad variation value fails at load with file:line:col, before anything renders.
# usage: variations_test.sh STEMGATE SOURCE_DIR
set -u
SG=$1
SRC=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/sg-variations.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$W" || exit 1
cp "$SRC"/tests/batch/variations/*.yaml .
export SOURCE_DATE_EPOCH=946684800
V="drums_seed1 drums_seed2 drums_seed3"
shas() { (cd "$1" && find -L . -path '*/current/*' -type f | LC_ALL=C sort | xargs sha256sum); }

# One process, shared cache in single/.cache (the default).
"$SG" batch drums3.yaml -o single --jobs 1 >single.log 2>&1 || { cat single.log; fail "batch failed"; }
[ "$(wc -l <single/index.jsonl)" -eq 3 ] || fail "index does not have 3 lines"
[ "$(grep -c '"verdict":"pass"' single/index.jsonl)" -eq 3 ] || fail "not every variant passed"
for v in $V; do
  grep -q "\"variant\":\"$v\",.*\"folder\":\"drums3-$v\"" single/index.jsonl ||
    { cat single/index.jsonl; fail "no index line for variant $v"; }
done
# The first variant rendered everything; the other two took Bass and Keys from the cache.
grep -q 'drums3-drums_seed1: shared cache hit' single.log && { cat single.log; fail "first variant had cache hits"; }
for v in drums_seed2 drums_seed3; do
  line=$(grep "drums3-$v: shared cache hit" single.log) || { cat single.log; fail "$v: no shared cache hit"; }
  for n in 'dry Bass' 'fx Bass' 'dry Keys' 'fx Keys'; do
    echo "$line" | grep -q "\[$n\]" || fail "$v: $n not a shared cache hit: $line"
  done
  echo "$line" | grep -q 'Drums' && fail "$v: the drums (another seed) came from the cache: $line"
done
# The cache holds each shared node once: dry and fx of Bass and Keys, and of each drums.
[ "$(find single/.cache -name record.json | wc -l)" -eq 10 ] ||
  { find single/.cache; fail "the cache does not hold 10 entries (2 x (2 stems + 3 drums))"; }
# Same Bass, other drums.
b1=$(sha256sum <single/drums3-drums_seed1/current/batch-variations_Bass.wav)
b2=$(sha256sum <single/drums3-drums_seed2/current/batch-variations_Bass.wav)
d1=$(sha256sum <single/drums3-drums_seed1/current/batch-variations_Drums.wav)
d2=$(sha256sum <single/drums3-drums_seed2/current/batch-variations_Drums.wav)
[ "$b1" = "$b2" ] || fail "Bass differs between variants of the drums' seed"
[ "$d1" != "$d2" ] || fail "the drums' seed changed nothing"

# Every variant alone, no shared cache: the same bytes.
for v in $V; do
  "$SG" render drums3.yaml --variant "$v" -o "alone/drums3-$v" --quiet >>alone.log 2>&1 ||
    { cat alone.log; fail "render --variant $v failed"; }
done
shas single >single.sha
shas alone >alone.sha
[ "$(wc -l <single.sha)" -ge 15 ] || fail "fewer delivered files than expected"
cmp single.sha alone.sha || { diff single.sha alone.sha; fail "a variant differs from its render alone"; }
grep -q 'shared cache hit' alone.log && fail "a render without --cache reported a shared hit"

# Two shards at once, one root, one cache; merged.
"$SG" batch drums3.yaml -o sh --shard 0/2 --jobs 1 >s0.log 2>&1 &
p0=$!
"$SG" batch drums3.yaml -o sh --shard 1/2 --jobs 1 >s1.log 2>&1 &
p1=$!
wait $p0 || { cat s0.log; fail "shard 0/2 failed"; }
wait $p1 || { cat s1.log; fail "shard 1/2 failed"; }
[ "$(wc -l <sh/index.0-of-2.jsonl)" -eq 2 ] || fail "shard 0 does not hold variants 1 and 3"
[ "$(wc -l <sh/index.1-of-2.jsonl)" -eq 1 ] || fail "shard 1 does not hold variant 2"
grep -q '"variant":"drums_seed2"' sh/index.1-of-2.jsonl || fail "variant 2 not in shard 1"
"$SG" batch --merge sh >merge.log 2>&1 || { cat merge.log; fail "merge failed"; }
cmp sh/index.jsonl single/index.jsonl || { diff sh/index.jsonl single/index.jsonl; fail "sharded index differs"; }
shas sh >sh.sha
cmp sh.sha single.sha || { diff sh.sha single.sha; fail "sharded files differ"; }
ls sh/.cache/tmp 2>/dev/null | grep -q . && fail "temporary cache folders left: $(ls sh/.cache/tmp)"
[ "$(find sh/.cache -name record.json | wc -l)" -eq 10 ] || fail "the shards' cache does not hold 10 entries"

# A corrupted entry: every cached file gets one byte changed. A new song folder finds the
# entries, sees they no longer hash to their records, renders, and publishes good ones.
for f in single/.cache/*/*/f0; do printf 'X' | dd of="$f" bs=1 seek=3000 conv=notrunc 2>/dev/null; done
"$SG" render drums3.yaml --variant drums_seed2 -o fresh --cache single/.cache >fresh.log 2>&1 ||
  { cat fresh.log; fail "render after corrupting the cache failed"; }
grep -q 'shared cache hit' fresh.log && { cat fresh.log; fail "a corrupted entry was used"; }
[ "$(shas fresh | sed 's|\./fresh/||' | awk '{print $1}')" = "$(grep drums3-drums_seed2 single.sha | awk '{print $1}')" ] ||
  fail "the render beside a corrupted cache differs"
"$SG" render drums3.yaml --variant drums_seed2 -o fresh2 --cache single/.cache >fresh2.log 2>&1 ||
  { cat fresh2.log; fail "render from the rebuilt cache failed"; }
[ "$(grep -c 'shared cache hit' fresh2.log)" -eq 6 ] || { cat fresh2.log; fail "the rebuilt entries were not all used"; }
cmp fresh/current/batch-variations.zip fresh2/current/batch-variations.zip || fail "rebuilt entries give other bytes"

# Bad variation values: file:line:col of the value, before anything renders.
"$SG" check bad-energy.yaml >bad1.log 2>&1 && fail "check accepted energy: fulll"
grep -q 'bad-energy.yaml:13:20: .energy. must be one of sparse, normal, full' bad1.log ||
  { cat bad1.log; fail "no line:col for the bad energy"; }
"$SG" render bad-seed.yaml --variant first -o badout >bad2.log 2>&1 && fail "render accepted seed: -3"
grep -q 'bad-seed.yaml:13:12: .seed. must be a whole number' bad2.log || { cat bad2.log; fail "no line:col for the bad seed"; }
[ -e badout ] && fail "a render started although a variant is bad"
"$SG" batch bad-energy.yaml -o badroot >bad3.log 2>&1
[ $? -eq 1 ] || { cat bad3.log; fail "batch with a bad variation did not exit 1"; }
grep -q '"verdict":"error".*bad-energy.yaml:13:20' badroot/index.jsonl || { cat badroot/index.jsonl; fail "index line lacks the error"; }
ls badroot | grep -q bad-energy && fail "a folder was rendered for the bad spec"
# Without --variant a spec with variations is refused, naming its variants.
"$SG" render drums3.yaml -o whole >whole.log 2>&1 && fail "render of a variations spec without --variant"
grep -q 'drums_seed1, drums_seed2, drums_seed3' whole.log || { cat whole.log; fail "refusal does not name the variants"; }
echo "variations: shared nodes rendered once, equal alone, sharded equal, corruption rebuilt, bad values at line:col"
