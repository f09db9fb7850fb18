/* The retention run's deletions: templates of long-inactive people, old events, old audit rows. */
#include "attendd/store_retention.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "src/store/statements.h"

static att_err exec2(PGconn *c, const char *stmt, int64_t now_us, int amount, PGresult **r)
{
    char now[24], n[16];
    snprintf(now, sizeof now, "%" PRId64, now_us);
    snprintf(n, sizeof n, "%d", amount);
    const char *values[2] = {now, n};
    return db_exec_prepared(c, stmt, 2, values, NULL, NULL, r, NULL);
}

att_err store_retention_templates(PGconn *c, int64_t now_us, int days, char (**faces)[ATT_UUID_STR], size_t *n,
                                  size_t *people)
{
    *faces = NULL;
    *n = *people = 0;
    PGresult *r;
    att_err e = exec2(c, "retention_templates", now_us, days, &r);
    if (e != ATT_OK) return e;
    int rows = PQntuples(r);
    char(*v)[ATT_UUID_STR] = calloc(rows > 0 ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    for (int i = 0; i < rows; i++) {
        if (!db_copy_text(v[i], ATT_UUID_STR, PQgetvalue(r, i, 0))) {
            free(v);
            PQclear(r);
            return ATT_E_INTERNAL;
        }
        bool seen = false; /* distinct people */
        for (int k = 0; k < i && !seen; k++) seen = strcmp(PQgetvalue(r, k, 1), PQgetvalue(r, i, 1)) == 0;
        if (!seen) (*people)++;
    }
    PQclear(r);
    *faces = v;
    *n = (size_t)rows;
    return ATT_OK;
}

att_err store_retention_events(PGconn *c, int64_t now_us, int years, bool delete_rows, size_t *n)
{
    *n = 0;
    PGresult *r;
    att_err e = exec2(c, delete_rows ? "retention_events_delete" : "retention_events_deidentify", now_us, years, &r);
    if (e != ATT_OK) return e;
    *n = strtoul(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return ATT_OK;
}

att_err store_retention_audit(PGconn *c, int64_t now_us, int years, size_t *n)
{
    *n = 0;
    PGresult *r;
    att_err e = exec2(c, "retention_audit_allow", now_us, years, &r);
    if (e != ATT_OK) return e;
    PQclear(r);
    if ((e = db_exec_prepared(c, "retention_audit_prune", 0, NULL, NULL, NULL, &r, NULL)) != ATT_OK) return e;
    *n = strtoul(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return ATT_OK;
}

att_err store_retention_last(PGconn *c, int64_t *at_us) { return db_query_int64(c, "retention_last", at_us); }
