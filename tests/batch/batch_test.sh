#!/bin/sh
# stemgate batch: two shards started at once into one output root, merged, equal a single
# process batch (index and every delivered file's SHA-256); a re-run is all "up to date"; a
# failing song does not stop the others and is counted.
# usage: batch_test.sh STEMGATE SOURCE_DIR
set -u
SG=$1
SRC=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/sg-batch.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$W" || exit 1
mkdir specs mixed
cp "$SRC"/tests/batch/specs/*.yaml specs/
cp "$SRC"/tests/batch/specs/song-a.yaml "$SRC"/tests/batch/bad/too-loud.yaml mixed/
export SOURCE_DATE_EPOCH=946684800

# Two shards at once into one root, then merged.
"$SG" batch specs -o shared --shard 0/2 --jobs 1 >s0.log 2>&1 &
p0=$!
"$SG" batch specs -o shared --shard 1/2 --jobs 1 >s1.log 2>&1 &
p1=$!
wait $p0 || { cat s0.log; fail "shard 0/2 exited $?"; }
wait $p1 || { cat s1.log; fail "shard 1/2 exited $?"; }
[ "$(wc -l <shared/index.0-of-2.jsonl)" -eq 2 ] || fail "shard 0 index does not have 2 lines"
[ "$(wc -l <shared/index.1-of-2.jsonl)" -eq 2 ] || fail "shard 1 index does not have 2 lines"
# Deterministic partition: sorted paths a b c d, shard 0 takes a and c, shard 1 b and d.
grep -q '"spec":"specs/song-a.yaml"' shared/index.0-of-2.jsonl || fail "song-a not in shard 0"
grep -q '"spec":"specs/song-c.yaml"' shared/index.0-of-2.jsonl || fail "song-c not in shard 0"
grep -q '"spec":"specs/song-b.yaml"' shared/index.1-of-2.jsonl || fail "song-b not in shard 1"
grep -q '"spec":"specs/song-d.yaml"' shared/index.1-of-2.jsonl || fail "song-d not in shard 1"
"$SG" batch --merge shared >merge.log 2>&1 || { cat merge.log; fail "merge failed"; }

# One process, another root.
"$SG" batch specs -o single --jobs 1 >single.log 2>&1 || { cat single.log; fail "single batch failed"; }
[ "$(wc -l <single/index.jsonl)" -eq 4 ] || fail "single index does not have 4 lines"
[ "$(grep -c '"verdict":"pass"' single/index.jsonl)" -eq 4 ] || fail "not every song passed"
grep -q '"files":\[{"name"' single/index.jsonl || fail "index lists no delivered file"
cmp shared/index.jsonl single/index.jsonl || { diff shared/index.jsonl single/index.jsonl; fail "merged index differs from the single-process index"; }

# Every delivered file, byte for byte (SHA-256), in both roots.
(cd shared && find -L . -path '*/current/*' -type f | LC_ALL=C sort | xargs sha256sum) >shared.sha
(cd single && find -L . -path '*/current/*' -type f | LC_ALL=C sort | xargs sha256sum) >single.sha
[ "$(wc -l <single.sha)" -ge 8 ] || fail "fewer delivered files than expected: $(wc -l <single.sha)"
cmp shared.sha single.sha || { diff shared.sha single.sha; fail "delivered files differ"; }

# Idempotent: a re-run renders nothing and rewrites the same index.
cp single/index.jsonl index.before
"$SG" batch specs -o single --jobs 1 >rerun.log 2>&1 || { cat rerun.log; fail "re-run failed"; }
[ "$(grep -c 'up to date' rerun.log)" -eq 4 ] || { cat rerun.log; fail "re-run not all up to date"; }
cmp index.before single/index.jsonl || fail "re-run changed the index"

# A list file (comments, blank lines, any order) names the same songs: same index, all up to date.
printf '# the four songs\nspecs/song-d.yaml\n\nspecs/song-b.yaml\nspecs/song-a.yaml\nspecs/song-c.yaml\n' >list.txt
"$SG" batch list.txt -o single/ --jobs 1 >list.log 2>&1 || { cat list.log; fail "list batch failed"; }
[ "$(grep -c 'up to date' list.log)" -eq 4 ] || { cat list.log; fail "list batch not all up to date"; }
cmp index.before single/index.jsonl || fail "the list batch wrote another index"

# A package whose bytes no longer match its records is not up to date: it is rendered again
# (from the cache) and comes back identical.
z=$(find -L single/song-b/current -name '*.zip')
printf 'X' | dd of="$z" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$SG" batch specs -o single --jobs 1 >tamper.log 2>&1 || { cat tamper.log; fail "re-run after tampering failed"; }
[ "$(grep -c 'up to date' tamper.log)" -eq 3 ] || { cat tamper.log; fail "tampered package reported up to date"; }
grep 'song-b' tamper.log | grep -q 'rendered' || { cat tamper.log; fail "song-b not rendered again"; }
cmp index.before single/index.jsonl || fail "the re-rendered package differs"

# A failing song is counted and does not stop the others.
"$SG" batch mixed -o mixedout --jobs 1 >mixed.log 2>&1
rc=$?
[ $rc -eq 1 ] || { cat mixed.log; fail "batch with a failing song exited $rc, not 1"; }
[ "$(wc -l <mixedout/index.jsonl)" -eq 2 ] || fail "mixed index does not have 2 lines"
grep '"spec":"mixed/song-a.yaml"' mixedout/index.jsonl | grep -q '"verdict":"pass"' ||
  fail "the good song did not pass"
grep '"spec":"mixed/too-loud.yaml"' mixedout/index.jsonl | grep -q '"verdict":"fail"' ||
  { cat mixedout/index.jsonl; fail "the impossible loudness target did not fail a gate"; }
grep -q '1 failed' mixed.log || fail "the summary does not count the failure"

# Merge refuses an incomplete set of shards.
rm shared/index.1-of-2.jsonl
"$SG" batch --merge shared >/dev/null 2>&1 && fail "merge accepted a missing shard"
echo "batch: shards, merge, idempotence and failure counting hold"
