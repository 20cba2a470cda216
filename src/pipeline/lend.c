/* What the render measured on the files it wrote, lent to its final verification by content
 * hash (include/stemgate/verify.h, sg_verify_lender): the package step then reads each entry of
 * the zip back for its CRC-32, which vouches for the SHA-256 taken on the same read as the
 * file's CRC-32 (sg__node_hash_crc), and measures nothing again.
 *
 * A stem's analysis (its writer's meter, the onset envelope of its mono) is written beside its
 * node record as it is produced (work/nodes/<node>.lend), so a stem taken from the cache lends
 * it too, and no stem's envelope waits in memory for the package step. The sidecar names the
 * SHA-256 of the file it describes and the analysis' version, and ends with the SHA-256 of its
 * payload: a missing, stale or damaged sidecar lends nothing (the entry is then decoded and
 * measured in full), it never gives a wrong row. Sizes: the activity map is one double per
 * 50 ms (576 kB for 60 minutes), the onset envelope one float per ~5.3 ms (2.7 MB for 60
 * minutes at 48 kHz); read back only while verify has that entry in flight.
 * The master lends from memory: its meter and features are kept from the master step. */
#include "pipeline_internal.h"

#include "stemgate/package.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEND_MAGIC "stemgate lend 1 " SG__CACHE_EPOCH "\n"
#define LEND_MAX_BYTES ((uint64_t)256 << 20)
#define LEND_WINDOW 2048 /* envelope frames copied at a time */

void sg__lend_path(const sg__run *r, const sg__stem *ss, char *out, size_t cap) {
  char node[SG_MAX_NAME + 8], safe[SG_MAX_NAME + 16];
  snprintf(node, sizeof node, "fx %s", ss->name);
  sg_package_safe_name(node, safe, sizeof safe);
  snprintf(out, cap, "%s/nodes/%s.lend", r->work, safe);
}

/* The payload, streamed through its SHA-256 (no copy of it in memory): the meter's result and
 * activity map, then the onset envelope. */
typedef struct sink {
  FILE *f;
  sg_sha256 h;
  int ok;
} sink;

static void put(sink *k, const void *x, size_t n) {
  if (k->ok && (fwrite(x, 1, n, k->f) != n || sg_sha256_update(&k->h, x, n) != SG_OK))
    k->ok = 0;
}

static void put_u64(sink *k, uint64_t v) { put(k, &v, sizeof v); }

sg_status sg__lend_write(const char *path, const char sha[65], const sg_meter *m,
                         const sg_features *f) {
  sg_meter_result mr;
  double er = 0;
  const size_t ne = f ? sg_features_onset_frames(f, &er) : 0;
  if (!sha[0] || !m || !f || !(er > 0) || sg_meter_result_get(m, &mr) != SG_OK)
    return SG_E_INVAL;
  const size_t nw = sg_meter_window_count(m);
  const uint64_t n = 8 + sizeof mr + 16 + nw * sizeof(double) + 32 + ne * sizeof(float);
  char tmp[SG_MAX_PATH + 32], ph[65];
  snprintf(tmp, sizeof tmp, "%s.partial", path);
  sink k = {fopen(tmp, "wb"), {0}, 0};
  if (!k.f)
    return SG_E_IO;
  k.ok = sg_sha256_init(&k.h) == SG_OK;
  k.ok = k.ok && fputs(LEND_MAGIC, k.f) >= 0 && fprintf(k.f, "%s\n", sha) > 0 &&
         fwrite(&n, sizeof n, 1, k.f) == 1;
  put_u64(&k, sizeof mr);
  put(&k, &mr, sizeof mr);
  put_u64(&k, sg_meter_window_frames(m));
  put_u64(&k, nw);
  for (size_t i = 0; i < nw; ++i) {
    double v = sg_meter_window_db(m, i);
    put(&k, &v, sizeof v);
  }
  put_u64(&k, sg_features_rate(f));
  put_u64(&k, (uint64_t)sg_features_frames(f));
  put(&k, &er, sizeof er);
  put_u64(&k, ne);
  float buf[LEND_WINDOW]; /* the envelope, read by window (features keep a long one in a file) */
  for (size_t j = 0; j < ne && k.ok; j += LEND_WINDOW) {
    const size_t c = ne - j < LEND_WINDOW ? ne - j : LEND_WINDOW;
    if (sg_features_onset_read(f, j, c, buf) != SG_OK)
      k.ok = 0;
    put(&k, buf, c * sizeof *buf);
  }
  int ok = k.ok && sg_sha256_final(&k.h, ph) == SG_OK && fwrite(ph, 1, 64, k.f) == 64;
  sg_sha256_free(&k.h); /* after final: nothing left to free (idempotent) */
  if (fclose(k.f) != 0)
    ok = 0;
  if (ok && rename(tmp, path) == 0)
    return SG_OK;
  remove(tmp);
  return SG_E_IO;
}

