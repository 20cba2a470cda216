/* Status names and messages, generated from the one X-macro list in core.h. */
#include "stemgate/core.h"

const char *sg_status_name(sg_status st) {
  switch (st) {
#define SG__NAME(name, val, msg)                                                                   \
  case name:                                                                                       \
    return #name;
    SG_STATUS_LIST(SG__NAME)
#undef SG__NAME
  default:
    return "SG_E_UNKNOWN";
  }
}

const char *sg_status_message(sg_status st) {
  switch (st) {
#define SG__MSG(name, val, msg)                                                                    \
  case name:                                                                                       \
    return msg;
    SG_STATUS_LIST(SG__MSG)
#undef SG__MSG
  default:
    return "unknown status";
  }
}

const char *sg_version(void) { return SG_VERSION; }
