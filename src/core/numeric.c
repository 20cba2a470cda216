/* Level and pitch conversions shared by every module. */
#include "stemgate/core.h"

#include <math.h>

double sg_db_to_lin(double db) { return pow(10.0, db / 20.0); }

double sg_lin_to_db(double lin) { return lin > 1e-10 ? 20.0 * log10(lin) : -200.0; }

double sg_midi_to_hz(double note) { return 440.0 * pow(2.0, (note - 69.0) / 12.0); }

double sg_hz_to_midi(double hz) { return hz > 0 ? 69.0 + 12.0 * log2(hz / 440.0) : -1e9; }
