/* Keyset-pagination cursors (src/store/cursor.h): a row's sort key packed into base64url, so the
 * API hands out opaque strings and a tampered cursor is at worst a different valid position. */
#include "src/store/cursor.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RAW_MAX (1 + 8 + CURSOR_KEY_MAX)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Keep decoded timestamps within what timestamptz and gmtime_r take: years 1..9999. */
#define MICROS_MIN (-62135596800LL * 1000000)  /* 0001-01-01 */
#define MICROS_MAX (253402300799LL * 1000000)  /* 9999-12-31T23:59:59 */

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
    if (micros < MICROS_MIN || micros > MICROS_MAX) return false;
    int64_t secs = micros / 1000000, frac = micros % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return false;
    char buf[96]; /* the years are bounded above, but the compiler cannot know */
    int len = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    if (len < 0 || len >= CURSOR_TS_TEXT) return false;
    memcpy(ts_out, buf, (size_t)len + 1);
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
