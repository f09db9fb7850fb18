/* Console sign-in crypto: account passwords (argon2id), TOTP second factors (RFC 6238), session
 * secrets and the CSRF token bound to each session. Pure computation: no I/O, no database. */
#ifndef ATTENDD_CONSOLE_H
#define ATTENDD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/token.h"

#define CONSOLE_PASSWORD_MIN 12       /* bytes: a passphrase, not a PIN */
#define CONSOLE_PASSWORD_MAX 1024     /* bytes: bounds the hashing work an attacker can ask for */
#define CONSOLE_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define CONSOLE_TOTP_SECRET_BYTES 20  /* 160-bit shared secret (RFC 4226 §4 recommends >= 160) */
#define CONSOLE_TOTP_STEP_S 30        /* RFC 6238 default time step */
#define CONSOLE_TOTP_DIGITS 6         /* what authenticator apps show */
#define CONSOLE_TOTP_BASE32_MAX 40    /* base32 of the secret with its NUL */
#define CONSOLE_CSRF_MAX 48           /* base64url of 32 bytes with its NUL */
#define CONSOLE_COOKIE_NAME "attendd_session"

/* The HMAC of a TOTP (libsodium offers the SHA-2 family; the console issues SHA-256 secrets). */
enum console_totp_alg { CONSOLE_TOTP_SHA256, CONSOLE_TOTP_SHA512 };

/* Whether pw is an acceptable new password: CONSOLE_PASSWORD_MIN..MAX bytes of display text. */
bool console_password_ok(const char *pw);
/* argon2id hash of pw (crypto_pwhash_str, interactive limits) into out. ATT_E_NOMEM when the
 * memory the hash needs cannot be had. */
att_err console_password_hash(const char *pw, char out[CONSOLE_PASSWORD_HASH_MAX]);
/* A new random password of 22 base64url characters (128 bits) into pw and its argon2id hash into hash. */
#define CONSOLE_NEW_PASSWORD_MAX 32
att_err console_password_new(char pw[CONSOLE_NEW_PASSWORD_MAX], char hash[CONSOLE_PASSWORD_HASH_MAX]);
/* Whether pw matches hash. A NULL hash costs the same as a real one and never matches, so an unknown
 * user cannot be told from a wrong password by the time the answer takes. */
bool console_password_verify(const char *hash, const char *pw);

/* The TOTP value of step (time / step length) with the given digits (RFC 4226 §5.3 truncation). */
uint32_t console_totp_at(const unsigned char *secret, size_t len, enum console_totp_alg alg, int64_t step, int digits);
/* Check a 6-digit code against a SHA-256 secret at now_s, allowing one step of clock drift either
 * way. A step at or before last_step (the last accepted one; -1 for none) is refused: each code
 * works once. On success *step is the step that matched. */
bool console_totp_check(const unsigned char *secret, size_t len, int64_t now_s, const char *code, int64_t last_step,
                        int64_t *step);
/* A new random TOTP secret. */
void console_totp_secret(unsigned char out[CONSOLE_TOTP_SECRET_BYTES]);
/* RFC 4648 base32 without padding (what otpauth:// URIs carry) into out (outlen bytes with NUL);
 * false when it does not fit. */
bool console_base32(const unsigned char *data, size_t len, char *out, size_t outlen);

/* The CSRF token of a session: a keyed hash of its secret (base64url), so it is never stored, is
 * bound to that one session, and cannot be computed without the server's key. */
void console_csrf_token(const struct token_key *key, const char *secret, size_t len, char out[CONSOLE_CSRF_MAX]);
/* Constant-time check of a presented CSRF token against the session's. */
bool console_csrf_ok(const struct token_key *key, const char *secret, size_t len, const char *presented);

#endif
