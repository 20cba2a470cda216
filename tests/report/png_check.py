#!/usr/bin/env python3
"""Is a screenshot a picture? Reads a PNG with the standard library only (zlib + the PNG
filters, RFC 2083 / PNG spec section 9) and checks it is not blank: enough non-white pixels and
enough distinct colours. Usage: png_check.py FILE [min_nonwhite_fraction] [min_colours]"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("expects 8-bit RGB/RGBA, not interlaced (depth %d type %d)" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    path = sys.argv[1]
    min_frac = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    min_colours = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    w, h, bpp, rows = read_png(path)
    colours, nonwhite, total = set(), 0, 0
    for y in range(0, h, 2):  # every other row and column: enough to judge, 4x faster
        r = rows[y]
        for x in range(0, w, 2):
            px = r[x * bpp:x * bpp + 3]
            colours.add(px)
            total += 1
            if px[0] < 235 or px[1] < 235 or px[2] < 235:
                nonwhite += 1
    frac = nonwhite / total
    print("%s: %dx%d, %d colours, non-white %.3f" % (path, w, h, len(colours), frac))
    if frac < min_frac or len(colours) < min_colours:
        print("blank: needs non-white >= %.3f and >= %d colours" % (min_frac, min_colours))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
