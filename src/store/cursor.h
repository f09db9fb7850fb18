/* Internal to src/store: a page position's timestamp as PostgreSQL timestamptz input. The cursor
 * codec itself is attendd/cursor.h; its uuid keys are att_uuid bytes (attendd/uuid.h). */
#ifndef ATTENDD_STORE_CURSOR_H
#define ATTENDD_STORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/cursor.h"

#define CURSOR_TS_TEXT 40 /* "YYYY-MM-DD HH:MM:SS.ffffff+00" + NUL */

/* µs since the epoch as timestamptz input in UTC; false outside what gmtime_r takes. */
bool cursor_ts_text(int64_t micros, char out[CURSOR_TS_TEXT]);

#endif
