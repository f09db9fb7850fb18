/* Kiosk credentials and punches: PIN hashes with their failure count and lock, badge lookups, and
 * events of source "kiosk". */
#include "attendd/store_kiosk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "src/store/statements.h"

att_err store_kiosk_pin_set(PGconn *c, const char *person_id, const char *pin_hash)
{
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    if (pin_hash && (!*pin_hash || strlen(pin_hash) >= KIOSK_PIN_HASH_BUF)) return ATT_E_INVALID;
    const char *values[2] = {person_id, pin_hash};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "kiosk_pin_set", 2, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_kiosk_person(PGconn *c, bool by_badge, const char *key, struct kiosk_person *out)
{
    memset(out, 0, sizeof *out);
    if (!key || !*key) return ATT_E_NOT_FOUND;
    const char *values[1] = {key};
    PGresult *r;
    att_err rc = db_exec_prepared(c, by_badge ? "kiosk_person_by_badge" : "kiosk_person_by_employee_no", 1, values,
                                  NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ATT_E_NOT_FOUND;
    }
    if (!db_copy_text(out->id, sizeof out->id, PQgetvalue(r, 0, 0)) ||
        !db_copy_text(out->pin_hash, sizeof out->pin_hash, PQgetvalue(r, 0, 1)) ||
        !db_copy_text(out->department, sizeof out->department, PQgetvalue(r, 0, 5))) {
        PQclear(r);
        log_error("db", "people row does not fit struct kiosk_person");
        return ATT_E_INTERNAL;
    }
    out->pin_failures = atoi(PQgetvalue(r, 0, 2));
    out->pin_locked = PQgetvalue(r, 0, 3)[0] == 't';
    out->active = PQgetvalue(r, 0, 4)[0] == 't';
    PQclear(r);
    return ATT_OK;
}

att_err store_kiosk_pin_failed(PGconn *c, const char *person_id, int max_failures, int *failures, bool *locked)
{
    *failures = 0;
    *locked = false;
    char max[16];
    snprintf(max, sizeof max, "%d", max_failures);
    const char *values[2] = {person_id, max};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "kiosk_pin_failed", 2, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1) {
        *failures = atoi(PQgetvalue(r, 0, 0));
        *locked = PQgetvalue(r, 0, 1)[0] == 't';
    } else {
        rc = ATT_E_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

att_err store_kiosk_pin_ok(PGconn *c, const char *person_id)
{
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "kiosk_pin_ok", 1, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    return rc;
}

att_err store_kiosk_punch_insert(PGconn *c, const char *person_id, const char *kind, const char *created_by,
                                 char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    if (!kind || (strcmp(kind, "in") != 0 && strcmp(kind, "out") != 0) || !created_by || !*created_by)
        return ATT_E_INVALID;
    const char *values[3] = {person_id, kind, created_by};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "kiosk_punch_insert", 3, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 36) memcpy(id_out, PQgetvalue(r, 0, 0), ATT_UUID_STR);
    else rc = PQntuples(r) == 0 ? ATT_E_NOT_FOUND : ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}
