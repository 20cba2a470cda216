/* Fine alignment on attacks: the offset of one onset list against another around a coarse lag
 * (e.g. from sg_align_files), measured as a robust mean of matched onset-time differences.
 *
 * Why: the onset-envelope correlation of sg_align_* is sampled every ~5 ms and its peak sits
 * where a frame's spectral flux is largest, which depends on the instrument; refined onset
 * times (sg_onsets_pick, start of the attack on the ~1 ms energy envelope) resolve the offset
 * to a fraction of a millisecond when the two files play the same attacks. */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>

/* Differences within this distance of the median enter the mean, s. */
#define ALIGN_ONSETS_MEAN_TOL_S 0.002

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sg_status sg_align_onsets(const double *a_time, size_t na, const double *b_time, size_t nb,
                          double coarse_s, double t0, double t1, double tol_s, size_t min_matched,
                          double *offset_s, size_t *matched, sg_diag *d) {
  if (matched)
    *matched = 0;
  if (!a_time || !b_time || na == 0 || nb == 0 || !offset_s)
    return sg_diag_fail(d, SG_E_INVAL, "onset alignment: empty onset list or NULL argument");
  if (!isfinite(coarse_s) || !(tol_s >= 0) || !isfinite(tol_s) || !(t1 >= t0))
    return sg_diag_fail(d, SG_E_INVAL,
                        "onset alignment: bad window [%g, %g) s, tolerance %g s or lag %g s", t0,
                        t1, tol_s, coarse_s);
  double *diff = malloc(nb * sizeof *diff);
  if (!diff)
    return sg_diag_fail(d, SG_E_NOMEM, "onset alignment: out of memory");

  /* Each b onset in [t0, t1) is paired with the a onset nearest to where the coarse lag puts
   * it (t - coarse); both lists ascend, so the candidate index only moves forward. */
  size_t m = 0, j = 0;
  for (size_t i = 0; i < nb; ++i) {
    double t = b_time[i];
    if (t < t0 || t >= t1)
      continue;
    double want = t - coarse_s;
    while (j + 1 < na && a_time[j + 1] <= want)
      j++;
    double best = 1e300, dt = 0;
    for (size_t k = j; k < na && k <= j + 1; ++k)
      if (fabs(a_time[k] - want) < best) {
        best = fabs(a_time[k] - want);
        dt = t - a_time[k];
      }
    if (best <= tol_s)
      diff[m++] = dt;
  }
  if (matched)
    *matched = m;
  size_t need = min_matched > 0 ? min_matched : 1;
  if (m < need) {
    free(diff);
    return sg_diag_fail(d, SG_E_NOTFOUND,
                        "onset alignment: %zu onsets matched within %.1f ms of the coarse lag in "
                        "[%.2f, %.2f) s (needs %zu)",
                        m, 1000.0 * tol_s, t0, t1, need);
  }

  /* Median for robustness, then the mean of the differences within 2 ms of it: each refined
   * onset time is quantised to the ~1 ms energy block, and the attacks fall at every phase of
   * that block, so the mean resolves what one median value cannot. */
  qsort(diff, m, sizeof *diff, cmp_double);
  double med = m % 2 ? diff[m / 2] : 0.5 * (diff[m / 2 - 1] + diff[m / 2]), s = 0;
  size_t k = 0;
  for (size_t i = 0; i < m; ++i)
    if (fabs(diff[i] - med) <= ALIGN_ONSETS_MEAN_TOL_S) {
      s += diff[i];
      k++;
    }
  *offset_s = k ? s / (double)k : med;
  free(diff);
  return SG_OK;
}
