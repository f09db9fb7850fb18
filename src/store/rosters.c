/* Rosters, holidays, leave, resolved exceptions and pay periods (include/attendd/store_rosters.h): the
 * statements build their JSON in SQL, so one reader serves every row and list. */
#include "attendd/store_rosters.h"

#include <stdio.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "src/store/statements.h"

att_err store_json_one(PGconn *c, const char *stmt, int n, const char *const *v, json_t **out)
{
    *out = NULL;
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 0) rc = ATT_E_NOT_FOUND;
    else if (PQntuples(r) != 1 || PQnfields(r) != 1 || PQgetisnull(r, 0, 0)) rc = ATT_E_INTERNAL;
    else {
        json_error_t err;
        *out = json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, &err);
        if (!*out) {
            log_error("db", "%s answered text that is not JSON: %s", stmt, err.text);
            rc = ATT_E_INTERNAL;
        }
    }
    PQclear(r);
    return rc;
}

att_err store_missing_ref(PGconn *c, const char *stmt, int n, const char *const *v, char *missing, size_t missing_len)
{
    missing[0] = '\0';
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1 || PQnfields(r) != 1) rc = ATT_E_INTERNAL;
    else if (!db_copy_text(missing, missing_len, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_exec(PGconn *c, const char *stmt, int n, const char *const *v)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    return rc;
}
