/* API tokens in PostgreSQL (api_tokens): create, look up by keyed hash, list, revoke, touch.
 * Only hashes reach the database; every value is a bound parameter of a prepared statement. */
#include "attendd/store_tokens.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/text.h"
#include "attendd/uuid.h"
#include "src/store/statements.h"

/* Names are shown in listings and the audit log: printable UTF-8 (text_ok), 1..127 bytes (fits
 * token_info). */
static bool name_ok(const char *s)
{
    if (!s) return false;
    size_t len = strlen(s);
    return len > 0 && len < sizeof((struct token_info *)0)->name && text_ok(s, 1, (long)len);
}

/* One row of TOKEN_COLS (see statements.c) into *out. */
static att_err fill_info(const PGresult *r, int row, struct token_info *out)
{
    memset(out, 0, sizeof *out);
    if (PQnfields(r) != 8) return ATT_E_INTERNAL;
    if (!db_copy_text(out->id, sizeof out->id, PQgetvalue(r, row, 0)) ||
        !db_copy_text(out->name, sizeof out->name, PQgetvalue(r, row, 1)) ||
        role_parse(PQgetvalue(r, row, 2), &out->role) != 0 ||
        !db_copy_text(out->created_at, sizeof out->created_at, PQgetvalue(r, row, 3)) ||
        !db_copy_text(out->last_used_at, sizeof out->last_used_at, PQgetvalue(r, row, 4))) {
        log_error("db", "api_tokens row does not fit token_info");
        return ATT_E_INTERNAL;
    }
    out->revoked = PQgetvalue(r, row, 5)[0] == 't';
    out->pseudonymous = PQgetvalue(r, row, 6)[0] == 't';
    if (!departments_parse(PQgetvalue(r, row, 7), out->departments, &out->n_departments)) {
        log_error("db", "api_tokens departments do not fit token_info");
        return ATT_E_INTERNAL;
    }
    return ATT_OK;
}

bool departments_parse(const char *text, char (*out)[TOKEN_DEPARTMENT_BUF], size_t *n)
{
    *n = 0;
    if (!*text) return true;
    json_t *a = json_loads(text, 0, NULL);
    size_t i;
    json_t *v;
    bool fits = json_is_array(a) && json_array_size(a) <= TOKEN_DEPARTMENTS_MAX;
    json_array_foreach(a, i, v) if (fits &&
                                    !db_copy_text(out[i], TOKEN_DEPARTMENT_BUF,
                                                  json_string_value(v) ? json_string_value(v) : "")) fits = false;
    *n = fits ? json_array_size(a) : 0;
    json_decref(a);
    return fits;
}

att_err store_token_create(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                           const char *created_by, char token_out[TOKEN_STR_MAX], char id_out[ATT_UUID_STR])
{
    return store_token_create_ex(c, key, name, role, false, created_by, token_out, id_out);
}

att_err store_token_create_ex(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                              bool pseudonymous, const char *created_by, char token_out[TOKEN_STR_MAX],
                              char id_out[ATT_UUID_STR])
{
    return store_token_create_scoped(c, key, name, role, pseudonymous, NULL, 0, created_by, token_out, id_out);
}

bool token_sees_department(const struct token_info *t, const char *dept)
{
    if (t->n_departments == 0) return true;
    for (size_t i = 0; dept && *dept && i < t->n_departments; i++)
        if (strcmp(t->departments[i], dept) == 0) return true;
    return false;
}

char *token_departments_json(const struct token_info *t, bool *nomem)
{
    *nomem = false;
    if (t->n_departments == 0) return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->n_departments; i++)
        if (json_array_append_new(a, json_string(t->departments[i])) != 0) json_decref(a), a = NULL;
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    *nomem = s == NULL;
    return s;
}

att_err store_token_create_scoped(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                                  bool pseudonymous, const char *const *departments, size_t n, const char *created_by,
                                  char token_out[TOKEN_STR_MAX], char id_out[ATT_UUID_STR])
{
    token_out[0] = '\0';
    id_out[0] = '\0';
    if (n > TOKEN_DEPARTMENTS_MAX) return ATT_E_INVALID;
    struct token_info scope = {.n_departments = n};
    for (size_t i = 0; i < n; i++)
        if (!departments[i] || !text_ok(departments[i], 1, 200) ||
            !db_copy_text(scope.departments[i], TOKEN_DEPARTMENT_BUF, departments[i]))
            return ATT_E_INVALID;
    bool nomem;
    char *deps = token_departments_json(&scope, &nomem);
    if (nomem) return ATT_E_NOMEM;
    token_out[0] = '\0';
    id_out[0] = '\0';
    if (!key || !name_ok(name) || (role != ROLE_ADMIN && role != ROLE_HR && role != ROLE_KIOSK) ||
        (created_by && !att_uuid_valid(created_by))) {
        free(deps);
        return ATT_E_INVALID;
    }

    char tok[TOKEN_STR_MAX];
    att_err rc = token_generate(tok);
    if (rc != ATT_OK) {
        free(deps);
        return rc;
    }
    unsigned char hash[TOKEN_HASH_BYTES];
    token_hash(key, tok, strlen(tok), hash);

    const char *values[6] = {name, role_name(role), (const char *)hash, created_by, pseudonymous ? "true" : "false",
                             deps};
    const int lengths[6] = {0, 0, TOKEN_HASH_BYTES, 0, 0, 0};
    const int formats[6] = {0, 0, 1, 0, 0, 0}; /* the hash goes in binary: no hex round trip */
    PGresult *r;
    char st[6];
    rc = db_exec_prepared(c, "token_insert", 6, values, lengths, formats, &r, st);
    free(deps);
    if (rc == ATT_OK) {
        if (PQntuples(r) != 1 || !db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
        PQclear(r);
    } else if (strcmp(st, "23503") == 0) {
        rc = ATT_E_INVALID; /* created_by names no token */
    }
    if (rc == ATT_OK) memcpy(token_out, tok, strlen(tok) + 1);
    else id_out[0] = '\0';
    sodium_memzero(tok, sizeof tok);
    return rc;
}

att_err store_token_lookup(PGconn *c, const unsigned char hash[TOKEN_HASH_BYTES], struct token_info *out)
{
    const char *values[1] = {(const char *)hash};
    const int lengths[1] = {TOKEN_HASH_BYTES};
    const int formats[1] = {1};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "token_lookup", 1, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? fill_info(r, 0, out) : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_token_list(PGconn *c, struct token_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *r;
    att_err rc = db_exec_prepared(c, "token_list", 0, NULL, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int rows = PQntuples(r);
    struct token_info *v = calloc(rows > 0 ? (size_t)rows : 1, sizeof *v);
    if (!v) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    for (int i = 0; i < rows && rc == ATT_OK; i++) rc = fill_info(r, i, &v[i]);
    PQclear(r);
    if (rc != ATT_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = (size_t)rows;
    return ATT_OK;
}

/* Run an UPDATE by token id; ATT_E_NOT_FOUND when it touched no row and that matters. */
static att_err update_by_id(PGconn *c, const char *stmt, const char *id, bool zero_is_not_found)
{
    if (!att_uuid_valid(id)) return ATT_E_INVALID;
    const char *values[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (zero_is_not_found && strcmp(PQcmdTuples(r), "0") == 0) rc = ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_token_revoke(PGconn *c, const char *id) { return update_by_id(c, "token_revoke", id, true); }

/* Zero rows is normal here: the token was touched less than a minute ago. */
att_err store_token_touch(PGconn *c, const char *id) { return update_by_id(c, "token_touch", id, false); }
