/* Sign-in and sign-out: the password and TOTP checks, the lock-out counter, the new session and the
 * audit row of every attempt, committed together. */
#include "attendd/console_signin.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/store_audit.h"

void console_actor_name(const char *username, char *out, size_t len)
{
    snprintf(out, len, "user:%s", console_username_ok(username) ? username : "?");
}

struct signin_tx {
    const struct token_key *key;
    const struct console_policy *pol;
    const struct console_signin_req *in;
    struct console_signin_result *out;
};

/* The audit row of one attempt: reason says why it failed ("ok" on success), never the password. */
static att_err audit_attempt(PGconn *c, const struct console_signin_req *in, const char *session_id, att_err outcome,
                             const char *reason, bool locked_now)
{
    char actor[80];
    console_actor_name(in->username, actor, sizeof actor);
    json_t *d = json_pack("{s:s, s:s}", "reason", reason, "address", in->address ? in->address : "?");
    if (d != NULL && locked_now) json_object_set_new(d, "locked", json_true());
    char *detail = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (detail == NULL) return ATT_E_NOMEM;
    struct audit_entry e = {
        .token_id = session_id,
        .actor = actor,
        .action = "session.create",
        .target_type = "user",
        .target_id = console_username_ok(in->username) ? in->username : NULL,
        .outcome = att_err_code(outcome),
        .detail_json = detail,
    };
    att_err rc = store_audit_insert(c, &e);
    free(detail);
    return rc;
}

static att_err fail(PGconn *c, struct signin_tx *t, const struct console_login *l, const char *reason)
{
    bool locked_now = false;
    if (l != NULL) {
        att_err rc =
            store_console_login_failed(c, l->user.id, t->pol->lockout_failures, t->pol->lockout_s, &locked_now);
        if (rc != ATT_OK) return rc;
    }
    t->out->outcome = SIGNIN_BAD_CREDENTIALS;
    return audit_attempt(c, t->in, NULL, ATT_E_UNAUTHORIZED, reason, locked_now);
}

static att_err signin_run(PGconn *c, void *arg)
{
    struct signin_tx *t = arg;
    const struct console_signin_req *in = t->in;
    struct console_signin_result *out = t->out;
    memset(out, 0, sizeof *out);
    struct console_login l;
    att_err rc = console_username_ok(in->username) ? store_console_login_get(c, in->username, &l) : ATT_E_NOT_FOUND;
    if (rc == ATT_E_NOT_FOUND) {
        (void)console_password_verify(NULL, in->password); /* the same time as a real check */
        return fail(c, t, NULL, "unknown_user");
    }
    if (rc != ATT_OK) return rc;
    if (l.locked_s > 0) { /* no password is checked while locked: guessing gains nothing */
        out->outcome = SIGNIN_LOCKED;
        out->retry_after_s = l.locked_s;
        rc = audit_attempt(c, in, NULL, ATT_E_AUTH_LOCKED, "locked", false);
        goto done;
    }
    bool pw_ok = console_password_verify(l.password_hash, in->password);
    if (l.user.disabled) {
        rc = fail(c, t, NULL, "disabled");
        goto done;
    }
    if (!pw_ok) {
        rc = fail(c, t, &l, "bad_password");
        goto done;
    }
    int64_t step = -1;
    if (l.has_totp) {
        if (in->totp == NULL) {
            out->outcome = SIGNIN_TOTP_REQUIRED;
            rc = audit_attempt(c, in, NULL, ATT_E_UNAUTHORIZED, "totp_required", false);
            goto done;
        }
        if (!console_totp_check(l.totp_secret, sizeof l.totp_secret, in->now_s, in->totp, l.totp_last_step, &step)) {
            rc = fail(c, t, &l, "bad_totp");
            goto done;
        }
    }
    if ((rc = store_console_login_ok(c, l.user.id, step)) != ATT_OK) goto done;
    if ((rc = token_generate(out->secret)) != ATT_OK) goto done;
    unsigned char hash[TOKEN_HASH_BYTES];
    token_hash(t->key, out->secret, strlen(out->secret), hash);
    rc = store_console_session_create(c, l.user.id, hash, out->session.id);
    sodium_memzero(hash, sizeof hash);
    if (rc != ATT_OK) goto done;
    out->session.user = l.user;
    out->outcome = SIGNIN_OK;
    rc = audit_attempt(c, in, out->session.id, ATT_OK, "ok", false);
done:
    sodium_memzero(&l, sizeof l);
    if (rc != ATT_OK) sodium_memzero(out, sizeof *out);
    return rc;
}

att_err console_sign_in(PGconn *c, const struct token_key *key, const struct console_policy *pol,
                        const struct console_signin_req *in, struct console_signin_result *out)
{
    struct signin_tx t = {key, pol, in, out};
    return db_transaction(c, signin_run, NULL, &t);
}

struct signout_tx {
    const struct console_session *s;
    const char *address;
};

static att_err signout_run(PGconn *c, void *arg)
{
    struct signout_tx *t = arg;
    att_err rc = store_console_session_end(c, t->s->id);
    if (rc != ATT_OK) return rc;
    char actor[80];
    console_actor_name(t->s->user.username, actor, sizeof actor);
    json_t *d = json_pack("{s:s}", "address", t->address ? t->address : "?");
    char *detail = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (detail == NULL) return ATT_E_NOMEM;
    struct audit_actor a = {t->s->id, actor};
    rc = store_audit_ok(c, &a, "session.delete", "user", t->s->user.username, detail);
    free(detail);
    return rc;
}

att_err console_sign_out(PGconn *c, const struct console_session *s, const char *address)
{
    struct signout_tx t = {s, address};
    return db_transaction(c, signout_run, NULL, &t);
}
