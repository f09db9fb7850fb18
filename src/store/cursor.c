/* Keyset-pagination cursors (src/store/cursor.h): a row's sort key packed into base64url, so the
 * API hands out opaque strings and a tampered cursor is at worst a different valid position. */
#include "src/store/cursor.h"

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

bool cursor_decode(const char *text, enum cursor_kind kind, size_t keylen, char ts_out[CURSOR_TS_TEXT],
                   unsigned char *key)
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
    /* timestamptz text keeps 4-digit years */
    if (micros < ATT_TIME_MIN_US || micros > ATT_TIME_MAX_US ||
        !att_time_format(micros, 0, ATT_TIME_SQL_UTC, ts_out, CURSOR_TS_TEXT))
        return false;
    memcpy(key, raw + 9, keylen);
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool cursor_uuid_parse(const char *s, unsigned char out[16])
{
    size_t j = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            continue;
        }
        int hi = hexval(s[i]);
        if (hi < 0) return false;
        int lo = hexval(s[++i]);
        if (lo < 0) return false;
        out[j++] = (unsigned char)(hi << 4 | lo);
    }
    return s[36] == '\0';
}

void cursor_uuid_format(const unsigned char in[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hex[in[i] >> 4];
        out[k++] = hex[in[i] & 15];
    }
    out[36] = '\0';
}
