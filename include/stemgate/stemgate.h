/* stemgate: incremental, verified audio production. One include for the whole public API.
 *
 * Data flow: spec -> timing -> (reference) -> compose -> synth -> fx -> mix -> package, with
 * analysis and gate measuring every step and `stemgate verify` reusing them on any package. */
#ifndef STEMGATE_H
#define STEMGATE_H

#include "stemgate/analysis.h"
#include "stemgate/check.h"
#include "stemgate/compose.h"
#include "stemgate/core.h"
#include "stemgate/dsp.h"
#include "stemgate/fx.h"
#include "stemgate/gate.h"
#include "stemgate/io.h"
#include "stemgate/manifest.h"
#include "stemgate/mix.h"
#include "stemgate/notes.h"
#include "stemgate/package.h"
#include "stemgate/pipeline.h"
#include "stemgate/reference.h"
#include "stemgate/report.h"
#include "stemgate/spec.h"
#include "stemgate/synth.h"
#include "stemgate/theory.h"
#include "stemgate/timing.h"
#include "stemgate/verify.h"
#include "stemgate/zip.h"

#endif
