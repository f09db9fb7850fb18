/* JSON text with shortest exact numbers (include/attendd/json.h): jansson writes the document at
 * full precision, which reads back exactly; each real is then rewritten to its shortest form. */
#include "attendd/json.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fewest significant digits (1..17) whose "%.*e" text reads back to v. */
static int shortest_digits(double v, char *buf, size_t len)
{
    for (int p = 1; p < 17; p++) {
        snprintf(buf, len, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) return p;
    }
    snprintf(buf, len, "%.16e", v);
    return 17;
}

size_t att_json_real_text(double v, char out[ATT_JSON_REAL_TEXT])
{
    char e[40];
    shortest_digits(v, e, sizeof e);
    /* e is "[-]d[.ddd]e[+-]XX": collect the digits and the decimal exponent */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    char dig[24] = {0};
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') dig[nd++] = *p;
    int exp = atoi(p + 1);
    char *o = out;
    if (neg) *o++ = '-';
    if (exp < -4 || exp >= 17) { /* where %.17g switches to exponent notation */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%d", exp);
    } else if (exp < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > exp; i--) *o++ = '0';
        memcpy(o, dig, nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp; i++) *o++ = (size_t)i < nd ? dig[i] : '0';
        *o++ = '.';
        if (nd > (size_t)exp + 1) {
            memcpy(o, dig + exp + 1, nd - (size_t)exp - 1);
            o += nd - (size_t)exp - 1;
        } else {
            *o++ = '0'; /* a whole number keeps ".0": it stays a real */
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

json_t *att_json_float(float f)
{
    if (!isfinite(f)) return NULL;
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    return json_real(strtod(buf, NULL));
}

char *att_json_dumps(const json_t *j, size_t flags)
{
    if (!j) return NULL;
    char *text = json_dumps(j, flags | JSON_REAL_PRECISION(17)); /* 17 digits read back exactly */
    if (!text) return NULL;
    /* rewrite in place: a real never grows (its shortest form has at most 17 digits and the same layout) */
    char *r = text, *w = text;
    bool in_string = false;
    while (*r) {
        char c = *r;
        if (in_string) {
            *w++ = *r++;
            if (c == '\\' && *r) *w++ = *r++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
            *w++ = *r++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n = strspn(r, "-+0123456789.eE");
            if (strcspn(r, ".eE") < n) { /* a real */
                char *end;
                double v = strtod(r, &end);
                char num[ATT_JSON_REAL_TEXT];
                size_t len = att_json_real_text(v, num);
                if (end != r + n || len > n) { /* cannot happen with jansson's output: keep its text */
                    memmove(w, r, n);
                    w += n;
                } else {
                    memcpy(w, num, len);
                    w += len;
                }
            } else {
                memmove(w, r, n);
                w += n;
            }
            r += n;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return text;
}
