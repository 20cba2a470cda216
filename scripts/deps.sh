#!/bin/sh
# Installs the Debian 12 packages stemgate needs to build, test and demo, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -e
PKGS="build-essential cmake pkgconf libsndfile1-dev libebur128-dev libzip-dev zlib1g-dev libdeflate-dev libsamplerate0-dev
libyaml-dev libssl-dev libcmocka-dev libfluidsynth-dev libkissfft-dev
timgm6mb-soundfont sox ffmpeg clang-format chromium"
# make fuzz (scripts/deps.sh fuzz) also needs clang with its libFuzzer runtime.
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev"
# sox and ffmpeg (ffprobe) are the strict readers the I/O tests check our WAVs against, and the
# meters an engineer uses to look at a render; chromium (headless) draws report.html for its
# screenshot test (tests/report/screenshot.sh).
# Optional: slurm-wlm and munge run deploy/slurm-batch.sh on a single-node Slurm the test starts
# itself (tests/batch/slurm_test.sh skips without them); a failed install does not stop the build.
OPTIONAL="slurm-wlm munge"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
optional=""
for p in $OPTIONAL; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || optional="$optional $p"
done
[ -z "$missing$optional" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "stemgate: installing$missing$optional"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt/dpkg (a parallel build's deps step) instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  [ -z "$missing" ] ||
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
  [ -z "$optional" ] ||
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $optional ||
    echo "stemgate: optional$optional not installed; the Slurm test will skip" >&2
elif [ -n "$missing" ]; then
  echo "stemgate: missing Debian packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
exit 0
