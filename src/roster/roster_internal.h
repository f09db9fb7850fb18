/* What the roster's use cases share: the outcome of a change whose audit row or commit failed. */
#ifndef ATTENDD_ROSTER_INTERNAL_H
#define ATTENDD_ROSTER_INTERNAL_H

#include "attendd/errors.h"

/* A change went through but its audit row or its commit did not, so nothing was changed:
 * ATT_E_DB when the database is unreachable, ATT_E_INTERNAL otherwise (fail closed). */
static inline att_err roster_unaudited(att_err e) { return e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL; }

#endif
