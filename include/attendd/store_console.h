/* Console accounts and sessions in PostgreSQL (console_users, console_sessions): argon2id password
 * hashes, TOTP secrets, lock-out counters, and sessions stored only as keyed hashes of their secrets. */
#ifndef ATTENDD_STORE_CONSOLE_H
#define ATTENDD_STORE_CONSOLE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/console.h"
#include "attendd/errors.h"
#include "attendd/store_tokens.h"
#include "attendd/token.h"
#include "attendd/uuid.h"

enum console_role { CONSOLE_ADMIN, CONSOLE_HR, CONSOLE_MANAGER };

/* "admin", "hr", "manager"; console_role_parse returns false on anything else. */
const char *console_role_name(enum console_role r);
bool console_role_parse(const char *s, enum console_role *out);
/* Whether s is a valid username: 1..64 of [a-z0-9._-], starting with a letter or digit. */
bool console_username_ok(const char *s);

/* An account as listed and shown (no secrets). */
struct console_user {
    char id[ATT_UUID_STR];
    char username[65];
    char display_name[801]; /* up to 200 characters of UTF-8 */
    enum console_role role;
    size_t n_departments; /* a manager's wards (need to know, like a token's departments); 0: none */
    char departments[TOKEN_DEPARTMENTS_MAX][TOKEN_DEPARTMENT_BUF];
    bool totp; /* a second factor is set */
    bool disabled;
    char created_at[40]; /* RFC 3339 UTC */
};

/* What a sign-in checks, read with the row locked (FOR UPDATE) in the caller's transaction. */
struct console_login {
    struct console_user user;
    char password_hash[CONSOLE_PASSWORD_HASH_MAX];
    bool has_totp;
    unsigned char totp_secret[CONSOLE_TOTP_SECRET_BYTES];
    int64_t totp_last_step; /* -1: none accepted yet */
    int locked_s;           /* > 0: locked for this many more seconds */
};

/* A new account. departments[0..n): the wards it is limited to (n = 0: none; a manager needs at least
 * one); totp_secret NULL for none. ATT_E_CONFLICT when the username is taken, ATT_E_INVALID for a value
 * the table refuses. */
att_err store_console_user_create(PGconn *c, const char *username, const char *display_name, enum console_role role,
                                  const char *const *departments, size_t n, const char *password_hash,
                                  const unsigned char *totp_secret, char id_out[ATT_UUID_STR]);
/* Set (or with NULL clear) an account's TOTP secret. ATT_E_NOT_FOUND for no such username. */
att_err store_console_user_set_totp(PGconn *c, const char *username, const unsigned char *totp_secret,
                                    char id_out[ATT_UUID_STR]);
/* Replace an account's password hash (and unlock it). ATT_E_NOT_FOUND for no such username. */
att_err store_console_user_set_password(PGconn *c, const char *username, const char *password_hash,
                                        char id_out[ATT_UUID_STR]);
/* Every account, by username; *out malloc'd (free()), *n entries. */
att_err store_console_user_list(PGconn *c, struct console_user **out, size_t *n);
/* The account with this id. ATT_E_NOT_FOUND if none. */
att_err store_console_user_get(PGconn *c, const char *id, struct console_user *out);
/* Disable an account and end its sessions; the account as it now is into *out. ATT_E_NOT_FOUND when
 * there is no such account, ATT_E_CONFLICT when it is disabled already. */
att_err store_console_user_disable(PGconn *c, const char *id, struct console_user *out);
/* The account to sign in as, its row locked until the transaction ends. ATT_E_NOT_FOUND if none. */
att_err store_console_login_get(PGconn *c, const char *username, struct console_login *out);
/* Count a failed sign-in; once failures reach limit the account is locked for lock_s seconds (and the
 * count starts again). *locked_now: this failure locked it. */
att_err store_console_login_failed(PGconn *c, const char *user_id, int limit, int lock_s, bool *locked_now);
/* A successful sign-in: failures reset; totp_step (>= 0) recorded as the last accepted step. */
att_err store_console_login_ok(PGconn *c, const char *user_id, int64_t totp_step);

/* A session of a signed-in account (what a request authenticated by cookie carries). */
struct console_session {
    char id[ATT_UUID_STR]; /* the session's id (never its secret) */
    struct console_user user;
};
/* Store a new session for user_id under the keyed hash of its secret; its id into id_out. */
att_err store_console_session_create(PGconn *c, const char *user_id, const unsigned char hash[TOKEN_HASH_BYTES],
                                     char id_out[ATT_UUID_STR]);
/* The live session with this hash: not ended, used within idle_s, begun within max_s, of an enabled
 * account. ATT_E_NOT_FOUND otherwise. Its last use is recorded (at most every few seconds). */
att_err store_console_session_lookup(PGconn *c, const unsigned char hash[TOKEN_HASH_BYTES], int idle_s, int max_s,
                                     struct console_session *out);
/* End a session (sign-out). ATT_E_NOT_FOUND when it is not live. */
att_err store_console_session_end(PGconn *c, const char *session_id);
/* Whether session session_id still stands: not ended (signed out, or its account disabled) and its
 * account neither disabled nor deleted. Into *open; an error only when the database cannot answer. */
att_err store_console_session_open(PGconn *c, const char *session_id, bool *open);

#endif