/* Reads n bytes of the payload into x, through its SHA-256; 0 when short. */
static int take(sink *k, uint64_t *left, void *x, size_t n) {
  if (!k->ok || *left < n || fread(x, 1, n, k->f) != n || sg_sha256_update(&k->h, x, n) != SG_OK)
    return k->ok = 0;
  *left -= n;
  return 1;
}

int sg__lend_read(const char *path, const char sha[65], sg_meter **mo, sg_features **fo) {
  *mo = NULL;
  *fo = NULL;
  sink k = {fopen(path, "rb"), {0}, 0};
  if (!k.f)
    return 0;
  char head[sizeof LEND_MAGIC + 80];
  uint64_t left = 0;
  const size_t hl = strlen(LEND_MAGIC);
  k.ok = fread(head, 1, hl + 65, k.f) == hl + 65 && !memcmp(head, LEND_MAGIC, hl) &&
         !memcmp(head + hl, sha, 64) && head[hl + 64] == '\n' &&
         fread(&left, sizeof left, 1, k.f) == 1 && left < LEND_MAX_BYTES &&
         sg_sha256_init(&k.h) == SG_OK;
  uint64_t msz = 0, wf = 0, nw = 0, rate = 0, ne = 0;
  int64_t frames = 0;
  double er = 0;
  sg_meter_result mr;
  sg_features *env = NULL;
  /* The activity map goes into the frozen meter a window at a time (no second copy of it). */
  if (take(&k, &left, &msz, sizeof msz) && msz == sizeof mr && take(&k, &left, &mr, sizeof mr) &&
      take(&k, &left, &wf, sizeof wf) && take(&k, &left, &nw, sizeof nw) &&
      nw <= left / sizeof(double) &&
      sg_meter_freeze(mo, &mr, (size_t)wf, NULL, (size_t)nw, NULL) == SG_OK) {
    double wv[LEND_WINDOW / 2];
    for (uint64_t j = 0; j < nw && k.ok; j += LEND_WINDOW / 2) {
      const size_t c = nw - j < LEND_WINDOW / 2 ? (size_t)(nw - j) : LEND_WINDOW / 2;
      if (take(&k, &left, wv, c * sizeof *wv) &&
          sg_meter_freeze_set(*mo, (size_t)j, wv, c) != SG_OK)
        k.ok = 0;
    }
  }
  /* The envelope goes into features of its own a window at a time (kept as the render's are:
   * its first seconds in memory, the rest in a temporary file), not into one array. */
  if (take(&k, &left, &rate, sizeof rate) && take(&k, &left, &frames, sizeof frames) &&
      take(&k, &left, &er, sizeof er) && take(&k, &left, &ne, sizeof ne) &&
      ne * sizeof(float) == left && rate >= 8000 && rate <= UINT32_MAX && frames >= 0 &&
      sg_features_from_onset(&env, (unsigned)rate, frames, NULL, 0, er) == SG_OK) {
    float buf[LEND_WINDOW];
    for (uint64_t j = 0; j < ne && k.ok; j += LEND_WINDOW) {
      const size_t c = ne - j < LEND_WINDOW ? (size_t)(ne - j) : LEND_WINDOW;
      if (take(&k, &left, buf, c * sizeof *buf) && sg_features_onset_append(env, buf, c) != SG_OK)
        k.ok = 0;
    }
  }
  char want[65] = "", got[65] = "";
  int ok = k.ok && *mo && env && fread(want, 1, 64, k.f) == 64 &&
           sg_sha256_final(&k.h, got) == SG_OK && !memcmp(got, want, 64);
  sg_sha256_free(&k.h);
  fclose(k.f);
  ok = ok && frames == mr.frames;
  if (ok) {
    *fo = env;
  } else {
    sg_meter_free(*mo);
    sg_features_free(env);
    *mo = NULL;
    *fo = NULL;
  }
  return ok;
}

