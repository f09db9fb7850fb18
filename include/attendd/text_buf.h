/* A growing text buffer for text produced piece by piece (JSON pages, CSV exports, metrics). */
#ifndef ATTENDD_TEXT_BUF_H
#define ATTENDD_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Text produced and not yet sent. Appends never fail on the spot: oom is set and later appends do
 * nothing, so a caller checks once after a batch of appends. */
struct text_buf {
    char *p;    /* NUL-terminated while len > 0 */
    size_t len; /* bytes in p */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed: the text is incomplete */
};

void text_buf_add(struct text_buf *b, const char *s, size_t n);
/* text_buf_add of a NUL-terminated string. */
void text_buf_str(struct text_buf *b, const char *s);
/* Wipes the text (sodium_memzero) and frees it; the buffer is empty again. Growing wipes the old
 * block the same way. A caller that takes p over wipes it when it frees it. */
void text_buf_free(struct text_buf *b);

#endif
