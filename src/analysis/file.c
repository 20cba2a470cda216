/* One decode of a file feeding a meter and the feature extractor together. */
#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <stdlib.h>

sg_status sg_analysis_file_pass(const char *path, unsigned meter_flags,
                                sg_meter_result *meter_result, sg_meter **meter_out,
                                const sg_features_config *fc, sg_features **features_out,
                                sg_diag *d) {
  if (meter_out)
    *meter_out = NULL;
  if (features_out)
    *features_out = NULL;
  if (!path || (!meter_result && !meter_out && !features_out))
    return sg_diag_fail(d, SG_E_INVAL, "analysis: NULL path or nothing to compute");
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, path, &info, d);
  if (st != SG_OK)
    return st;
  sg_meter *m = NULL;
  sg_features *f = NULL;
  float *buf = NULL;
  if (meter_result || meter_out)
    st = sg_meter_create(&m, info.channels, info.rate, meter_flags, d);
  if (st == SG_OK && features_out)
    st = sg_features_create(&f, info.channels, info.rate, fc, d);
  const size_t B = 32768;
  if (st == SG_OK && !(buf = malloc(sizeof(float) * B * info.channels)))
    st = sg_diag_fail(d, SG_E_NOMEM, "analysis: out of memory");
  while (st == SG_OK) {
    size_t got = 0;
    st = sg_audio_reader_read(rd, buf, B, &got, d);
    if (st != SG_OK || got == 0)
      break;
    if (m)
      st = sg_meter_add(m, buf, got);
    if (st == SG_OK && f)
      st = sg_features_add(f, buf, got);
    if (st != SG_OK)
      sg_diag_fail(d, st, "analysis: cannot analyse '%s'", path);
  }
  if (st == SG_OK && f)
    st = sg_features_finish(f);
  if (st == SG_OK && m && meter_result)
    st = sg_meter_result_get(m, meter_result);
  free(buf);
  sg_audio_reader_close(rd);
  if (st == SG_OK && meter_out) {
    *meter_out = m;
    m = NULL;
  }
  if (st == SG_OK && features_out) {
    *features_out = f;
    f = NULL;
  }
  sg_meter_free(m);
  sg_features_free(f);
  return st;
}
