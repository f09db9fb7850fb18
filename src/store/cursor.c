/* Internal to src/store: a page position's timestamp as PostgreSQL timestamptz input. */
#include "src/store/cursor.h"

#include <string.h>

#include "attendd/time.h"

bool cursor_ts_text(int64_t micros, char out[CURSOR_TS_TEXT])
{
    /* timestamptz text keeps 4-digit years */
    return micros >= ATT_TIME_MIN_US && micros <= ATT_TIME_MAX_US &&
        att_time_format(micros, 0, ATT_TIME_SQL_UTC, out, CURSOR_TS_TEXT);
}
