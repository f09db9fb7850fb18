/* Payroll export columns (src/attendance/payroll.c): pure, no I/O. The configured pay-code list
 * ("REG=regular,OT1=ot_daily,...") parsed once into columns, and each column's value read from a
 * person's period totals (attendd/pay.h). docs/reports.md, "Payroll export". */
#ifndef ATTENDD_PAYROLL_H
#define ATTENDD_PAYROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/pay.h"

#define PAYROLL_MAX_COLUMNS 48
#define PAYROLL_HEADER_MAX 64

enum payroll_field {
    PF_PERSON,      /* person_id, or person_key for a pseudonymous reader */
    PF_EMPLOYEE_NO, /* identity: left out for a pseudonymous reader */
    PF_NAME,        /* identity: left out for a pseudonymous reader */
    PF_DEPARTMENT,
    PF_SCHEDULED,
    PF_WORKED,
    PF_REGULAR,
    PF_OT_DAILY,
    PF_OT_WEEKLY,
    PF_OT_REST_DAY,
    PF_OT_HOLIDAY,
    PF_NIGHT,
    PF_HOLIDAY,
    PF_LEAVE_PAID,
    PF_LEAVE_UNPAID,
    PF_LEAVE,      /* one leave type's minutes: leave:CODE */
    PF_EXCEPTIONS, /* open exceptions */
    PF_ABSENT_DAYS,
};

struct payroll_column {
    char header[PAYROLL_HEADER_MAX]; /* the pay code shown in the header */
    enum payroll_field field;
    char leave_code[33]; /* PF_LEAVE: the type */
};

/* The default column list (every field, headers = field names). */
extern const char payroll_default_columns[];

/* spec: comma-separated entries "field" or "HEADER=field", field one of person, employee_no, name,
 * department, scheduled, worked, regular, ot_daily, ot_weekly, ot_rest_day, ot_holiday, night, holiday,
 * leave_paid, leave_unpaid, leave:CODE, exceptions, absent_days; a HEADER of 1-63 letters, digits, '_',
 * '-', '.'. ATT_E_INVALID with why naming the bad entry. */
att_err payroll_columns_parse(const char *spec, struct payroll_column *out, size_t max, size_t *n, char *why,
                              size_t whylen);

/* Whether a column shows identity (left out for a pseudonymous reader). */
bool payroll_identity(const struct payroll_column *c);

/* A minutes/count column's value from totals; leave_pos: the position of c->leave_code's type (-1: none
 * known, 0). */
int64_t payroll_value(const struct payroll_column *c, const struct pay_totals *t, int leave_pos);

#endif
