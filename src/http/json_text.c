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
        char esc[8];
        if (c == '"' || c == '\\') snprintf(esc, sizeof esc, "\\%c", c);
        else snprintf(esc, sizeof esc, "\\u%04x", c);
        text_buf_add(b, esc, strlen(esc));
        run = s + 1;
    }
    text_buf_add(b, run, (size_t)(s - run));
    text_buf_add(b, "\"", 1);
}
