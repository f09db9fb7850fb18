/* Shifts, schedules and the attendance report's reads (include/attendd/store_shifts.h): one prepared
 * statement per operation; rows decoded into fixed structs or one malloc'd block per list. */
#include "attendd/store_shifts.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/uuid.h"
#include "src/store/statements.h"

#define SHIFT_NCOLS 12
#define SCHEDULE_NCOLS 8

static bool int_of(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* The optional person filter as a statement parameter: NULL (everyone) or person_id as text in buf. */
static const char *person_param(const att_uuid *person_id, char buf[ATT_UUID_STR])
{
    if (!person_id) return NULL;
    att_uuid_format(person_id, buf);
    return buf;
}

/* ---- shifts --------------------------------------------------------------------------------------- */

static att_err fill_shift(const PGresult *r, int i, void *dst)
{
    struct shift_row *o = dst;
    memset(o, 0, sizeof *o);
    bool ok = PQnfields(r) == SHIFT_NCOLS && db_copy_text(o->id, sizeof o->id, PQgetvalue(r, i, 0)) &&
        db_copy_text(o->name, sizeof o->name, PQgetvalue(r, i, 1)) &&
        db_copy_text(o->start, sizeof o->start, PQgetvalue(r, i, 2)) &&
        db_copy_text(o->end, sizeof o->end, PQgetvalue(r, i, 3)) &&
        int_of(PQgetvalue(r, i, 4), 0, 1440, &o->grace_late_min) &&
        int_of(PQgetvalue(r, i, 5), 0, 1440, &o->grace_early_min) &&
        int_of(PQgetvalue(r, i, 6), 0, 1440, &o->break_min) &&
        db_copy_text(o->created_at, sizeof o->created_at, PQgetvalue(r, i, 7)) &&
        db_copy_text(o->updated_at, sizeof o->updated_at, PQgetvalue(r, i, 8)) &&
        int_of(PQgetvalue(r, i, 9), 0, 60, &o->round_min) &&
        db_copy_text(o->round_favour, sizeof o->round_favour, PQgetvalue(r, i, 10));
    o->break_punched = ok && PQgetvalue(r, i, 11)[0] == 't';
    if (!ok) log_error("db", "shifts row does not fit shift_row");
    return ok ? ATT_OK : ATT_E_INTERNAL;
}

static att_err shift_one(PGconn *c, const char *stmt, int n, const char *const *v, struct shift_row *out)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 0 ? ATT_E_NOT_FOUND : PQntuples(r) != 1 ? ATT_E_INTERNAL : fill_shift(r, 0, out);
    PQclear(r);
    return rc;
}

att_err store_shift_create(PGconn *c, const char *name, const char *start, const char *end, int grace_late,
                           int grace_early, int break_min, struct shift_row *out)
{
    char gl[16], ge[16], br[16];
    snprintf(gl, sizeof gl, "%d", grace_late);
    snprintf(ge, sizeof ge, "%d", grace_early);
    snprintf(br, sizeof br, "%d", break_min);
    const char *v[6] = {name, start, end, gl, ge, br};
    return shift_one(c, "shift_insert", 6, v, out);
}

att_err store_shift_get(PGconn *c, const char *id, struct shift_row *out)
{
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *v[1] = {id};
    return shift_one(c, "shift_get", 1, v, out);
}

att_err store_shift_list(PGconn *c, struct shift_row **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    void *rows;
    att_err rc = db_list_rows(c, "shift_list", 0, NULL, sizeof(struct shift_row), fill_shift, &rows, n);
    *out = rows;
    return rc;
}

att_err store_shift_update(PGconn *c, const char *id, const struct shift_patch *p, struct shift_row *out)
{
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    char gl[16], ge[16], br[16], rd[16];
    snprintf(gl, sizeof gl, "%d", p->grace_late_min);
    snprintf(ge, sizeof ge, "%d", p->grace_early_min);
    snprintf(br, sizeof br, "%d", p->break_min);
    snprintf(rd, sizeof rd, "%d", p->round_min);
    const char *v[10] = {id,
                         p->name,
                         p->start,
                         p->end,
                         p->set_grace_late ? gl : NULL,
                         p->set_grace_early ? ge : NULL,
                         p->set_break ? br : NULL,
                         p->set_round ? rd : NULL,
                         p->round_favour,
                         p->set_break_punched ? (p->break_punched ? "true" : "false") : NULL};
    return shift_one(c, "shift_update", 10, v, out);
}

