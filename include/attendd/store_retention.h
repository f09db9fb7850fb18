/* What the retention run deletes, in PostgreSQL; each call runs in the caller's transaction and
 * takes "as of" (now_us, µs since the epoch) as a parameter, so a test can move the clock. */
#ifndef ATTENDD_STORE_RETENTION_H
#define ATTENDD_STORE_RETENTION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

/* Delete the templates of people inactive for more than days; *faces (malloc'd, free it) receives
 * the deleted face ids, *n how many, *people how many distinct people. */
att_err store_retention_templates(PGconn *c, int64_t now_us, int days, char (**faces)[ATT_UUID_STR], size_t *n,
                                  size_t *people);
/* De-identify (the person, scores and free text go; time, camera and kind stay) or delete the events
 * older than years; *n how many. */
att_err store_retention_events(PGconn *c, int64_t now_us, int years, bool delete_rows, size_t *n);
/* Prune audit rows older than years (never one younger than a year: the database refuses); *n how many. */
att_err store_retention_audit(PGconn *c, int64_t now_us, int years, size_t *n);
/* When the last successful run happened (µs since the epoch; 0 when never). */
att_err store_retention_last(PGconn *c, int64_t *at_us);

#endif
