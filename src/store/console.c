/* Console accounts and sessions in PostgreSQL (console_users, console_sessions): create and list
 * accounts, the locked read and counters of a sign-in, sessions by keyed hash. Every value is a bound
 * parameter of a prepared statement. */
#include "attendd/store_console.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "src/store/statements.h"

#define USER_NCOLS 8 /* CONSOLE_USER_COLS in statements.c */

static const char *const role_names[] = {"admin", "hr", "manager"};

const char *console_role_name(enum console_role r)
{
    return (unsigned)r < sizeof role_names / sizeof role_names[0] ? role_names[r] : "?";
}

bool console_role_parse(const char *s, enum console_role *out)
{
    for (size_t i = 0; s && i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum console_role)i;
            return true;
        }
    return false;
}

bool console_username_ok(const char *s)
{
    if (s == NULL) return false;
    size_t n = strlen(s);
    if (n < 1 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-'))) return false;
    }
    return true;
}

/* Columns first..first+USER_NCOLS-1 of row into *u. */
static att_err fill_user(const PGresult *r, int row, int first, struct console_user *u)
{
    memset(u, 0, sizeof *u);
    if (PQnfields(r) < first + USER_NCOLS || !db_copy_text(u->id, sizeof u->id, PQgetvalue(r, row, first)) ||
        !db_copy_text(u->username, sizeof u->username, PQgetvalue(r, row, first + 1)) ||
        !db_copy_text(u->display_name, sizeof u->display_name, PQgetvalue(r, row, first + 2)) ||
        !console_role_parse(PQgetvalue(r, row, first + 3), &u->role) ||
        !departments_parse(PQgetvalue(r, row, first + 4), u->departments, &u->n_departments) ||
        !db_copy_text(u->created_at, sizeof u->created_at, PQgetvalue(r, row, first + 7))) {
        log_error("db", "console_users row does not fit console_user");
        return ATT_E_INTERNAL;
    }
    u->totp = PQgetvalue(r, row, first + 5)[0] == 't';
    u->disabled = PQgetvalue(r, row, first + 6)[0] == 't';
    return ATT_OK;
}

static att_err fill_list_row(const PGresult *r, int row, void *dst) { return fill_user(r, row, 0, dst); }

