/* The one UUID parser, formatter and generator (include/attendd/uuid.h). */
#include "attendd/uuid.h"

#include <sodium.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool att_uuid_parse(const char *s, att_uuid *out)
{
    if (!s || strnlen(s, ATT_UUID_STR) != ATT_UUID_STR - 1) return false;
    size_t k = 0;
    for (size_t i = 0; i < ATT_UUID_STR - 1;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i++] != '-') return false;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out->b[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return k == ATT_UUID_BYTES;
}

void att_uuid_format(const att_uuid *u, char out[ATT_UUID_STR])
{
    static const char hexd[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < ATT_UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hexd[u->b[i] >> 4];
        *o++ = hexd[u->b[i] & 15];
    }
    *o = '\0';
}

void att_uuid_new(att_uuid *out)
{
    /* sodium_init is idempotent; randombytes reads the system source even where it failed. */
    int init = sodium_init();
    (void)init;
    randombytes_buf(out->b, sizeof out->b);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40); /* version 4 */
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void att_uuid_new_text(char out[ATT_UUID_STR])
{
    att_uuid u;
    att_uuid_new(&u);
    att_uuid_format(&u, out);
}

bool att_uuid_valid(const char *s)
{
    att_uuid u;
    return att_uuid_parse(s, &u);
}

bool att_uuid_canonical(const char *s, char out[ATT_UUID_STR])
{
    att_uuid u;
    if (!att_uuid_parse(s, &u)) return false;
    att_uuid_format(&u, out);
    return true;
}

bool att_uuid_eq(const att_uuid *a, const att_uuid *b) { return memcmp(a->b, b->b, ATT_UUID_BYTES) == 0; }

bool att_uuid_is_nil(const att_uuid *u)
{
    static const att_uuid nil;
    return att_uuid_eq(u, &nil);
}

uint64_t att_uuid_hash(const att_uuid *u)
{
    uint64_t a, b;
    memcpy(&a, u->b, 8);
    memcpy(&b, u->b + 8, 8);
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15u);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}
