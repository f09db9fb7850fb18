/* The console's sign-in and sign-out use cases: check a password (and TOTP code) against an account
 * with lock-out after repeated failures, open or end a session, and audit every attempt, each in one
 * transaction with its audit row. */
#ifndef ATTENDD_CONSOLE_SIGNIN_H
#define ATTENDD_CONSOLE_SIGNIN_H

#include <libpq-fe.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/store_console.h"
#include "attendd/token.h"

struct console_policy {
    int lockout_failures; /* consecutive failures that lock an account */
    int lockout_s;        /* how long it stays locked */
};

struct console_signin_req {
    const char *username, *password;
    const char *totp;    /* the 6-digit code, or NULL */
    const char *address; /* the client's address, for the audit row */
    int64_t now_s;       /* the time TOTP codes are checked at */
};

enum console_signin_outcome {
    SIGNIN_OK,
    SIGNIN_BAD_CREDENTIALS, /* unknown user, disabled account, wrong password or wrong code: one answer */
    SIGNIN_TOTP_REQUIRED,   /* the password was right; the account asks for its code */
    SIGNIN_LOCKED,          /* refused unread until the lock-out ends */
};

struct console_signin_result {
    enum console_signin_outcome outcome;
    int retry_after_s;              /* SIGNIN_LOCKED: seconds until the account unlocks */
    struct console_session session; /* SIGNIN_OK: the new session */
    char secret[TOKEN_STR_MAX];     /* SIGNIN_OK: the session's secret (the cookie value; wipe it) */
};

/* Sign in: every attempt writes its audit row (action "session.create") and failure count in the
 * same transaction. Returns an error only when the database fails; the outcome says the rest. */
att_err console_sign_in(PGconn *c, const struct token_key *key, const struct console_policy *pol,
                        const struct console_signin_req *in, struct console_signin_result *out);

/* Sign out: end session s and write its audit row ("session.delete") in one transaction. */
att_err console_sign_out(PGconn *c, const struct console_session *s, const char *address);

/* The audit actor name of an account ("user:NAME") into out. */
void console_actor_name(const char *username, char *out, size_t len);

#endif
