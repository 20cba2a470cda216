#!/bin/bash
# stemgate batch as a Slurm job array: task K of N renders shard K/N of the specs into one output
# root on shared storage (NFS, Lustre, an object store mounted as a path); each song is its own
# folder with its own lock, so tasks never write the same file. See docs/scale.md.
#
#   jid=$(sbatch --parsable --array=0-7 deploy/slurm-batch.sh /shared/specs /shared/out)
#   sbatch --dependency=afterany:$jid --wrap "stemgate batch --merge /shared/out"
#
# The array must start at 0 and be contiguous (--array=0-(N-1)): the shard index is
# SLURM_ARRAY_TASK_ID and the shard count SLURM_ARRAY_TASK_COUNT. A task exits 1 when one of its
# songs failed a gate (its index line says which); re-running the array renders only what is not
# up to date.
#SBATCH --job-name=stemgate-batch
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --output=stemgate-batch-%A_%a.log
set -eu
SPECS=${1:?usage: sbatch --array=0-(N-1) slurm-batch.sh SPEC_DIR|LIST.txt ROOT}
ROOT=${2:?usage: sbatch --array=0-(N-1) slurm-batch.sh SPEC_DIR|LIST.txt ROOT}
if [ "${SLURM_ARRAY_TASK_MIN:-0}" != 0 ]; then
  echo "stemgate-batch: the array must be --array=0-(N-1), not start at $SLURM_ARRAY_TASK_MIN" >&2
  exit 2
fi
exec stemgate batch "$SPECS" -o "$ROOT" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT"