/* Run stmt for id and count the rows it yields into *rows; ATT_E_NOT_FOUND when id is not uuid text. */
static att_err id_rows(PGconn *c, const char *stmt, const char *id, int *rows)
{
    *rows = 0;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *v[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, 1, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *rows = PQntuples(r);
    PQclear(r);
    return ATT_OK;
}

static att_err delete_one(PGconn *c, const char *stmt, const char *id)
{
    int rows;
    att_err rc = id_rows(c, stmt, id, &rows);
    return rc == ATT_OK && rows != 1 ? ATT_E_NOT_FOUND : rc;
}

att_err store_shift_delete(PGconn *c, const char *id) { return delete_one(c, "shift_delete", id); }

/* ---- schedules ------------------------------------------------------------------------------------- */

static att_err fill_schedule(const PGresult *r, int i, void *elem)
{
    struct schedule_row *o = elem;
    memset(o, 0, sizeof *o);
    bool ok = PQnfields(r) == SCHEDULE_NCOLS;
    char *dst[SCHEDULE_NCOLS] = {o->id,         o->shift_id, o->department, o->person_id,
                                 o->valid_from, o->valid_to, o->created_at, o->updated_at};
    size_t len[SCHEDULE_NCOLS] = {sizeof o->id,         sizeof o->shift_id, sizeof o->department, sizeof o->person_id,
                                  sizeof o->valid_from, sizeof o->valid_to, sizeof o->created_at, sizeof o->updated_at};
    for (int k = 0; ok && k < SCHEDULE_NCOLS; k++) ok = db_copy_text(dst[k], len[k], PQgetvalue(r, i, k));
    if (!ok) log_error("db", "schedules row does not fit schedule_row");
    return ok ? ATT_OK : ATT_E_INTERNAL;
}

/* Run a statement returning at most one SCHEDULE_COLS row; an exclusion violation (23P01: overlapping
 * dates for the same target) is a conflict like a unique violation. */
static att_err schedule_one(PGconn *c, const char *stmt, int n, const char *const *v, struct schedule_row *out)
{
    PGresult *r;
    char st[6] = "";
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, st);
    if (rc != ATT_OK) return strcmp(st, "23P01") == 0 ? ATT_E_CONFLICT : rc;
    rc = PQntuples(r) == 0 ? ATT_E_NOT_FOUND : PQntuples(r) != 1 ? ATT_E_INTERNAL : fill_schedule(r, 0, out);
    PQclear(r);
    return rc;
}

/* ATT_OK when stmt finds a row for id; ATT_E_NOT_FOUND when not. */
static att_err exists(PGconn *c, const char *stmt, const char *id)
{
    int rows;
    att_err rc = id_rows(c, stmt, id, &rows);
    return rc == ATT_OK && rows == 0 ? ATT_E_NOT_FOUND : rc;
}

att_err store_schedule_create(PGconn *c, const char *shift_id, const char *department, const char *person_id,
                              const char *valid_from, const char *valid_to, struct schedule_row *out, const char **bad)
{
    *bad = NULL;
    att_err rc = exists(c, "shift_exists", shift_id);
    if (rc == ATT_E_NOT_FOUND) *bad = "shift_id";
    if (rc == ATT_OK && person_id) {
        rc = exists(c, "schedule_person_exists", person_id);
        if (rc == ATT_E_NOT_FOUND) *bad = "person_id";
    }
    if (rc != ATT_OK) return rc;
    const char *v[5] = {shift_id, department, person_id, valid_from, valid_to};
    rc = schedule_one(c, "schedule_insert", 5, v, out);
    return rc == ATT_E_NOT_FOUND ? ATT_E_INTERNAL : rc;
}

att_err store_schedule_get(PGconn *c, const char *id, struct schedule_row *out)
{
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *v[1] = {id};
    return schedule_one(c, "schedule_get", 1, v, out);
}

att_err store_schedule_list(PGconn *c, const char *department, const att_uuid *person_id, struct schedule_row **out,
                            size_t *n)
{
    *out = NULL;
    *n = 0;
    char person[ATT_UUID_STR];
    const char *v[2] = {department, person_param(person_id, person)};
    void *rows;
    att_err rc = db_list_rows(c, "schedule_list", 2, v, sizeof(struct schedule_row), fill_schedule, &rows, n);
    *out = rows;
    return rc;
}

att_err store_schedule_update(PGconn *c, const char *id, const struct schedule_patch *p, struct schedule_row *out,
                              const char **bad)
{
    *bad = NULL;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    if (p->shift_id) {
        att_err rc = exists(c, "shift_exists", p->shift_id);
        if (rc == ATT_E_NOT_FOUND) *bad = "shift_id";
        if (rc != ATT_OK) return rc;
    }
    const char *v[5] = {id, p->shift_id, p->valid_from, p->set_valid_to ? "true" : "false", p->valid_to};
    return schedule_one(c, "schedule_update", 5, v, out);
}

att_err store_schedule_delete(PGconn *c, const char *id) { return delete_one(c, "schedule_delete", id); }

/* ---- the report's reads ----------------------------------------------------------------------------- */

att_err store_report_department_known(PGconn *c, const char *department, bool *known)
{
    const char *v[1] = {department};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "report_department_known", 1, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *known = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return ATT_OK;
}

/* Bytes for the text of columns cols of every row (+ NUL each). */
static size_t text_bytes(const PGresult *r, const int *cols, size_t ncols)
{
    size_t b = 0;
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t k = 0; k < ncols; k++) b += (size_t)PQgetlength(r, i, cols[k]) + 1;
    return b;
}

static const char *put(char **p, const PGresult *r, int i, int col)
{
    size_t n = (size_t)PQgetlength(r, i, col);
    char *s = *p;
    memcpy(s, PQgetvalue(r, i, col), n + 1);
    *p += n + 1;
    return s;
}

