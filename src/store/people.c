/* The roster (people): create, get, filtered keyset-paginated listing, patch and erasure. Every
 * value is a bound parameter of a registered statement; text fields are checked here first. */
#include "attendd/store_people.h"
#include "attendd/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/uuid.h"
#include "src/store/cursor.h"
#include "src/store/statements.h"

#define PERSON_NCOLS 15 /* PERSON_COLS in statements.c */
#define Q_MAX_CHARS 200 /* longest `q` search text */

static bool text_fits(const char *s, long max_chars) { return text_ok(s, 1, max_chars); }

const char *person_new_invalid_field(const struct person_new *p)
{
    if (!p->employee_no || !text_fits(p->employee_no, PERSON_EMPLOYEE_NO_CHARS)) return "employee_no";
    if (!p->name || !text_fits(p->name, PERSON_TEXT_CHARS)) return "name";
    if (p->department && !text_fits(p->department, PERSON_TEXT_CHARS)) return "department";
    if (p->title && !text_fits(p->title, PERSON_TEXT_CHARS)) return "title";
    return NULL;
}

bool person_badge_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > PERSON_BADGE_CHARS) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

const char *person_patch_invalid_field(const struct person_patch *p)
{
    if (p->employee_no && !text_fits(p->employee_no, PERSON_EMPLOYEE_NO_CHARS)) return "employee_no";
    if (p->name && !text_fits(p->name, PERSON_TEXT_CHARS)) return "name";
    if (p->department && (p->clear_department || !text_fits(p->department, PERSON_TEXT_CHARS))) return "department";
    if (p->title && (p->clear_title || !text_fits(p->title, PERSON_TEXT_CHARS))) return "title";
    if (p->badge_id && (p->clear_badge || !person_badge_ok(p->badge_id))) return "badge_id";
    return NULL;
}

/* One PERSON_COLS row into *out; *micros (may be NULL) gets created_at for the cursor. */
static att_err fill_person(const PGresult *r, int row, struct person *out, int64_t *micros)
{
    memset(out, 0, sizeof *out);
    if (PQnfields(r) != PERSON_NCOLS) return ATT_E_INTERNAL;
    if (!db_copy_text(out->id, sizeof out->id, PQgetvalue(r, row, 0)) ||
        !db_copy_text(out->employee_no, sizeof out->employee_no, PQgetvalue(r, row, 1)) ||
        !db_copy_text(out->name, sizeof out->name, PQgetvalue(r, row, 2)) ||
        !db_copy_text(out->department, sizeof out->department, PQgetvalue(r, row, 3)) ||
        !db_copy_text(out->title, sizeof out->title, PQgetvalue(r, row, 4)) ||
        !db_copy_text(out->created_at, sizeof out->created_at, PQgetvalue(r, row, 6)) ||
        !db_copy_text(out->updated_at, sizeof out->updated_at, PQgetvalue(r, row, 7)) ||
        !db_copy_text(out->consent, sizeof out->consent, PQgetvalue(r, row, 10)) ||
        !db_copy_text(out->consent_at, sizeof out->consent_at, PQgetvalue(r, row, 11)) ||
        !db_copy_text(out->badge_id, sizeof out->badge_id, PQgetvalue(r, row, 14))) {
        log_error("db", "people row does not fit struct person");
        return ATT_E_INTERNAL;
    }
    out->active = PQgetvalue(r, row, 5)[0] == 't';
    out->erased = PQgetvalue(r, row, 8)[0] == 't';
    out->biometric = PQgetvalue(r, row, 12)[0] == 't';
    out->has_pin = PQgetvalue(r, row, 13)[0] == 't';
    if (micros) *micros = strtoll(PQgetvalue(r, row, 9), NULL, 10);
    return ATT_OK;
}

