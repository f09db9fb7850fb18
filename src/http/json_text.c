/* JSON string escaping into a text buffer (src/http/json_text.h). */
#include "json_text.h"

#include <stdio.h>
#include <string.h>

void json_text(struct text_buf *b, const char *s)
{
    if (!s) {
        text_buf_add(b, "null", 4);
        return;
    }
    text_buf_add(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        text_buf_add(b, run, (size_t)(s - run));
        /* the escapes jansson writes, so both encoders give the same bytes */
        char esc[8];
        const char *brief = c == '"' ? "\\\""
            : c == '\\'              ? "\\\\"
            : c == '\b'              ? "\\b"
            : c == '\f'              ? "\\f"
            : c == '\n'              ? "\\n"
            : c == '\r'              ? "\\r"
            : c == '\t'              ? "\\t"
                                     : NULL;
        if (brief) snprintf(esc, sizeof esc, "%s", brief);
        else snprintf(esc, sizeof esc, "\\u%04X", c);
        text_buf_add(b, esc, strlen(esc));
        run = s + 1;
    }
    text_buf_add(b, run, (size_t)(s - run));
    text_buf_add(b, "\"", 1);
}
