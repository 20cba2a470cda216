/* Status -> exit code of the stemgate command (documented in pipeline.h and the README). */
#include "stemgate/pipeline.h"

int sg_exit_code(sg_status st) {
  switch (st) {
  case SG_OK:
    return SG_EXIT_OK;
  case SG_E_GATE:
    return SG_EXIT_GATE;
  case SG_E_IO:
  case SG_E_FORMAT:
  case SG_E_LIMIT:
  case SG_E_NOMEM:
    return SG_EXIT_IO;
  default:
    return SG_EXIT_USAGE;
  }
}
