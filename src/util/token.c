/* API token crypto (libsodium): key files, random tokens, keyed BLAKE2b hashes, syntax checks.
 * Secrets never leave this file except as the token string handed to the caller once. */
#include "attendd/token.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/keyfile.h"
#include "attendd/log.h"

#define TOKEN_PREFIX "att_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RANDOM_BYTES 32
/* base64url without padding of 32 bytes: ceil(32 * 4 / 3) = 43 characters */
#define TOKEN_B64_LEN 43
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_B64_LEN)

_Static_assert(TOKEN_LEN < TOKEN_STR_MAX, "token buffer too small");
_Static_assert(TOKEN_KEY_BYTES == KEYFILE_BYTES, "token keys are key files");

const char *role_name(enum att_role r)
{
    switch (r) {
    case ROLE_ADMIN: return "admin";
    case ROLE_HR: return "hr";
    case ROLE_KIOSK: return "kiosk";
    default: return "none";
    }
}

int role_parse(const char *s, enum att_role *out)
{
    if (!s) return -1;
    if (strcmp(s, "admin") == 0) *out = ROLE_ADMIN;
    else if (strcmp(s, "hr") == 0) *out = ROLE_HR;
    else if (strcmp(s, "kiosk") == 0) *out = ROLE_KIOSK;
    else return -1;
    return 0;
}

/* sodium_init is idempotent and thread-safe; it only fails when no entropy source works. */
static att_err crypto_ready(void) { return sodium_init() < 0 ? ATT_E_CRYPTO : ATT_OK; }

att_err token_key_load(const char *path, struct token_key *key, char *err, size_t errlen)
{
    return keyfile_load(path, key->k, err, errlen);
}

att_err token_key_create(const char *path, char *err, size_t errlen) { return keyfile_create(path, err, errlen); }

att_err token_generate(char out[TOKEN_STR_MAX])
{
    out[0] = '\0';
    if (crypto_ready() != ATT_OK) return ATT_E_CRYPTO;
    unsigned char raw[TOKEN_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    sodium_bin2base64(out + TOKEN_PREFIX_LEN, TOKEN_STR_MAX - TOKEN_PREFIX_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return strlen(out) == TOKEN_LEN ? ATT_OK : ATT_E_CRYPTO;
}

void token_hash(const struct token_key *key, const char *token, size_t len, unsigned char out[TOKEN_HASH_BYTES])
{
    /* Cannot fail for these fixed sizes once libsodium is initialised; if initialisation itself
     * failed no token could have been made or checked, and going on would compare garbage. */
    if (crypto_ready() != ATT_OK ||
        crypto_generichash(out, TOKEN_HASH_BYTES, (const unsigned char *)token, len, key->k, TOKEN_KEY_BYTES) != 0) {
        log_error("token", "keyed hash failed: libsodium unusable");
        abort();
    }
}

bool token_well_formed(const char *token, size_t len)
{
    if (!token || len != TOKEN_LEN || memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0) return false;
    for (size_t i = TOKEN_PREFIX_LEN; i < len; i++) {
        char ch = token[i];
        bool ok =
            (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok) return false;
    }
    return true;
}
