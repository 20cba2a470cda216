#!/bin/sh
# make install into a DESTDIR, then a small C program compiled with `pkg-config --cflags --libs
# stemgate` against that install, linked to libstemgate.so and run: it loads a spec, builds its
# grid and reads the check table. Usage: install_test.sh BUILD_DIR SOURCE_DIR [SANITIZE]
# (SANITIZE ON: the library was built with ASan/UBSan, so the program is too.)
set -eu
build=$1
src=$2
san=""
[ "${3:-OFF}" = "ON" ] && san="-fsanitize=address,undefined"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR="$dest" cmake --install "$build" --prefix /usr/local > "$dest/install.log" 2>&1 || {
  cat "$dest/install.log"; exit 1; }
for f in usr/local/bin/stemgate usr/local/include/stemgate/stemgate.h \
         usr/local/lib/pkgconfig/stemgate.pc usr/local/share/man/man1/stemgate.1 \
         usr/local/share/man/man5/stemgate-spec.5; do
  [ -e "$dest/$f" ] || { echo "not installed: $f"; exit 1; }
done
so=$(ls "$dest"/usr/local/lib/libstemgate.so.* | head -n 1)
objdump -p "$so" | grep -q 'SONAME *libstemgate.so.0' || { echo "no soname libstemgate.so.0"; exit 1; }
cat > "$dest/embed.c" <<'C'
#include <stemgate/stemgate.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  sg_song *song = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  if (sg_song_load(argv[1], &song, &d) != SG_OK)
    return 3;
  sg_timeline tl;
  if (sg_timeline_build(song, &tl, &d) != SG_OK)
    return 4;
  const sg_check_def *c = sg_check_find("true_peak");
  printf("%s %d sections %lld frames; %s %s\n", sg_version(), tl.n_sections,
         (long long)tl.total_frames, c ? c->name : "?", c ? c->unit : "?");
  sg_song_free(song);
  return c && !strcmp(c->unit, "dBTP") ? 0 : 5;
}
C
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_PATH="$dest/usr/local/lib/pkgconfig"
flags=$(pkg-config --cflags --libs stemgate)
echo "pkg-config: $flags"
cc -std=c11 -Wall -Wextra -Werror $san -o "$dest/embed" "$dest/embed.c" $flags
LD_LIBRARY_PATH="$dest/usr/local/lib" "$dest/embed" "$src/examples/deja-vu.yaml"
for m in man1/stemgate.1 man5/stemgate-spec.5; do
  head -n 1 "$dest/usr/local/share/man/$m" | grep -q '^\.TH ' || { echo "$m: no .TH"; exit 1; }
  if command -v groff > /dev/null; then
    groff -man -Tutf8 -z "$dest/usr/local/share/man/$m" || { echo "$m: groff failed"; exit 1; }
  fi
done
echo "install: binary, libstemgate.so.0, headers, stemgate.pc and man pages; embed program ran"
