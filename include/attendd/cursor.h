/* Keyset-pagination cursors: a page's position (a timestamp and a key of up to 16 bytes) packed as
 * base64url (no padding) of kind byte | int64 microseconds (big-endian) | key, so the API hands out
 * opaque strings and a tampered cursor is at worst a different valid position. */
#ifndef ATTENDD_CURSOR_H
#define ATTENDD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURSOR_TEXT_MAX 64 /* base64url text + NUL, for every kind */
#define CURSOR_KEY_MAX 16

/* Which list a cursor walks: a cursor of one list is refused by another. */
enum cursor_kind { CURSOR_PEOPLE = 'P', CURSOR_AUDIT = 'A', CURSOR_EVENTS = 'E' };

/* A decoded position: the sort key of the last row of the previous page. */
struct cursor_pos {
    int64_t micros;                    /* timestamp, µs since the epoch (years 1..9999) */
    unsigned char key[CURSOR_KEY_MAX]; /* tie-breaking key (a uuid, or a big-endian int64) */
};

/* Encode; false if keylen is too long or the text does not fit outlen. */
bool cursor_encode(enum cursor_kind kind, int64_t micros, const unsigned char *key, size_t keylen, char *out,
                   size_t outlen);
/* Decode a cursor of this kind with exactly keylen key bytes; false for anything malformed and for
 * timestamps outside years 1..9999. */
bool cursor_decode(const char *text, enum cursor_kind kind, size_t keylen, struct cursor_pos *out);

#endif