att_err store_report_people(PGconn *c, const char *department, const att_uuid *person_id, struct rep_person **out,
                            size_t *n)
{
    *out = NULL;
    *n = 0;
    char person[ATT_UUID_STR];
    const char *v[2] = {department, person_param(person_id, person)};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "report_people", 2, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    static const int cols[] = {1, 2, 3};
    size_t rows = (size_t)PQntuples(r);
    struct rep_person *a = PQnfields(r) == 4 ? calloc(1, rows * sizeof *a + text_bytes(r, cols, 3) + 1) : NULL;
    if (!a) {
        PQclear(r);
        return PQnfields(r) == 4 ? ATT_E_NOMEM : ATT_E_INTERNAL;
    }
    char *p = (char *)(a + rows);
    for (size_t i = 0; i < rows; i++) {
        if (!db_copy_text(a[i].id, sizeof a[i].id, PQgetvalue(r, (int)i, 0))) rc = ATT_E_INTERNAL;
        a[i].employee_no = put(&p, r, (int)i, 1);
        a[i].name = put(&p, r, (int)i, 2);
        a[i].department = put(&p, r, (int)i, 3);
    }
    PQclear(r);
    if (rc != ATT_OK) {
        free(a);
        return rc;
    }
    *out = a;
    *n = rows;
    return ATT_OK;
}

att_err store_report_schedules(PGconn *c, int64_t from_day, int64_t to_day, struct rep_schedule **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char f[24], t[24];
    snprintf(f, sizeof f, "%" PRId64, from_day);
    snprintf(t, sizeof t, "%" PRId64, to_day);
    const char *v[2] = {f, t};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "report_schedules", 2, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    static const int cols[] = {1, 5};
    size_t rows = (size_t)PQntuples(r);
    struct rep_schedule *a = PQnfields(r) == 11 ? calloc(1, rows * sizeof *a + text_bytes(r, cols, 2) + 1) : NULL;
    if (!a) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    char *p = (char *)(a + rows);
    for (size_t i = 0; rc == ATT_OK && i < rows; i++) {
        int row = (int)i;
        struct rep_schedule *s = &a[i];
        int from, to = 0;
        bool ok = db_copy_text(s->person_id, sizeof s->person_id, PQgetvalue(r, row, 0)) &&
            int_of(PQgetvalue(r, row, 2), -1000000, 3000000, &from) &&
            (PQgetvalue(r, row, 3)[0] == '\0' || int_of(PQgetvalue(r, row, 3), -1000000, 3000000, &to)) &&
            db_copy_text(s->shift_id, sizeof s->shift_id, PQgetvalue(r, row, 4)) &&
            int_of(PQgetvalue(r, row, 6), 0, 1439, &s->shift.start_min) &&
            int_of(PQgetvalue(r, row, 7), 0, 1439, &s->shift.end_min) &&
            int_of(PQgetvalue(r, row, 8), 0, 1440, &s->shift.grace_late_min) &&
            int_of(PQgetvalue(r, row, 9), 0, 1440, &s->shift.grace_early_min) &&
            int_of(PQgetvalue(r, row, 10), 0, 1440, &s->shift.break_min);
        if (!ok) {
            rc = ATT_E_INTERNAL;
            break;
        }
        s->from_day = from;
        s->to_day = PQgetvalue(r, row, 3)[0] == '\0' ? INT64_MAX : to;
        s->department = PQgetisnull(r, row, 1) ? NULL : put(&p, r, row, 1);
        s->shift_name = put(&p, r, row, 5);
    }
    PQclear(r);
    if (rc != ATT_OK) {
        free(a);
        return rc;
    }
    *out = a;
    *n = rows;
    return ATT_OK;
}

att_err store_report_punches(PGconn *c, int64_t from_us, int64_t to_us, const char *department,
                             const att_uuid *person_id, struct rep_punch **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char f[24], t[24], person[ATT_UUID_STR];
    snprintf(f, sizeof f, "%" PRId64, from_us);
    snprintf(t, sizeof t, "%" PRId64, to_us);
    const char *v[4] = {f, t, department, person_param(person_id, person)};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "report_punches", 4, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    size_t rows = (size_t)PQntuples(r);
    struct rep_punch *a = rows ? calloc(rows, sizeof *a) : NULL;
    if (rows && !a) rc = ATT_E_NOMEM;
    for (size_t i = 0; rc == ATT_OK && i < rows; i++) {
        if (PQnfields(r) != 3 || !db_copy_text(a[i].person_id, sizeof a[i].person_id, PQgetvalue(r, (int)i, 0))) {
            rc = ATT_E_INTERNAL;
            break;
        }
        a[i].p.kind = strcmp(PQgetvalue(r, (int)i, 1), "in") == 0 ? EVENT_KIND_IN : EVENT_KIND_OUT;
        a[i].p.ts_us = strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
    }
    PQclear(r);
    if (rc != ATT_OK) {
        free(a);
        return rc;
    }
    *out = a;
    *n = rows;
    return ATT_OK;
}
