/* Append-only audit log (audit_log): one INSERT per entry, every field a bound parameter.
 * The table's trigger refuses UPDATE, DELETE and TRUNCATE; there is no API for them here either. */
#include "attendd/store_audit.h"

#include <stdbool.h>
#include <string.h>

#include "attendd/db.h"
#include "src/store/statements.h"

static bool nonempty(const char *s) { return s && *s; }

att_err store_audit_insert(PGconn *c, const struct audit_entry *e)
{
    if (!e || !nonempty(e->actor) || !nonempty(e->action) || !nonempty(e->outcome) ||
        (e->token_id && !db_uuid_valid(e->token_id)) || (e->target_type && !*e->target_type) ||
        (e->target_id && !*e->target_id))
        return ATT_E_INVALID;
    const char *values[7] = {e->token_id, e->actor, e->action, e->target_type, e->target_id, e->outcome,
                             e->detail_json};
    PGresult *r;
    /* bad detail JSON or an action outside the CHECK pattern come back as ATT_E_INVALID */
    att_err rc = db_exec_prepared(c, "audit_insert", 7, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    return rc;
}
