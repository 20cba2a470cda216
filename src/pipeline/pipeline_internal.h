/* Internal to the pipeline module. */
#ifndef SG_PIPELINE_INTERNAL_H
#define SG_PIPELINE_INTERNAL_H

#include "stemgate/pipeline.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

/* Cache key of a stem's dry render; extra carries hashes of input files it reads. */
sg_status sg__cache_key_dry(const sg_song *s, const sg_timeline *tl, const sg_stem_spec *st,
                            const char *extra, char hex[65]);
/* Cache key of a stem after effects, gain and pan (side_key: the sidechain source's key). */
sg_status sg__cache_key_final(const char dry_key[65], const sg_stem_spec *st, const char *side_key,
                              double bpm, char hex[65]);
/* 1 when file exists, its record holds key, and its bytes still hash to what was stored; value
 * (optional) receives the number stored with it. */
int sg__cache_hit(const char *file, const char key[65], double *value);
sg_status sg__cache_store(const char *file, const char key[65], double value, sg_diag *d);

#endif
