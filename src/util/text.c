/* UTF-8 validation and character counting for user-supplied display text (see attendd/text.h). */
#include "attendd/text.h"

#include <stddef.h>

long text_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;
    while (*p) {
        unsigned char c = *p;
        size_t extra;
        unsigned int cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return -1; /* C0 controls, DEL */
            p++;
            chars++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80) return -1; /* also stops at the NUL of a truncated sequence */
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* overlong forms, surrogates, beyond Unicode, C1 controls */
        static const unsigned int min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp <= 0x9f))
            return -1;
        p += extra + 1;
        chars++;
    }
    return chars;
}

int text_ok(const char *s, long min_chars, long max_chars)
{
    if (!s) return 0;
    long n = text_chars(s);
    return n >= min_chars && n <= max_chars;
}
