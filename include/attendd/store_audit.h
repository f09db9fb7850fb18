/* Append-only audit log (table audit_log): every admin action and every read of personal data.
 * Rows cannot be updated or deleted (a trigger refuses it). */
#ifndef ATTENDD_STORE_AUDIT_H
#define ATTENDD_STORE_AUDIT_H

#include <libpq-fe.h>

#include "attendd/errors.h"

struct audit_entry {
    const char *token_id;    /* acting token's id, or NULL (CLI / system) */
    const char *actor;       /* token name, "attendctl", "system" */
    const char *action;      /* dotted verb: "token.create", "person.read", ... */
    const char *target_type; /* "token", "person", ... or NULL */
    const char *target_id;   /* id of the record acted on, or NULL */
    const char *outcome;     /* "ok" or an error code from errors.h */
    const char *detail_json; /* extra JSON object (no personal data, no secrets), or NULL */
};

att_err store_audit_insert(PGconn *c, const struct audit_entry *e);

#endif
