/* RFC 4180 CSV fields (src/http/csv.h): quoted only when they must be, quotes doubled. */
#include "csv.h"

#include <string.h>

void csv_field(struct text_buf *b, const char *s, bool last)
{
    if (!s) s = "";
    if (strpbrk(s, ",\"\r\n")) {
        text_buf_add(b, "\"", 1);
        for (const char *q; (q = strchr(s, '"')); s = q + 1) {
            text_buf_add(b, s, (size_t)(q - s));
            text_buf_add(b, "\"\"", 2);
        }
        text_buf_add(b, s, strlen(s));
        text_buf_add(b, "\"", 1);
    } else {
        text_buf_add(b, s, strlen(s));
    }
    text_buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}
