/* Internal helpers shared by the package module's files. */
#ifndef SG_PACKAGE_INTERNAL_H
#define SG_PACKAGE_INTERNAL_H

#include "stemgate/package.h"

#define SG__PATH_MAX 4096

#endif
