/* API tokens: random secrets shown once, stored only as keyed BLAKE2b hashes (libsodium), with a
 * role. This module is pure crypto and formatting; src/store/tokens.c keeps them in PostgreSQL. */
#ifndef ATTENDD_TOKEN_H
#define ATTENDD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"

#define TOKEN_KEY_BYTES 32
#define TOKEN_HASH_BYTES 32
#define TOKEN_STR_MAX 64 /* "att_" + base64url(32 bytes) + NUL fits */

/* Ordered: admin may do what hr may, hr what kiosk may. A kiosk token only punches
 * (POST /api/v1/kiosk/punch); every other route needs hr at least. */
enum att_role { ROLE_NONE = 0, ROLE_KIOSK = 1, ROLE_HR = 2, ROLE_ADMIN = 3 };

struct token_key {
    unsigned char k[TOKEN_KEY_BYTES];
};

const char *role_name(enum att_role r);
/* "admin" / "hr" / "kiosk"; returns -1 on anything else. */
int role_parse(const char *s, enum att_role *out);

/* Load a key file: exactly 32 raw bytes or 64 hex characters (+ optional newline). Refuses a file
 * readable by group/other. err names the file and reason. */
att_err token_key_load(const char *path, struct token_key *key, char *err, size_t errlen);
/* Create a new random key file with mode 0600 (fails if it exists). */
att_err token_key_create(const char *path, char *err, size_t errlen);

/* New random token string "att_<43 base64url chars>". */
att_err token_generate(char out[TOKEN_STR_MAX]);
/* Keyed hash of a presented token (constant work regardless of content). */
void token_hash(const struct token_key *key, const char *token, size_t len, unsigned char out[TOKEN_HASH_BYTES]);
/* Cheap syntactic check before hashing (prefix, length, alphabet). */
bool token_well_formed(const char *token, size_t len);

#endif