att_err store_console_user_create(PGconn *c, const char *username, const char *display_name, enum console_role role,
                                  const char *const *departments, size_t n, const char *password_hash,
                                  const unsigned char *totp_secret, char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    if (!console_username_ok(username) || !display_name || !password_hash || n > TOKEN_DEPARTMENTS_MAX)
        return ATT_E_INVALID;
    json_t *a = n > 0 ? json_array() : NULL;
    for (size_t i = 0; a && i < n; i++)
        if (!departments[i] || json_array_append_new(a, json_string(departments[i])) != 0) json_decref(a), a = NULL;
    char *deps = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (n > 0 && !deps) return ATT_E_INVALID; /* a department that is not text, or no memory */
    const char *values[6] = {username, display_name,  console_role_name(role),
                             deps,     password_hash, (const char *)totp_secret};
    const int lengths[6] = {0, 0, 0, 0, 0, totp_secret ? CONSOLE_TOTP_SECRET_BYTES : 0};
    const int formats[6] = {0, 0, 0, 0, 0, 1};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_user_insert", 6, values, lengths, formats, &r, NULL);
    free(deps);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1 || !db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_console_user_set_totp(PGconn *c, const char *username, const unsigned char *totp_secret,
                                    char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    const char *values[2] = {username, (const char *)totp_secret};
    const int lengths[2] = {0, totp_secret ? CONSOLE_TOTP_SECRET_BYTES : 0};
    const int formats[2] = {0, 1};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_user_set_totp", 2, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else if (!db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_console_user_set_password(PGconn *c, const char *username, const char *password_hash,
                                        char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    const char *values[2] = {username, password_hash};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_user_set_password", 2, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else if (!db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_console_user_list(PGconn *c, struct console_user **out, size_t *n)
{
    return db_list_rows(c, "console_user_list", 0, NULL, sizeof **out, fill_list_row, (void **)out, n);
}

att_err store_console_user_get(PGconn *c, const char *id, struct console_user *out)
{
    const char *values[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_user_get", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? fill_user(r, 0, 0, out) : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_console_user_disable(PGconn *c, const char *id, struct console_user *out)
{
    const char *values[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_user_disable", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1) rc = fill_user(r, 0, 0, out);
    else {
        /* no row changed: no such account, or one disabled already */
        rc = store_console_user_get(c, id, out);
        if (rc == ATT_OK) rc = ATT_E_CONFLICT;
    }
    PQclear(r);
    return rc;
}

att_err store_console_login_get(PGconn *c, const char *username, struct console_login *out)
{
    memset(out, 0, sizeof *out);
    const char *values[1] = {username};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_login_get", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ATT_E_NOT_FOUND;
    }
    rc = fill_user(r, 0, 0, &out->user);
    if (rc == ATT_OK && !db_copy_text(out->password_hash, sizeof out->password_hash, PQgetvalue(r, 0, USER_NCOLS)))
        rc = ATT_E_INTERNAL;
    if (rc == ATT_OK && !PQgetisnull(r, 0, USER_NCOLS + 1)) {
        const char *hex = PQgetvalue(r, 0, USER_NCOLS + 1); /* bytea as text: \x + hex */
        size_t got = 0;
        if (strncmp(hex, "\\x", 2) != 0 ||
            sodium_hex2bin(out->totp_secret, sizeof out->totp_secret, hex + 2, strlen(hex + 2), NULL, &got, NULL) !=
                0 ||
            got != CONSOLE_TOTP_SECRET_BYTES)
            rc = ATT_E_INTERNAL;
        out->has_totp = true;
    }
    if (rc == ATT_OK) {
        out->totp_last_step = strtoll(PQgetvalue(r, 0, USER_NCOLS + 2), NULL, 10);
        out->locked_s = atoi(PQgetvalue(r, 0, USER_NCOLS + 3));
    }
    PQclear(r);
    if (rc != ATT_OK) sodium_memzero(out, sizeof *out);
    return rc;
}

att_err store_console_login_failed(PGconn *c, const char *user_id, int limit, int lock_s, bool *locked_now)
{
    *locked_now = false;
    char lim[16], ls[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(ls, sizeof ls, "%d", lock_s);
    const char *values[3] = {user_id, lim, ls};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_login_failed", 3, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else *locked_now = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return rc;
}

att_err store_console_login_ok(PGconn *c, const char *user_id, int64_t totp_step)
{
    char step[24];
    snprintf(step, sizeof step, "%lld", (long long)totp_step);
    const char *values[2] = {user_id, step};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_login_ok", 2, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    return rc;
}

att_err store_console_session_create(PGconn *c, const char *user_id, const unsigned char hash[TOKEN_HASH_BYTES],
                                     char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    const char *values[2] = {user_id, (const char *)hash};
    const int lengths[2] = {0, TOKEN_HASH_BYTES};
    const int formats[2] = {0, 1};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_session_insert", 2, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1 || !db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_console_session_lookup(PGconn *c, const unsigned char hash[TOKEN_HASH_BYTES], int idle_s, int max_s,
                                     struct console_session *out)
{
    memset(out, 0, sizeof *out);
    char is[16], ms[16];
    snprintf(is, sizeof is, "%d", idle_s);
    snprintf(ms, sizeof ms, "%d", max_s);
    const char *values[3] = {(const char *)hash, is, ms};
    const int lengths[3] = {TOKEN_HASH_BYTES, 0, 0};
    const int formats[3] = {1, 0, 0};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_session_lookup", 3, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else if (!db_copy_text(out->id, sizeof out->id, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    else rc = fill_user(r, 0, 1, &out->user);
    PQclear(r);
    if (rc != ATT_OK) return rc;
    /* every 5 s at most, and often enough that a session in use never reaches its idle timeout */
    long every_ms = (long)idle_s * 250;
    char ev[24];
    snprintf(ev, sizeof ev, "%ld", every_ms < 5000 ? every_ms : 5000);
    const char *tv[2] = {out->id, ev};
    att_err te = db_exec_prepared(c, "console_session_touch", 2, tv, NULL, NULL, &r, NULL);
    if (te == ATT_OK) PQclear(r);
    /* a failed touch shortens the session at worst; the request it authenticates stands */
    else log_warn("db", "session %s: last use not recorded: %s", out->id, att_err_code(te));
    return ATT_OK;
}

att_err store_console_session_open(PGconn *c, const char *session_id, bool *open)
{
    *open = false;
    const char *values[1] = {session_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_session_open", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *open = PQntuples(r) == 1;
    PQclear(r);
    return ATT_OK;
}

att_err store_console_session_end(PGconn *c, const char *session_id)
{
    const char *values[1] = {session_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "console_session_end", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (strcmp(PQcmdTuples(r), "1") != 0) rc = ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}
