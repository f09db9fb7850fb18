/* Key files for any 32-byte secret. The checks (mode, raw/hex forms, O_EXCL creation) live in
 * src/util/token.c today; this neutral entry point lets template encryption share them unchanged. */
#include "attendd/keyfile.h"

#include <sodium.h>
#include <string.h>

#include "attendd/token.h"

_Static_assert(TOKEN_KEY_BYTES == KEYFILE_BYTES, "token keys and key files differ in size");

att_err keyfile_load(const char *path, unsigned char out[KEYFILE_BYTES], char *err, size_t errlen)
{
    struct token_key k;
    att_err e = token_key_load(path, &k, err, errlen);
    if (e == ATT_OK) memcpy(out, k.k, KEYFILE_BYTES);
    else memset(out, 0, KEYFILE_BYTES);
    sodium_memzero(&k, sizeof k);
    return e;
}

att_err keyfile_create(const char *path, char *err, size_t errlen)
{
    return token_key_create(path, err, errlen);
}
