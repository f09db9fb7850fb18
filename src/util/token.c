/* API token crypto (libsodium): key files, random tokens, keyed BLAKE2b hashes, syntax checks.
 * Secrets never leave this file except as the token string handed to the caller once. */
#include "attendd/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/log.h"

#define TOKEN_PREFIX "att_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RANDOM_BYTES 32
/* base64url without padding of 32 bytes: ceil(32 * 4 / 3) = 43 characters */
#define TOKEN_B64_LEN 43
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_B64_LEN)

_Static_assert(TOKEN_LEN < TOKEN_STR_MAX, "token buffer too small");

const char *role_name(enum att_role r)
{
    switch (r) {
    case ROLE_ADMIN: return "admin";
    case ROLE_HR: return "hr";
    default: return "none";
    }
}

int role_parse(const char *s, enum att_role *out)
{
    if (!s) return -1;
    if (strcmp(s, "admin") == 0) *out = ROLE_ADMIN;
    else if (strcmp(s, "hr") == 0) *out = ROLE_HR;
    else return -1;
    return 0;
}

/* sodium_init is idempotent and thread-safe; it only fails when no entropy source works. */
static att_err crypto_ready(void) { return sodium_init() < 0 ? ATT_E_CRYPTO : ATT_OK; }

att_err token_key_load(const char *path, struct token_key *key, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "no key file configured");
        return ATT_E_CONFIG;
    }
    if (crypto_ready() != ATT_OK) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return ATT_E_CRYPTO;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s: not a regular file", path);
        close(fd);
        return ATT_E_CONFIG;
    }
    /* A key others can read is a leaked key; one others can write can be swapped. Refuse both
     * rather than "fix" the mode: the operator has to notice. */
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "key file %s: mode %04o gives access to group/other; chmod 600 it", path,
                 (unsigned)(st.st_mode & 07777));
        close(fd);
        return ATT_E_CONFIG;
    }
    /* read one byte more than the longest valid form to detect longer files */
    unsigned char buf[2 * TOKEN_KEY_BYTES + 2];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
            sodium_memzero(buf, sizeof buf);
            close(fd);
            return ATT_E_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);

    att_err rc = ATT_OK;
    size_t hexlen = n;
    if (hexlen == 2 * TOKEN_KEY_BYTES + 1 && buf[hexlen - 1] == '\n') hexlen--;
    if (n == TOKEN_KEY_BYTES) {
        memcpy(key->k, buf, TOKEN_KEY_BYTES);
    } else if (hexlen == 2 * TOKEN_KEY_BYTES) {
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_hex2bin(key->k, TOKEN_KEY_BYTES, (const char *)buf, hexlen, NULL, &bin_len, &end) != 0 ||
            bin_len != TOKEN_KEY_BYTES || end != (const char *)buf + hexlen) {
            snprintf(err, errlen, "key file %s: 64 characters but not hexadecimal", path);
            rc = ATT_E_CONFIG;
        }
    } else {
        snprintf(err, errlen, "key file %s: must hold %d raw bytes or %d hex characters, not %s%zu bytes", path,
                 TOKEN_KEY_BYTES, 2 * TOKEN_KEY_BYTES, n == sizeof buf ? "at least " : "", n);
        rc = ATT_E_CONFIG;
    }
    sodium_memzero(buf, sizeof buf);
    if (rc != ATT_OK) sodium_memzero(key, sizeof *key);
    return rc;
}

att_err token_key_create(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "no key file path given");
        return ATT_E_CONFIG;
    }
    if (crypto_ready() != ATT_OK) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return ATT_E_CRYPTO;
    }
    /* O_EXCL: never overwrite a key, that would orphan every hash or template made with it */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "creating key file %s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    unsigned char k[TOKEN_KEY_BYTES];
    randombytes_buf(k, sizeof k);
    att_err rc = ATT_OK;
    size_t off = 0;
    /* fchmod: the umask could only have narrowed 0600, but be explicit about the result */
    if (fchmod(fd, 0600) != 0) {
        snprintf(err, errlen, "key file %s: chmod: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    while (rc == ATT_OK && off < sizeof k) {
        ssize_t w = write(fd, k + off, sizeof k - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            snprintf(err, errlen, "writing key file %s: %s", path, strerror(errno));
            rc = ATT_E_IO;
            break;
        }
        off += (size_t)w;
    }
    sodium_memzero(k, sizeof k);
    if (rc == ATT_OK && fsync(fd) != 0) {
        snprintf(err, errlen, "key file %s: fsync: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    if (close(fd) != 0 && rc == ATT_OK) {
        snprintf(err, errlen, "key file %s: close: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    if (rc != ATT_OK) unlink(path); /* a truncated key must not be mistaken for a good one */
    return rc;
}

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
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_';
        if (!ok) return false;
    }
    return true;
}
