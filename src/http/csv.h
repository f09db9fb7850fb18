/* RFC 4180 CSV fields, for the routes that answer JSON or CSV (events, attendance). */
#ifndef ATTENDD_HTTP_CSV_H
#define ATTENDD_HTTP_CSV_H

#include <stdbool.h>

#include "attendd/text_buf.h"

/* One RFC 4180 field of s (NULL = empty), followed by "," or, for the last one, CRLF. Quoted when it
 * holds a comma, quote, CR or LF (quotes doubled). Bytes are copied as they are (UTF-8 in, UTF-8 out). */
void csv_field(struct text_buf *b, const char *s, bool last);

#endif
