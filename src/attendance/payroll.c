/* Payroll export columns (include/attendd/payroll.h): the pay-code list and each column's value. */
#include "attendd/payroll.h"

#include <stdio.h>
#include <string.h>

const char payroll_default_columns[] =
    "person,employee_no,name,department,scheduled,worked,regular,ot_daily,ot_weekly,ot_rest_day,ot_holiday,"
    "night,holiday,leave_paid,leave_unpaid,leave:annual,leave:sick,leave:training,leave:unpaid,exceptions,"
    "absent_days";

static const struct {
    const char *name;
    enum payroll_field f;
} fields[] = {
    {"person", PF_PERSON},           {"employee_no", PF_EMPLOYEE_NO}, {"name", PF_NAME},
    {"department", PF_DEPARTMENT},   {"scheduled", PF_SCHEDULED},     {"worked", PF_WORKED},
    {"regular", PF_REGULAR},         {"ot_daily", PF_OT_DAILY},       {"ot_weekly", PF_OT_WEEKLY},
    {"ot_rest_day", PF_OT_REST_DAY}, {"ot_holiday", PF_OT_HOLIDAY},   {"night", PF_NIGHT},
    {"holiday", PF_HOLIDAY},         {"leave_paid", PF_LEAVE_PAID},   {"leave_unpaid", PF_LEAVE_UNPAID},
    {"exceptions", PF_EXCEPTIONS},   {"absent_days", PF_ABSENT_DAYS},
};

static bool header_ok(const char *h, size_t n)
{
    if (n == 0 || n >= PAYROLL_HEADER_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':'))
            return false;
    }
    return true;
}

static bool code_ok(const char *s, size_t n)
{
    if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
    return true;
}

att_err payroll_columns_parse(const char *spec, struct payroll_column *out, size_t max, size_t *n, char *why,
                              size_t whylen)
{
    *n = 0;
    why[0] = '\0';
    const char *p = spec ? spec : "";
    while (*p == ' ') p++;
    if (!*p) {
        snprintf(why, whylen, "no columns");
        return ATT_E_INVALID;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ') len--;
        const char *eq = memchr(p, '=', len);
        const char *f = eq ? eq + 1 : p;
        size_t flen = len - (size_t)(f - p), hlen = eq ? (size_t)(eq - p) : len;
        if (*n == max) {
            snprintf(why, whylen, "more than %zu columns", max);
            return ATT_E_INVALID;
        }
        struct payroll_column *c = &out[*n];
        memset(c, 0, sizeof *c);
        bool ok = header_ok(p, hlen);
        if (ok) {
            memcpy(c->header, p, hlen);
            ok = false;
            if (flen > 6 && strncmp(f, "leave:", 6) == 0 && code_ok(f + 6, flen - 6)) {
                c->field = PF_LEAVE;
                memcpy(c->leave_code, f + 6, flen - 6);
                ok = true;
            }
            for (size_t k = 0; !ok && k < sizeof fields / sizeof fields[0]; k++)
                if (strlen(fields[k].name) == flen && strncmp(fields[k].name, f, flen) == 0) {
                    c->field = fields[k].f;
                    ok = true;
                }
        }
        if (!ok) {
            snprintf(why, whylen, "entry '%.*s' is not HEADER=field with a known field", (int)(len > 64 ? 64 : len), p);
            return ATT_E_INVALID;
        }
        (*n)++;
        if (!end) break;
        p = end + 1;
        while (*p == ' ') p++;
    }
    return ATT_OK;
}

bool payroll_identity(const struct payroll_column *c) { return c->field == PF_EMPLOYEE_NO || c->field == PF_NAME; }

int64_t payroll_value(const struct payroll_column *c, const struct pay_totals *t, int leave_pos)
{
    switch (c->field) {
    case PF_SCHEDULED: return t->scheduled_min;
    case PF_WORKED: return t->worked_min;
    case PF_REGULAR: return t->regular_min;
    case PF_OT_DAILY: return t->ot_daily_min;
    case PF_OT_WEEKLY: return t->ot_weekly_min;
    case PF_OT_REST_DAY: return t->ot_rest_day_min;
    case PF_OT_HOLIDAY: return t->ot_holiday_min;
    case PF_NIGHT: return t->night_min;
    case PF_HOLIDAY: return t->holiday_min;
    case PF_LEAVE_PAID: return t->leave_paid_min;
    case PF_LEAVE_UNPAID: return t->leave_unpaid_min;
    case PF_LEAVE: return leave_pos >= 0 && leave_pos < PAY_MAX_LEAVE_TYPES ? t->leave_min[leave_pos] : 0;
    case PF_EXCEPTIONS: return t->exceptions;
    case PF_ABSENT_DAYS: return t->absent_days;
    case PF_PERSON:
    case PF_EMPLOYEE_NO:
    case PF_NAME:
    case PF_DEPARTMENT: break;
    }
    return 0;
}
