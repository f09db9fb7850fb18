/* A pay period's payroll rows one person at a time (src/roster/payroll_source.c), for the streamed export:
 * a closed period's rows as kept at its close, an open period's computed from its timesheet as asked for.
 * The database is read at open only, so the rows can be produced after its connection is given back. */
#ifndef ATTENDD_PAYROLL_SOURCE_H
#define ATTENDD_PAYROLL_SOURCE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/pay.h"
#include "attendd/tz.h"

typedef struct payroll_source payroll_source;

/* Open period id for the people of department (NULL: everyone) and of the departments in only (a JSON
 * array of names; NULL: every department, none: no one without a department); tz and rules as
 * timesheet_load takes them (used for an open period). ATT_E_NOT_FOUND: no period with this id; store errors. */
att_err payroll_source_open(PGconn *c, const att_tz *tz, const struct pay_rules *rules, const char *id,
                            const char *department, const json_t *only, payroll_source **out);
/* The period {id, name, from_date, to_date, closed, ...}, borrowed from the source. */
const json_t *payroll_source_period(const payroll_source *s);
/* Rows the source gives in all. */
size_t payroll_source_count(const payroll_source *s);
/* The next row (a new reference; the members of timesheet_payroll_rows), or *row NULL at the end. */
att_err payroll_source_next(payroll_source *s, json_t **row);
void payroll_source_free(payroll_source *s);

#endif
