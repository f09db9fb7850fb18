/* Console accounts managed by an administrator through the API: create one with a generated one-time
 * password, disable one (its sessions end); each change commits with its audit row. */
#ifndef ATTENDD_CONSOLE_ACCOUNTS_H
#define ATTENDD_CONSOLE_ACCOUNTS_H

#include <libpq-fe.h>

#include "attendd/console.h"
#include "attendd/errors.h"
#include "attendd/store_audit.h"
#include "attendd/store_console.h"

struct console_account_req {
    const char *username;     /* console_username_ok */
    const char *display_name; /* 1..200 characters of display text */
    enum console_role role;
    const char *const *departments; /* the wards the account is limited to (a manager needs one) */
    size_t n_departments;           /* 0..TOKEN_DEPARTMENTS_MAX */
};

/* Create the account: its password generated (into password: give it to the person once) and hashed,
 * the row and its audit row ("user.create") in one transaction; the stored account into *out.
 * ATT_E_INVALID for a request the checks above refuse, ATT_E_CONFLICT when the username is taken. */
att_err console_account_create(PGconn *c, const struct audit_actor *a, const struct console_account_req *in,
                               char password[CONSOLE_NEW_PASSWORD_MAX], struct console_user *out);

/* Disable account id (canonical uuid) and end its sessions, with its audit row ("user.disable").
 * ATT_E_NOT_FOUND for no such account, ATT_E_CONFLICT when it is disabled already. */
att_err console_account_disable(PGconn *c, const struct audit_actor *a, const char *id, struct console_user *out);

#endif
