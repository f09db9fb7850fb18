/* The one UUID type of attendd: 16 bytes, parsed from and formatted to canonical 8-4-4-4-12 text. */
#ifndef ATTENDD_UUID_H
#define ATTENDD_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define ATT_UUID_BYTES 16 /* binary size */
#define ATT_UUID_STR 37   /* canonical text, 36 characters + NUL */

typedef struct att_uuid {
    uint8_t b[ATT_UUID_BYTES]; /* big-endian bytes, as PostgreSQL's uuid type holds them */
} att_uuid;

/* Canonical text (either case, hyphens at 8, 13, 18, 23, nothing after) to bytes. Returns false and
 * leaves *out unspecified on any other form. */
bool att_uuid_parse(const char *s, att_uuid *out);

/* Bytes to lower-case canonical text; out holds ATT_UUID_STR bytes. */
void att_uuid_format(const att_uuid *u, char out[ATT_UUID_STR]);

/* A new random (version 4, RFC 4122 variant) uuid from libsodium's randombytes_buf. */
void att_uuid_new(att_uuid *out);
/* The same as canonical text, for ids a caller needs before its row exists (face ids bound into
 * template blobs). */
void att_uuid_new_text(char out[ATT_UUID_STR]);

/* Whether s is canonical uuid text (att_uuid_parse would accept it). */
bool att_uuid_valid(const char *s);
/* s in lower case (the one spelling of a uuid the database and template blobs bind to); false, out
 * unspecified, when s is not uuid text. */
bool att_uuid_canonical(const char *s, char out[ATT_UUID_STR]);

/* Byte equality, and the all-zero uuid that stands for "none" in zeroed structs. */
bool att_uuid_eq(const att_uuid *a, const att_uuid *b);
bool att_uuid_is_nil(const att_uuid *u);

/* A well-mixed 64-bit hash of all 16 bytes, for hash tables keyed by uuid (time-ordered and
 * sequential uuids share leading bytes, so no byte range can stand in for the whole). */
uint64_t att_uuid_hash(const att_uuid *u);

#endif
