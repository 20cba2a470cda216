#!/bin/sh
# report.html as a browser draws it: a short song rendered, its report opened in headless
# Chromium (Debian's `chromium`), the screenshot checked not to be blank (png_check.py: share of
# non-white pixels and distinct colours), and a blank page checked to be judged blank, so the
# check can fail. Chromium missing or failing is a FAIL, never a skip: CI installs it
# (scripts/deps.sh) and runs this as root, hence --no-sandbox.
# usage: screenshot.sh STEMGATE SOURCE_DIR [KEEP_PNG]
set -eu
SG=$1
SRC=$2
KEEP=${3:-}
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
  echo "FAIL: chromium is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgshot.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

shot() { # shot URL PNG
  rm -f "$2"
  timeout 240 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$WORK/profile" --window-size=1280,2000 --screenshot="$2" "$1" \
    >"$WORK/chromium.log" 2>&1 || true
  if [ ! -s "$2" ]; then
    echo "FAIL: chromium wrote no screenshot of $1" >&2
    tail -20 "$WORK/chromium.log" >&2
    exit 1
  fi
}

"$SG" render "$SRC/examples/minimal.yaml" -o "$WORK/out" --quiet
REPORT="$WORK/out/current/report.html"
if [ ! -s "$REPORT" ]; then
  echo "FAIL: the render wrote no $REPORT" >&2
  exit 1
fi
shot "file://$REPORT" "$WORK/report.png"
python3 "$SRC/tests/report/png_check.py" "$WORK/report.png" 0.05 64
[ -n "$KEEP" ] && cp "$WORK/report.png" "$KEEP"

# the control: a white page must fail the same check
printf '<!DOCTYPE html><html><body></body></html>\n' >"$WORK/blank.html"
shot "file://$WORK/blank.html" "$WORK/blank.png"
if python3 "$SRC/tests/report/png_check.py" "$WORK/blank.png" 0.05 64; then
  echo "FAIL: a blank page passed the check" >&2
  exit 1
fi
echo "screenshot: report.html draws (blank control rejected)"
