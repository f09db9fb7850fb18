/* Internal to src/store: opaque keyset-pagination cursors. A cursor is base64url (no padding) of
 * kind byte | int64 microseconds since the epoch (big-endian) | key bytes (a uuid or an int64 id). */
#ifndef ATTENDD_STORE_CURSOR_H
#define ATTENDD_STORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURSOR_TEXT_MAX 64   /* base64url text + NUL, for every kind */
#define CURSOR_TS_TEXT 40    /* "YYYY-MM-DD HH:MM:SS.ffffff+00" + NUL */
#define CURSOR_KEY_MAX 16

enum cursor_kind { CURSOR_PEOPLE = 'P', CURSOR_AUDIT = 'A', CURSOR_EVENTS = 'E' };

/* Encode; false if keylen is too long or the text does not fit outlen. */
bool cursor_encode(enum cursor_kind kind, int64_t micros, const unsigned char *key, size_t keylen, char *out,
                   size_t outlen);
/* Decode a cursor of this kind with exactly keylen key bytes. ts_out receives the timestamp as
 * PostgreSQL timestamptz input text (UTC). False for anything malformed (the API's 400). */
bool cursor_decode(const char *text, enum cursor_kind kind, size_t keylen, char ts_out[CURSOR_TS_TEXT],
                   unsigned char *key);

/* uuid text <-> 16 bytes; uuid_parse false on malformed text. out of uuid_format: 37 bytes, lower case. */
bool cursor_uuid_parse(const char *s, unsigned char out[16]);
void cursor_uuid_format(const unsigned char in[16], char out[37]);

#endif
