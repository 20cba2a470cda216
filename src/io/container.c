/* Declared sizes against the bytes really there, for every container libsndfile reads.
 *
 * libsndfile quietly shortens a file whose sample data chunk runs past the end (it trims the
 * frame count to what is present), so a truncated or lying file reads as a shorter, valid one.
 * This walks the chunk structure of the containers named in their specifications and compares
 * the declared size of the sample chunk with the bytes that follow it:
 *   RIFF/WAVE  (Microsoft/IBM Multimedia Programming Interface 1991): "data" chunk, LE32 size
 *   RF64       (EBU Tech 3306): "data" size 0xFFFFFFFF means the ds64 chunk's 64-bit dataSize
 *   BW64       (ITU-R BS.2088): as RF64
 *   Sony Wave64 (W64): 16-byte GUID chunk ids, LE64 sizes that include the 24-byte header,
 *              chunks aligned to 8 bytes
 *   AIFF/AIFC  (Apple AIFF 1.3, AIFF-C draft 1991): "SSND" chunk, BE32 size (offset and block
 *              size words included)
 * FLAC declares its length in STREAMINFO (total samples); a short stream then fails to decode
 * the declared frames, which sg_audio_reader_read reports, so it needs no walk here.
 * The same function serves files, zip entries and references (one reading path). */
#include "io_internal.h"

#include <stdio.h>
#include <string.h>

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int rd(const sg__bytes *b, uint64_t at, void *buf, size_t n) {
  return at + n <= b->size && b->read_at(b->user, at, buf, n) == 0;
}

/* A chunk walk visits at most this many chunks: real files have a handful, and a hostile one
 * must not make the walk long. */
#define MAX_CHUNKS 4096

static sg_status too_short(const char *name, const char *kind, uint64_t declared, uint64_t have,
                           sg_diag *d) {
  return sg_diag_fail(d, SG_E_FORMAT,
                      "'%s' is truncated or its header lies: its %s declares %llu bytes but the "
                      "file holds %llu",
                      name, kind, (unsigned long long)declared, (unsigned long long)have);
}

static sg_status riff(const sg__bytes *b, int rf64, const char *name, sg_diag *d) {
  unsigned char h[28];
  uint64_t ds64_data = 0;
  int have_ds64 = 0;
  uint64_t pos = 12;
  for (int i = 0; i < MAX_CHUNKS && pos + 8 <= b->size; ++i) {
    if (!rd(b, pos, h, 8))
      break;
    uint64_t size = le32(h + 4);
    if (rf64 && !memcmp(h, "ds64", 4) && rd(b, pos + 8, h + 8, 20)) {
      ds64_data = le64(h + 16); /* riffSize(8), dataSize(8), sampleCount(8) */
      have_ds64 = 1;
    }
    if (!memcmp(h, "data", 4)) {
      if (rf64 && size == 0xFFFFFFFFu) {
        if (!have_ds64)
          return sg_diag_fail(d, SG_E_FORMAT, "'%s': RF64 data chunk without a ds64 size", name);
        size = ds64_data;
      }
      uint64_t have = b->size - (pos + 8);
      return size > have ? too_short(name, "data chunk", size, have, d) : SG_OK;
    }
    pos += 8 + size + (size & 1);
  }
  return SG_OK; /* no data chunk: libsndfile refuses the file itself */
}

static const unsigned char W64_RIFF[16] = {'r',  'i',  'f',  'f',  0x2E, 0x91, 0xCF, 0x11,
                                           0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00};
static const unsigned char W64_DATA[16] = {'d',  'a',  't',  'a',  0xF3, 0xAC, 0xD3, 0x11,
                                           0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A};

static sg_status w64(const sg__bytes *b, const char *name, sg_diag *d) {
  unsigned char h[24];
  if (!rd(b, 0, h, 24))
    return SG_OK;
  uint64_t riff_size = le64(h + 16);
  if (riff_size > b->size)
    return too_short(name, "W64 riff chunk", riff_size, b->size, d);
  uint64_t pos = 40; /* riff header (24) + the wave GUID (16) */
  for (int i = 0; i < MAX_CHUNKS && pos + 24 <= b->size; ++i) {
    if (!rd(b, pos, h, 24))
      break;
    uint64_t size = le64(h + 16); /* includes the 24-byte chunk header */
    if (size < 24)
      return sg_diag_fail(d, SG_E_FORMAT, "'%s': W64 chunk with an impossible size %llu", name,
                          (unsigned long long)size);
    if (!memcmp(h, W64_DATA, 16)) {
      uint64_t have = b->size - pos;
      return size > have ? too_short(name, "W64 data chunk", size - 24, have - 24, d) : SG_OK;
    }
    if (size > b->size - pos)
      break;
    pos += (size + 7) & ~(uint64_t)7;
  }
  return SG_OK;
}

static sg_status aiff(const sg__bytes *b, const char *name, sg_diag *d) {
  unsigned char h[8];
  uint64_t pos = 12;
  for (int i = 0; i < MAX_CHUNKS && pos + 8 <= b->size; ++i) {
    if (!rd(b, pos, h, 8))
      break;
    uint64_t size = be32(h + 4);
    if (!memcmp(h, "SSND", 4)) {
      uint64_t have = b->size - (pos + 8);
      return size > have ? too_short(name, "SSND chunk", size, have, d) : SG_OK;
    }
    pos += 8 + size + (size & 1);
  }
  return SG_OK;
}

sg_status sg__container_check(const sg__bytes *b, const char *name, sg_diag *d) {
  unsigned char h[16];
  if (!rd(b, 0, h, 16))
    return SG_OK; /* too short for any header: libsndfile's own refusal names it */
  if (!memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4))
    return riff(b, 0, name, d);
  if ((!memcmp(h, "RF64", 4) || !memcmp(h, "BW64", 4)) && !memcmp(h + 8, "WAVE", 4))
    return riff(b, 1, name, d);
  if (!memcmp(h, W64_RIFF, 16))
    return w64(b, name, d);
  if (!memcmp(h, "FORM", 4) && (!memcmp(h + 8, "AIFF", 4) || !memcmp(h + 8, "AIFC", 4)))
    return aiff(b, name, d);
  return SG_OK;
}
