/* JSON strings written straight into a text buffer, for answers built without a jansson tree. */
#ifndef ATTENDD_HTTP_JSON_TEXT_H
#define ATTENDD_HTTP_JSON_TEXT_H

#include "attendd/text_buf.h"

/* s as a JSON string (quotes included; NULL gives null). s must be valid UTF-8 (text from the
 * database is): only quotes, backslashes and control characters are escaped. */
void json_text(struct text_buf *b, const char *s);

#endif
