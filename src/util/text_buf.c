/* The growing text buffer (include/attendd/text_buf.h): appends that record running out of memory once;
 * the memory it gives back is wiped first. */
#include "attendd/text_buf.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void text_buf_add(struct text_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        /* not realloc: a moved block would leave a copy of the text (names, in pages and exports) in
         * freed memory */
        char *p = malloc(cap);
        if (!p) {
            b->oom = true;
            return;
        }
        if (b->p) {
            memcpy(p, b->p, b->len + 1);
            sodium_memzero(b->p, b->cap);
            free(b->p);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void text_buf_str(struct text_buf *b, const char *s) { text_buf_add(b, s, strlen(s)); }

void text_buf_free(struct text_buf *b)
{
    if (b->p) sodium_memzero(b->p, b->cap); /* the text may name people */
    free(b->p);
    *b = (struct text_buf){0};
}
