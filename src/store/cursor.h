/* Internal to src/store: a page position's timestamp as PostgreSQL timestamptz input, and the uuid
 * text <-> bytes conversion of its key. The cursor codec itself is attendd/cursor.h. */
#ifndef ATTENDD_STORE_CURSOR_H
#define ATTENDD_STORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/cursor.h"

#define CURSOR_TS_TEXT 40    /* "YYYY-MM-DD HH:MM:SS.ffffff+00" + NUL */

/* µs since the epoch as timestamptz input in UTC; false outside what gmtime_r takes. */
bool cursor_ts_text(int64_t micros, char out[CURSOR_TS_TEXT]);

/* uuid text <-> 16 bytes; uuid_parse false on malformed text. out of uuid_format: 37 bytes, lower case. */
bool cursor_uuid_parse(const char *s, unsigned char out[16]);
void cursor_uuid_format(const unsigned char in[16], char out[37]);

#endif
