/* What the render measured on the files it wrote, lent to its final verification by content
 * hash (include/stemgate/verify.h, sg_verify_lender): the package step then hashes each entry of
 * the zip and measures nothing again.
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

void sg__lend_path(const sg__run *r, const sg__stem *ss, char *out, size_t cap) {
  char node[SG_MAX_NAME + 8], safe[SG_MAX_NAME + 16];
  snprintf(node, sizeof node, "fx %s", ss->name);
  sg_package_safe_name(node, safe, sizeof safe);
  snprintf(out, cap, "%s/nodes/%s.lend", r->work, safe);
}

/* The payload: the meter's result and activity map, then the onset envelope. */
typedef struct buf {
  unsigned char *p;
  size_t n, cap;
  int bad;
} buf;

static void put(buf *b, const void *x, size_t n) {
  if (b->bad)
    return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n)
      cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) {
      b->bad = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, x, n);
  b->n += n;
}

static void put_u64(buf *b, uint64_t v) { put(b, &v, sizeof v); }

sg_status sg__lend_write(const char *path, const char sha[65], const sg_meter *m,
                         const sg_features *f) {
  sg_meter_result mr;
  size_t ne = 0;
  double er = 0;
  const float *env = f ? sg_features_onset_env(f, &ne, &er) : NULL;
  if (!sha[0] || !m || !env || sg_meter_result_get(m, &mr) != SG_OK)
    return SG_E_INVAL;
  buf b = {0};
  put_u64(&b, sizeof mr);
  put(&b, &mr, sizeof mr);
  const size_t nw = sg_meter_window_count(m);
  put_u64(&b, sg_meter_window_frames(m));
  put_u64(&b, nw);
  for (size_t i = 0; i < nw; ++i) {
    double v = sg_meter_window_db(m, i);
    put(&b, &v, sizeof v);
  }
  put_u64(&b, sg_features_rate(f));
  put_u64(&b, (uint64_t)sg_features_frames(f));
  put(&b, &er, sizeof er);
  put_u64(&b, ne);
  put(&b, env, ne * sizeof *env);
  char ph[65];
  sg_sha256 h;
  sg_status st = b.bad ? SG_E_NOMEM : sg_sha256_init(&h);
  if (st == SG_OK) {
    sg_sha256_update(&h, b.p, b.n);
    st = sg_sha256_final(&h, ph);
  }
  char tmp[SG_MAX_PATH + 32];
  snprintf(tmp, sizeof tmp, "%s.partial", path);
  FILE *fp = st == SG_OK ? fopen(tmp, "wb") : NULL;
  int ok = fp && fputs(LEND_MAGIC, fp) >= 0 && fprintf(fp, "%s\n", sha) > 0 &&
           fwrite(&b.n, sizeof(uint64_t), 1, fp) == 1 && fwrite(b.p, 1, b.n, fp) == b.n &&
           fwrite(ph, 1, 64, fp) == 64;
  if (fp && fclose(fp) != 0)
    ok = 0;
  free(b.p);
  if (ok && rename(tmp, path) == 0)
    return SG_OK;
  if (fp)
    remove(tmp);
  return st != SG_OK ? st : SG_E_IO;
}

/* Reads n bytes at *at of p (len bytes); 0 past the end. */
static int take(const unsigned char *p, size_t len, size_t *at, void *x, size_t n) {
  if (len - *at < n)
    return 0;
  memcpy(x, p + *at, n);
  *at += n;
  return 1;
}

int sg__lend_read(const char *path, const char sha[65], sg_meter **mo, sg_features **fo) {
  *mo = NULL;
  *fo = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return 0;
  char head[sizeof LEND_MAGIC + 80];
  uint64_t n = 0;
  unsigned char *p = NULL;
  const size_t hl = strlen(LEND_MAGIC);
  int ok = fread(head, 1, hl + 65, fp) == hl + 65 && !memcmp(head, LEND_MAGIC, hl) &&
           !memcmp(head + hl, sha, 64) && head[hl + 64] == '\n' &&
           fread(&n, sizeof n, 1, fp) == 1 && n > 0 && n < LEND_MAX_BYTES &&
           (p = malloc((size_t)n)) && fread(p, 1, (size_t)n, fp) == n;
  char want[65] = "", got[65] = "";
  ok = ok && fread(want, 1, 64, fp) == 64;
  fclose(fp);
  sg_sha256 h;
  if (ok && sg_sha256_init(&h) == SG_OK) {
    sg_sha256_update(&h, p, (size_t)n);
    ok = sg_sha256_final(&h, got) == SG_OK && !memcmp(got, want, 64);
  } else {
    ok = 0;
  }
  size_t at = 0;
  uint64_t msz = 0, wf = 0, nw = 0, rate = 0, ne = 0;
  int64_t frames = 0;
  double er = 0;
  sg_meter_result mr;
  ok = ok && take(p, n, &at, &msz, sizeof msz) && msz == sizeof mr &&
       take(p, n, &at, &mr, sizeof mr) && take(p, n, &at, &wf, sizeof wf) &&
       take(p, n, &at, &nw, sizeof nw) && nw <= (n - at) / sizeof(double);
  double *wv = NULL;
  if (ok) { /* an aligned copy */
    wv = malloc((nw ? nw : 1) * sizeof *wv);
    ok = wv && take(p, n, &at, wv, nw * sizeof *wv);
  }
  ok = ok && take(p, n, &at, &rate, sizeof rate) && take(p, n, &at, &frames, sizeof frames) &&
       take(p, n, &at, &er, sizeof er) && take(p, n, &at, &ne, sizeof ne) &&
       ne == (n - at) / sizeof(float) && (n - at) % sizeof(float) == 0;
  float *env = NULL;
  if (ok) {
    env = malloc((ne ? ne : 1) * sizeof *env);
    ok = env && take(p, n, &at, env, ne * sizeof *env);
  }
  ok = ok && rate <= UINT32_MAX && frames == mr.frames &&
       sg_meter_freeze(mo, &mr, (size_t)wf, wv, (size_t)nw, NULL) == SG_OK &&
       sg_features_from_onset(fo, (unsigned)rate, frames, env, (size_t)ne, er) == SG_OK;
  free(p);
  free(wv);
  free(env);
  if (!ok) {
    sg_meter_free(*mo);
    sg_features_free(*fo);
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
  l->user = r;
}
