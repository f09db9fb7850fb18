/* Internal to src/store: a position's timestamp as PostgreSQL input, and uuid text <-> bytes. */
#include "src/store/cursor.h"

#include <string.h>

#include "attendd/time.h"

bool cursor_ts_text(int64_t micros, char out[CURSOR_TS_TEXT])
{
    /* timestamptz text keeps 4-digit years */
    return micros >= ATT_TIME_MIN_US && micros <= ATT_TIME_MAX_US &&
           att_time_format(micros, 0, ATT_TIME_SQL_UTC, out, CURSOR_TS_TEXT);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool cursor_uuid_parse(const char *s, unsigned char out[16])
{
    size_t j = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            continue;
        }
        int hi = hexval(s[i]);
        if (hi < 0) return false;
        int lo = hexval(s[++i]);
        if (lo < 0) return false;
        out[j++] = (unsigned char)(hi << 4 | lo);
    }
    return s[36] == '\0';
}

void cursor_uuid_format(const unsigned char in[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hex[in[i] >> 4];
        out[k++] = hex[in[i] & 15];
    }
    out[36] = '\0';
}
