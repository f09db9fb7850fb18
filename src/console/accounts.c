/* Console accounts created and disabled through the API, each change with its audit row in one
 * transaction. */
#include "attendd/console_accounts.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>

#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/text.h"

struct account_create_tx {
    const struct audit_actor *actor;
    const struct console_account_req *in;
    const char *hash;
    struct console_user *out;
};

static att_err audit_user(PGconn *c, const struct audit_actor *a, const char *action, const struct console_user *u)
{
    json_t *deps = json_array();
    for (size_t i = 0; deps && i < u->n_departments; i++) json_array_append_new(deps, json_string(u->departments[i]));
    json_t *d = deps
        ? json_pack("{s:s, s:s, s:o}", "username", u->username, "role", console_role_name(u->role), "departments", deps)
        : NULL;
    char *txt = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (txt == NULL) return ATT_E_NOMEM;
    att_err e = store_audit_ok(c, a, action, "user", u->id, txt);
    free(txt);
    return e;
}

static att_err run_create(PGconn *c, void *arg)
{
    struct account_create_tx *t = arg;
    char id[ATT_UUID_STR];
    att_err e = store_console_user_create(c, t->in->username, t->in->display_name, t->in->role, t->in->departments,
                                          t->in->n_departments, t->hash, NULL, id);
    if (e == ATT_OK) e = store_console_user_get(c, id, t->out);
    if (e == ATT_OK) e = audit_user(c, t->actor, "user.create", t->out);
    return e;
}

att_err console_account_create(PGconn *c, const struct audit_actor *a, const struct console_account_req *in,
                               char password[CONSOLE_NEW_PASSWORD_MAX], struct console_user *out)
{
    if (!console_username_ok(in->username) || !text_ok(in->display_name, 1, 200) ||
        in->n_departments > TOKEN_DEPARTMENTS_MAX || (in->role == CONSOLE_MANAGER && in->n_departments == 0))
        return ATT_E_INVALID;
    for (size_t i = 0; i < in->n_departments; i++)
        if (!text_ok(in->departments[i], 1, 200)) return ATT_E_INVALID;
    char hash[CONSOLE_PASSWORD_HASH_MAX];
    att_err e = console_password_new(password, hash);
    if (e != ATT_OK) return e;
    struct account_create_tx t = {.actor = a, .in = in, .hash = hash, .out = out};
    e = db_transaction(c, run_create, NULL, &t);
    sodium_memzero(hash, sizeof hash);
    if (e != ATT_OK) sodium_memzero(password, CONSOLE_NEW_PASSWORD_MAX);
    return e;
}

struct account_disable_tx {
    const struct audit_actor *actor;
    const char *id;
    struct console_user *out;
};

static att_err run_disable(PGconn *c, void *arg)
{
    struct account_disable_tx *t = arg;
    att_err e = store_console_user_disable(c, t->id, t->out);
    if (e == ATT_OK) e = audit_user(c, t->actor, "user.disable", t->out);
    return e;
}

att_err console_account_disable(PGconn *c, const struct audit_actor *a, const char *id, struct console_user *out)
{
    struct account_disable_tx t = {.actor = a, .id = id, .out = out};
    return db_transaction(c, run_disable, NULL, &t);
}
