/* Console sign-in crypto: argon2id password hashes, RFC 6238 TOTP with libsodium's HMAC-SHA-2, base32
 * for otpauth URIs, and CSRF tokens derived from session secrets. */
#include "attendd/console.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "attendd/text.h"

bool console_password_ok(const char *pw)
{
    if (pw == NULL) return false;
    size_t n = strlen(pw);
    return n >= CONSOLE_PASSWORD_MIN && n <= CONSOLE_PASSWORD_MAX && text_chars(pw) > 0;
}

att_err console_password_hash(const char *pw, char out[CONSOLE_PASSWORD_HASH_MAX])
{
    _Static_assert(crypto_pwhash_STRBYTES <= CONSOLE_PASSWORD_HASH_MAX, "hash buffer too small");
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ATT_E_NOMEM;
    return ATT_OK;
}

att_err console_password_new(char pw[CONSOLE_NEW_PASSWORD_MAX], char hash[CONSOLE_PASSWORD_HASH_MAX])
{
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(pw, CONSOLE_NEW_PASSWORD_MAX, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(r, sizeof r);
    return console_password_hash(pw, hash);
}

/* A hash of a random password, verified against when the user is unknown (same cost, never a match). */
static char dummy_hash[CONSOLE_PASSWORD_HASH_MAX];
static bool dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    unsigned char r[24];
    char pw[64];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(pw, sizeof pw, r, sizeof r);
    dummy_ok = console_password_hash(pw, dummy_hash) == ATT_OK;
    sodium_memzero(pw, sizeof pw);
}

bool console_password_verify(const char *hash, const char *pw)
{
    if (pw == NULL) return false;
    if (hash == NULL) {
        pthread_once(&dummy_once, dummy_init);
        if (dummy_ok) {
            int same_work = crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw));
            (void)same_work;
        }
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

uint32_t console_totp_at(const unsigned char *secret, size_t len, enum console_totp_alg alg, int64_t step, int digits)
{
    unsigned char msg[8], mac[crypto_auth_hmacsha512_BYTES];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    size_t maclen;
    if (alg == CONSOLE_TOTP_SHA512) {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, secret, len);
        crypto_auth_hmacsha512_update(&st, msg, sizeof msg);
        crypto_auth_hmacsha512_final(&st, mac);
        maclen = crypto_auth_hmacsha512_BYTES;
    } else {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, secret, len);
        crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
        crypto_auth_hmacsha256_final(&st, mac);
        maclen = crypto_auth_hmacsha256_BYTES;
    }
    /* RFC 4226 §5.3 dynamic truncation */
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
        ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    sodium_memzero(mac, sizeof mac);
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++) mod *= 10;
    return bin % mod;
}

bool console_totp_check(const unsigned char *secret, size_t len, int64_t now_s, const char *code, int64_t last_step,
                        int64_t *step)
{
    if (code == NULL || strlen(code) != CONSOLE_TOTP_DIGITS) return false;
    uint32_t want = 0;
    for (const char *p = code; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        want = want * 10 + (uint32_t)(*p - '0');
    }
    int64_t now_step = now_s / CONSOLE_TOTP_STEP_S;
    bool ok = false;
    /* every candidate is computed, so the time taken does not say which one matched */
    for (int64_t s = now_step - 1; s <= now_step + 1; s++) {
        uint32_t v = console_totp_at(secret, len, CONSOLE_TOTP_SHA256, s, CONSOLE_TOTP_DIGITS);
        if (v == want && s > last_step && !ok) {
            ok = true;
            *step = s;
        }
    }
    return ok;
}

void console_totp_secret(unsigned char out[CONSOLE_TOTP_SECRET_BYTES])
{
    randombytes_buf(out, CONSOLE_TOTP_SECRET_BYTES);
}

bool console_base32(const unsigned char *data, size_t len, char *out, size_t outlen)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t need = (len * 8 + 4) / 5 + 1;
    if (outlen < need) return false;
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out[o++] = alphabet[(buf << (5 - bits)) & 31];
    out[o] = '\0';
    return true;
}

static void csrf_raw(const struct token_key *key, const char *secret, size_t len, unsigned char out[32])
{
    static const char domain[] = "attendd console csrf"; /* separates it from the session's own hash */
    crypto_generichash_state st;
    crypto_generichash_init(&st, key->k, TOKEN_KEY_BYTES, 32);
    crypto_generichash_update(&st, (const unsigned char *)domain, sizeof domain);
    crypto_generichash_update(&st, (const unsigned char *)secret, len);
    crypto_generichash_final(&st, out, 32);
}

void console_csrf_token(const struct token_key *key, const char *secret, size_t len, char out[CONSOLE_CSRF_MAX])
{
    unsigned char raw[32];
    csrf_raw(key, secret, len, raw);
    sodium_bin2base64(out, CONSOLE_CSRF_MAX, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool console_csrf_ok(const struct token_key *key, const char *secret, size_t len, const char *presented)
{
    if (presented == NULL) return false;
    char want[CONSOLE_CSRF_MAX];
    console_csrf_token(key, secret, len, want);
    size_t n = strlen(want);
    bool ok = strlen(presented) == n && sodium_memcmp(want, presented, n) == 0;
    sodium_memzero(want, sizeof want);
    return ok;
}