att_err store_person_create(PGconn *c, const struct person_new *p, char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    if (!p || person_new_invalid_field(p)) return ATT_E_INVALID;
    const char *values[5] = {p->employee_no, p->name, p->department, p->title, p->active ? "true" : "false"};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "person_insert", 5, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc; /* 23505 on employee_no -> ATT_E_CONFLICT */
    if (PQntuples(r) != 1 || !db_copy_text(id_out, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

/* Run statement `name` that yields the one person row it names into *out; ATT_E_NOT_FOUND when it
 * yields none. */
static att_err person_one(PGconn *c, const char *name, int nparams, const char *const *values, struct person *out)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, name, nparams, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? fill_person(r, 0, out, NULL) : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_person_get(PGconn *c, const char *id, struct person *out)
{
    memset(out, 0, sizeof *out);
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {id};
    return person_one(c, "person_get", 1, values, out);
}

/* `q` as a LIKE pattern body: \ % _ escaped with the default escape character (backslash). */
static char *like_escape(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(2 * n + 1), *o = out;
    if (!out) return NULL;
    for (const char *s = q; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_') *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

att_err store_person_list(PGconn *c, const struct person_filter *f, struct person **out, size_t *n,
                          char next_cursor[STORE_CURSOR_MAX])
{
    *out = NULL;
    *n = 0;
    next_cursor[0] = '\0';
    if (!f || f->limit < 1 || f->limit > PERSON_LIST_MAX_LIMIT) return ATT_E_BAD_PARAM;
    if (f->department && !text_fits(f->department, PERSON_TEXT_CHARS)) return ATT_E_BAD_PARAM;
    bool has_q = f->q && *f->q;
    if (has_q && !text_fits(f->q, Q_MAX_CHARS)) return ATT_E_BAD_PARAM;
    if (f->active != PERSON_ACTIVE_ANY && f->active != PERSON_ACTIVE_ONLY && f->active != PERSON_INACTIVE_ONLY)
        return ATT_E_BAD_PARAM;

    char ts[CURSOR_TS_TEXT], after_id[ATT_UUID_STR];
    bool has_cursor = f->cursor && *f->cursor;
    if (has_cursor) {
        struct cursor_pos pos;
        if (!cursor_decode(f->cursor, CURSOR_PEOPLE, 16, &pos) || !cursor_ts_text(pos.micros, ts))
            return ATT_E_BAD_PARAM;
        att_uuid key;
        memcpy(key.b, pos.key, sizeof key.b);
        att_uuid_format(&key, after_id);
    }
    char *pattern = NULL;
    if (has_q && !(pattern = like_escape(f->q))) return ATT_E_NOMEM;
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", f->limit + 1); /* one more: is there a next page? */
    const char *active = f->active == PERSON_ACTIVE_ONLY ? "true" : f->active == PERSON_INACTIVE_ONLY ? "false" : NULL;
    const char *values[7] = {f->department, pattern,       active, has_cursor ? ts : NULL, has_cursor ? after_id : NULL,
                             limit,         f->departments};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "person_list", 7, values, NULL, NULL, &r, NULL);
    free(pattern);
    if (rc != ATT_OK) return rc;

    size_t rows = (size_t)PQntuples(r), take = rows > f->limit ? f->limit : rows;
    struct person *v = calloc(take ? take : 1, sizeof *v);
    if (!v) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    int64_t micros = 0;
    for (size_t i = 0; i < take && rc == ATT_OK; i++) rc = fill_person(r, (int)i, &v[i], &micros);
    PQclear(r);
    if (rc == ATT_OK && rows > take) {
        att_uuid key;
        if (!att_uuid_parse(v[take - 1].id, &key) ||
            !cursor_encode(CURSOR_PEOPLE, micros, key.b, sizeof key.b, next_cursor, STORE_CURSOR_MAX))
            rc = ATT_E_INTERNAL;
    }
    if (rc != ATT_OK) {
        free(v);
        next_cursor[0] = '\0';
        return rc;
    }
    *out = v;
    *n = take;
    return ATT_OK;
}

att_err store_person_update(PGconn *c, const char *id, const struct person_patch *p, struct person *out)
{
    struct person tmp;
    if (!out) out = &tmp;
    memset(out, 0, sizeof *out);
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    if (!p || person_patch_invalid_field(p)) return ATT_E_INVALID;
    bool set_dep = p->department || p->clear_department, set_title = p->title || p->clear_title;
    bool set_badge = p->badge_id || p->clear_badge;
    if (!p->employee_no && !p->name && !set_dep && !set_title && !p->set_active && !p->set_biometric && !set_badge)
        return store_person_get(c, id, out); /* nothing to change: no write, updated_at stays */
    const char *values[11] = {id,
                              p->employee_no,
                              p->name,
                              set_dep ? "true" : "false",
                              p->department,
                              set_title ? "true" : "false",
                              p->title,
                              p->set_active ? (p->active ? "true" : "false") : NULL,
                              p->set_biometric ? (p->biometric ? "true" : "false") : NULL,
                              set_badge ? "true" : "false",
                              p->badge_id};
    return person_one(c, "person_update", 11, values, out);
}

att_err store_person_erase(PGconn *c, const char *id, size_t *faces_deleted)
{
    if (faces_deleted) *faces_deleted = 0;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    if (!c) return ATT_E_DB;
    PGTransactionStatusType ts = PQtransactionStatus(c);
    if (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS) return ts == PQTRANS_UNKNOWN ? ATT_E_DB : ATT_E_INTERNAL;
    bool own = ts == PQTRANS_IDLE;
    att_err rc = own ? db_begin(c) : ATT_OK;
    if (rc != ATT_OK) return rc;

    const char *values[1] = {id};
    PGresult *r;
    /* tombstone first: it row-locks the person, so a concurrent face insert (FOR SHARE) waits and
     * then finds the person erased; faces inserted before are committed and visible to the DELETE */
    rc = db_exec_prepared(c, "person_erase", 1, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) {
        if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
        PQclear(r);
    }
    if (rc == ATT_OK) rc = db_exec_prepared(c, "person_erase_faces", 1, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) {
        if (faces_deleted) *faces_deleted = strtoul(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    if (rc == ATT_OK) rc = db_exec_prepared(c, "person_erase_lookalikes", 1, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    if (own) {
        if (rc == ATT_OK) rc = db_commit(c);
        else db_rollback(c);
    }
    if (rc != ATT_OK && faces_deleted) *faces_deleted = 0;
    return rc;
}
