/* Shared by the routes that answer JSON or CSV (events, attendance): a growing text buffer, RFC 4180
 * fields, JSON strings, the query-parameter check, and the choice between the two representations
 * (format= or Accept). Not installed. */
#ifndef ATTENDD_HTTP_CSV_H
#define ATTENDD_HTTP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "http_internal.h"

/* Text produced and not yet sent. Appends never fail on the spot: oom is set and later appends do
 * nothing, so a caller checks once after a batch of appends. */
struct text_buf {
    char *p;      /* NUL-terminated while len > 0 */
    size_t len, cap;
    bool oom;
};

void text_buf_add(struct text_buf *b, const char *s, size_t n);
void text_buf_free(struct text_buf *b);

/* One RFC 4180 field of s (NULL = empty), followed by "," or, for the last one, CRLF. Quoted when it
 * holds a comma, quote, CR or LF (quotes doubled). Bytes are copied as they are (UTF-8 in, UTF-8 out). */
void csv_field(struct text_buf *b, const char *s, bool last);

/* s as a JSON string (quotes included; NULL gives null). s must be valid UTF-8 (text from the
 * database is): only quotes, backslashes and control characters are escaped. */
void json_text(struct text_buf *b, const char *s);

/* Refuse (400 bad_parameter naming it) a query parameter not in known (NULL-terminated, at most 32) or
 * given twice: a misspelt filter must not silently widen the answer, and a repeated one is ambiguous
 * (both orders would share one ETag while only the first value is used). */
att_err http_query_known(const struct http_request *req, struct http_response *resp, const char *const *known);

/* JSON or CSV for this request: fmt, the query parameter `format` parsed by HTTP_FORMAT_FIELD (0 json,
 * 1 csv, -1 absent), wins; without it the Accept header decides (highest q; text/csv or any text type
 * picks CSV; application/json, any application type or any type picks JSON; no header: JSON).
 * Writes 406 not_acceptable (field "Accept") when the header allows neither. */
att_err http_negotiate_csv(const struct http_request *req, struct http_response *resp, int fmt, bool *csv);

#endif
