/* stemgate: incremental, verified audio production. One include for the whole public API.
 *
 * Data flow: spec -> timing -> (reference) -> compose -> synth -> fx -> mix -> package, with
 * analysis and gate measuring every step and `stemgate verify` reusing them on any package. */
#ifndef STEMGATE_H
#define STEMGATE_H

#include "stemgate/core.h"
#include "stemgate/io.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"
#include "stemgate/notes.h"
#include "stemgate/gate.h"
#include "stemgate/pipeline.h"

#endif