/* ---- the lender the package step gives verify ------------------------------------------------ */

static char owned; /* token of a loan read for it (freed when given back) */

static int borrow(void *user, const char *sha256, sg_verify_loan *loan) {
  const sg__run *r = user;
  const sg__node *mn = &r->master_node;
  if (r->master_feat && r->master_meter_live && !r->master_uptodate && mn->nf >= 1 &&
      !strcmp(mn->fsha[0], sha256)) {
    loan->meter = r->master_meter_live;
    loan->features = r->master_feat;
    loan->token = NULL; /* the run's own: nothing to give back */
    return 1;
  }
  for (int k = 0; k < r->n_stems; ++k) {
    const sg__stem *ss = &r->stems[k];
    if (ss->fx_node.nf < 1 || strcmp(ss->fx_node.fsha[0], sha256))
      continue;
    char path[SG_MAX_PATH + 64];
    sg__lend_path(r, ss, path, sizeof path);
    sg_meter *m = NULL;
    sg_features *f = NULL;
    if (!sg__lend_read(path, sha256, &m, &f))
      return 0;
    loan->meter = m;
    loan->features = f;
    loan->token = &owned;
    return 1;
  }
  return 0;
}

/* The SHA-256 of the file this run wrote or kept as archive entry `entry` (the master, a stem's
 * effects), when its size and CRC-32 (taken on the read that hashed it) are these. */
static int vouch_node(const sg__node *n, const char *archive, const char *entry, uint32_t crc,
                      uint64_t bytes, char sha[65]) {
  if (strcmp(archive, entry) || n->nf < 1 || !n->fcrc_ok[0] || n->fcrc[0] != crc ||
      !n->fst[0].have || n->fst[0].size < 0 || (uint64_t)n->fst[0].size != bytes ||
      strlen(n->fsha[0]) != 64)
    return 0;
  memcpy(sha, n->fsha[0], 65);
  return 1;
}

static int vouch(void *user, const char *entry, uint32_t crc, uint64_t bytes, char sha[65]) {
  const sg__run *r = user;
  if (vouch_node(&r->master_node, r->master_archive, entry, crc, bytes, sha))
    return 1;
  for (int k = 0; k < r->n_stems; ++k)
    if (vouch_node(&r->stems[k].fx_node, r->stems[k].archive, entry, crc, bytes, sha))
      return 1;
  return 0;
}

static void give_back(void *user, sg_verify_loan *loan) {
  (void)user;
  if (loan->token) {
    sg_meter_free((sg_meter *)loan->meter);
    sg_features_free((sg_features *)loan->features);
  }
  memset(loan, 0, sizeof *loan);
}

void sg__lender_init(sg__run *r, sg_verify_lender *l) {
  l->borrow = borrow;
  l->give_back = give_back;
  l->vouch = vouch;
  l->user = r;
}
