/* Lookup tables for the error registry in include/attendd/errors.h, and the reason-buffer helper. */
#include "attendd/errors.h"

#include <stdio.h>

struct err_info {
    int status;
    const char *code;
    const char *title;
};

static const struct err_info err_table[] = {
#define ATT_ERR_ROW(name, status, code, title) {status, code, title},
    ATT_ERRORS(ATT_ERR_ROW)
#undef ATT_ERR_ROW
};

static const struct err_info *lookup(att_err e)
{
    if ((int)e < 0 || e >= ATT_ERR__COUNT) return &err_table[ATT_E_INTERNAL];
    return &err_table[e];
}

const char *att_err_code(att_err e) { return lookup(e)->code; }
const char *att_err_title(att_err e) { return lookup(e)->title; }
int att_err_http_status(att_err e) { return lookup(e)->status; }

att_err att_vfail(att_err code, char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    return code;
}

att_err att_fail(att_err code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    att_vfail(code, err, errlen, fmt, ap);
    va_end(ap);
    return code;
}
