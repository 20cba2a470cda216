#!/bin/sh
# deploy/slurm-batch.sh on a real single-node Slurm started here: munged, slurmctld and slurmd on
# localhost with a private key, config, ports and spool in a temporary folder; a 2-task job array
# renders two songs into one root, then --merge. Exits 77 (CTest: skipped) when Debian's slurm-wlm
# and munge are not installed or cannot start here, saying why.
# usage: slurm_test.sh STEMGATE SOURCE_DIR
set -u
SG=$1
SRC=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
for b in munged slurmctld slurmd sbatch sinfo; do
  command -v $b >/dev/null 2>&1 || [ -x /usr/sbin/$b ] || skip "$b not installed (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
W=$(mktemp -d "${TMPDIR:-/tmp}/sg-slurm.XXXXXX")
chmod 700 "$W"
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  [ -f "$W/munged.pid" ] && kill "$(cat "$W/munged.pid")" 2>/dev/null
  sleep 1
  rm -rf "$W"
}
trap cleanup EXIT
cd "$W" || exit 1
mkdir -p state spool bin specs
dd if=/dev/urandom of=munge.key bs=1024 count=1 2>/dev/null
chmod 400 munge.key
munged --force --key-file="$W/munge.key" --socket="$W/munge.sock" --pid-file="$W/munged.pid" \
  --log-file="$W/munged.log" --seed-file="$W/munged.seed" >munged.out 2>&1 ||
  skip "munged does not start here: $(cat munged.out munged.log 2>/dev/null | tail -3)"
host=$(hostname -s)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cpus=$(nproc)
port=$((20000 + $$ % 20000))
cat >slurm.conf <<CONF
ClusterName=sgtest
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$W/munge.sock
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$W/slurm.conf"
slurmctld -D -i >slurmctld.out 2>&1 &
pids="$pids $!"
slurmd -D >slurmd.out 2>&1 &
pids="$pids $!"
up=""
for i in $(seq 1 30); do
  st=$(sinfo -h -o %T 2>/dev/null | head -1)
  case "$st" in idle*|mixed*|alloc*) up=1; break ;; esac
  sleep 1
done
[ -n "$up" ] || skip "slurmctld/slurmd did not come up: $(tail -3 slurmctld.log slurmd.log slurmd.out 2>/dev/null)"
ln -s "$SG" bin/stemgate
cp "$SRC"/tests/batch/specs/song-a.yaml "$SRC"/tests/batch/specs/song-b.yaml specs/
PATH="$W/bin:$PATH" SOURCE_DATE_EPOCH=946684800 sbatch --wait --array=0-1 --cpus-per-task=1 \
  --mem=512M --chdir="$W" --output="$W/task-%a.log" "$SRC/deploy/slurm-batch.sh" specs root \
  >sbatch.out 2>&1 || { cat sbatch.out task-*.log 2>/dev/null; fail "the Slurm array failed"; }
[ -f root/index.0-of-2.jsonl ] && [ -f root/index.1-of-2.jsonl ] ||
  { cat task-*.log; fail "the array tasks wrote no shard indexes"; }
"$SG" batch --merge root >merge.log 2>&1 || { cat merge.log; fail "merge failed"; }
[ "$(grep -c '"verdict":"pass"' root/index.jsonl)" -eq 2 ] || { cat root/index.jsonl; fail "not both songs delivered"; }
grep -q 'shard 0/2' task-0.log && grep -q 'shard 1/2' task-1.log || fail "the tasks did not run shards 0/2 and 1/2"
echo "slurm: a 2-task array rendered both shards on a local slurmctld/slurmd; merged index holds both songs"
