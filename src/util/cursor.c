/* Keyset-pagination cursors (include/attendd/cursor.h): a page position packed into base64url. */
#include "attendd/cursor.h"

#include <sodium.h>
#include <string.h>

#include "attendd/time.h"

#define RAW_MAX (1 + 8 + CURSOR_KEY_MAX)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

bool cursor_encode(enum cursor_kind kind, int64_t micros, const unsigned char *key, size_t keylen, char *out,
                   size_t outlen)
{
    if (keylen > CURSOR_KEY_MAX || outlen < sodium_base64_ENCODED_LEN(1 + 8 + keylen, B64)) {
        if (outlen) out[0] = '\0';
        return false;
    }
    unsigned char raw[RAW_MAX];
    raw[0] = (unsigned char)kind;
    uint64_t u = (uint64_t)micros;
    for (int i = 0; i < 8; i++) raw[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    memcpy(raw + 9, key, keylen);
    sodium_bin2base64(out, outlen, raw, 9 + keylen, B64);
    return true;
}

bool cursor_decode(const char *text, enum cursor_kind kind, size_t keylen, struct cursor_pos *out)
{
    if (!text || keylen > CURSOR_KEY_MAX || strlen(text) != sodium_base64_ENCODED_LEN(9 + keylen, B64) - 1)
        return false;
    unsigned char raw[RAW_MAX];
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof raw, text, strlen(text), NULL, &n, &end, B64) != 0 || !end || *end ||
        n != 9 + keylen || raw[0] != (unsigned char)kind)
        return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | raw[1 + i];
    int64_t micros = (int64_t)u;
    if (micros < ATT_TIME_MIN_US || micros > ATT_TIME_MAX_US) return false; /* timestamptz keeps 4-digit years */
    *out = (struct cursor_pos){.micros = micros};
    memcpy(out->key, raw + 9, keylen);
    return true;
}
