/* The consent register: consent texts (added as the next version, listed, read) and each person's
 * consent (the current state on the person's row, every change in consent_records). */
#include "attendd/store_consent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/text.h"
#include "src/store/statements.h"

static const char *const state_names[] = {"none", "given", "withdrawn"};

const char *consent_state_name(enum consent_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "none";
}

int consent_state_parse(const char *s, enum consent_state *out)
{
    for (size_t i = 0; s && i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum consent_state)i;
            return 0;
        }
    return -1;
}

static bool alnum(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'); }

bool consent_language_ok(const char *s)
{
    if (!s || strlen(s) >= CONSENT_LANG_BUF) return false;
    size_t n = 0;
    while (s[n] >= 'a' && s[n] <= 'z') n++;
    if (n < 2 || n > 3) return false;
    s += n;
    while (*s == '-') {
        s++;
        for (n = 0; alnum(s[n]); n++) {
        }
        if (n < 1 || n > 8) return false;
        s += n;
    }
    return *s == '\0';
}

bool consent_body_ok(const char *body)
{
    if (!body) return false;
    /* a text has paragraphs: line breaks and tabs are allowed, other control characters are not */
    char *copy = strdup(body);
    if (!copy) return false;
    for (char *p = copy; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    bool ok = text_ok(copy, 1, CONSENT_TEXT_MAX_CHARS);
    free(copy);
    return ok;
}

/* Rows of (version, language, body, created_at, created_by) into one block. */
static att_err texts_fill(PGresult *r, struct consent_text **out, size_t *n)
{
    *out = NULL;
    if (n) *n = 0;
    if (PQnfields(r) != 5) return ATT_E_INTERNAL;
    size_t rows = (size_t)PQntuples(r), bytes = rows * sizeof(struct consent_text);
    for (size_t i = 0; i < rows; i++)
        for (int k = 1; k < 5; k++) bytes += (size_t)PQgetlength(r, (int)i, k) + 1;
    struct consent_text *v = calloc(1, bytes ? bytes : 1);
    if (!v) return ATT_E_NOMEM;
    char *p = (char *)(v + rows);
    for (size_t i = 0; i < rows; i++) {
        const char *col[5];
        for (int k = 1; k < 5; k++) {
            size_t len = (size_t)PQgetlength(r, (int)i, k);
            memcpy(p, PQgetvalue(r, (int)i, k), len + 1);
            col[k] = p;
            p += len + 1;
        }
        v[i] = (struct consent_text){.version = atoi(PQgetvalue(r, (int)i, 0)),
                                     .language = col[1],
                                     .body = col[2],
                                     .created_at = col[3],
                                     .created_by = col[4]};
    }
    *out = v;
    if (n) *n = rows;
    return ATT_OK;
}

att_err store_consent_text_add(PGconn *c, const char *language, const char *body, const char *created_by,
                               struct consent_text **out)
{
    *out = NULL;
    if (!consent_language_ok(language) || !consent_body_ok(body) || !created_by || !text_ok(created_by, 1, 200))
        return ATT_E_INVALID;
    const char *values[3] = {language, body, created_by};
    PGresult *r;
    /* two adds racing for the same version: the loser's primary key conflict is ATT_E_CONFLICT */
    att_err rc = db_exec_prepared(c, "consent_text_insert", 3, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? texts_fill(r, out, NULL) : ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_consent_text_list(PGconn *c, struct consent_text **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *r;
    att_err rc = db_exec_prepared(c, "consent_text_list", 0, NULL, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = texts_fill(r, out, n);
    PQclear(r);
    return rc;
}

att_err store_consent_text_get(PGconn *c, int version, struct consent_text **out)
{
    *out = NULL;
    if (version < 1) return ATT_E_NOT_FOUND;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *values[1] = {v};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "consent_text_get", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? texts_fill(r, out, NULL) : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_consent_record(PGconn *c, const char *person_id, enum consent_state state, int text_version,
                             const char *token_id, const char *actor)
{
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    if ((state != CONSENT_GIVEN && state != CONSENT_WITHDRAWN) || (state == CONSENT_GIVEN && text_version < 1) ||
        text_version < 0 || !actor || !text_ok(actor, 1, 200) || (token_id && !att_uuid_valid(token_id)))
        return ATT_E_INVALID;
    const char *values[5] = {person_id, consent_state_name(state), NULL, token_id, actor};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "consent_set", 2, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) return ATT_E_NOT_FOUND;
    char v[16];
    snprintf(v, sizeof v, "%d", text_version);
    values[2] = text_version > 0 ? v : NULL;
    rc = db_exec_prepared(c, "consent_record_insert", 5, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r); /* an unknown text version is a foreign key violation: ATT_E_CONFLICT */
    return rc;
}

static att_err fill_record(const PGresult *r, int row, void *dst)
{
    struct consent_record *o = dst;
    if (PQnfields(r) != 5) return ATT_E_INTERNAL;
    if (!db_copy_text(o->state, sizeof o->state, PQgetvalue(r, row, 0)) ||
        !db_copy_text(o->token_id, sizeof o->token_id, PQgetvalue(r, row, 2)) ||
        !db_copy_text(o->actor, sizeof o->actor, PQgetvalue(r, row, 3)) ||
        !db_copy_text(o->recorded_at, sizeof o->recorded_at, PQgetvalue(r, row, 4))) {
        log_error("db", "consent_records row does not fit struct consent_record");
        return ATT_E_INTERNAL;
    }
    o->text_version = atoi(PQgetvalue(r, row, 1));
    return ATT_OK;
}

att_err store_consent_history(PGconn *c, const char *person_id, struct consent_record **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {person_id};
    void *rows = NULL;
    att_err rc = db_list_rows(c, "consent_history", 1, values, sizeof(struct consent_record), fill_record, &rows, n);
    *out = rows;
    return rc;
}

att_err store_person_faces_delete(PGconn *c, const char *person_id, size_t *deleted)
{
    *deleted = 0;
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "person_erase_faces", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *deleted = strtoul(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return ATT_OK;
}
