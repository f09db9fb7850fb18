/* JSON-or-CSV routes' shared pieces (src/http/csv.h): the growing text buffer, RFC 4180 fields, JSON
 * strings, the query-parameter check, and content negotiation by format= or Accept. */
#include "csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void text_buf_add(struct text_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void text_buf_free(struct text_buf *b)
{
    free(b->p);
    *b = (struct text_buf){0};
}

void csv_field(struct text_buf *b, const char *s, bool last)
{
    if (!s) s = "";
    if (strpbrk(s, ",\"\r\n")) {
        text_buf_add(b, "\"", 1);
        for (const char *q; (q = strchr(s, '"')); s = q + 1) {
            text_buf_add(b, s, (size_t)(q - s));
            text_buf_add(b, "\"\"", 2);
        }
        text_buf_add(b, s, strlen(s));
        text_buf_add(b, "\"", 1);
    } else {
        text_buf_add(b, s, strlen(s));
    }
    text_buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

void json_text(struct text_buf *b, const char *s)
{
    if (!s) {
        text_buf_add(b, "null", 4);
        return;
    }
    text_buf_add(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        text_buf_add(b, run, (size_t)(s - run));
        char esc[8];
        if (c == '"' || c == '\\') snprintf(esc, sizeof esc, "\\%c", c);
        else snprintf(esc, sizeof esc, "\\u%04x", c);
        text_buf_add(b, esc, strlen(esc));
        run = s + 1;
    }
    text_buf_add(b, run, (size_t)(s - run));
    text_buf_add(b, "\"", 1);
}

struct arg_check {
    const char *const *known;
    const char *unknown, *repeated;
    uint32_t seen; /* bit i: known[i] */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    struct arg_check *a = cls;
    for (unsigned i = 0; a->known[i] && i < 32; i++)
        if (strcmp(a->known[i], key) == 0) {
            if (a->seen & UINT32_C(1) << i) {
                a->repeated = a->known[i];
                return MHD_NO;
            }
            a->seen |= UINT32_C(1) << i;
            return MHD_YES;
        }
    a->unknown = key;
    return MHD_NO;
}

att_err http_query_known(const struct http_request *req, struct http_response *resp, const char *const *known)
{
    struct arg_check a = {.known = known};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    if (a.repeated)
        return http_problem(resp, ATT_E_BAD_PARAM, a.repeated, "query parameter '%s' is given more than once",
                            a.repeated);
    if (!a.unknown) return ATT_OK;
    char list[256] = "";
    size_t off = 0;
    for (size_t i = 0; known[i]; i++) {
        int n = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", known[i]);
        if (n > 0 && (size_t)n < sizeof list - off) off += (size_t)n;
    }
    return http_problem(resp, ATT_E_BAD_PARAM, a.unknown, "unknown query parameter; accepted: %s", list);
}

/* q of one media range's parameters (";q=0.5"); 1 when absent, -1 when malformed. */
static double q_value(const char *p, const char *end)
{
    double q = 1.0;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char num[8] = "";
            size_t n = 0;
            for (p += 2; p < end && *p != ';' && *p != ' ' && n < sizeof num - 1; p++) num[n++] = *p;
            char *e;
            q = strtod(num, &e);
            if (n == 0 || *e || q < 0 || q > 1) return -1;
        }
        while (p < end && *p != ';') p++;
    }
    return q;
}

/* Rank Accept's media ranges: the highest q wins, an exact type beats a wildcard at equal q. */
static bool accept_csv(const char *accept, bool *csv, bool *any)
{
    double best_q = 0;
    int best_spec = -1;
    *any = false;
    for (const char *p = accept; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *end = strchr(p, ','), *semi;
        if (!end) end = p + strlen(p);
        semi = memchr(p, ';', (size_t)(end - p));
        const char *tend = semi ? semi : end;
        while (tend > p && (tend[-1] == ' ' || tend[-1] == '\t')) tend--;
        size_t tl = (size_t)(tend - p);
        int kind = -1, spec = 0; /* kind 0 JSON, 1 CSV */
        if (tl == 8 && strncasecmp(p, "text/csv", tl) == 0) kind = 1, spec = 2;
        else if (tl == 16 && strncasecmp(p, "application/json", tl) == 0) kind = 0, spec = 2;
        else if (tl == 6 && strncasecmp(p, "text/*", tl) == 0) kind = 1, spec = 1;
        else if (tl == 13 && strncasecmp(p, "application/*", tl) == 0) kind = 0, spec = 1;
        else if (tl == 3 && strncmp(p, "*/*", tl) == 0) kind = 0, spec = 0;
        double q = semi ? q_value(semi, end) : 1.0;
        if (kind >= 0 && q > 0 && (q > best_q || (q == best_q && spec > best_spec))) {
            best_q = q;
            best_spec = spec;
            *csv = kind == 1;
            *any = true;
        }
        p = end;
    }
    return *any;
}

att_err http_negotiate_csv(const struct http_request *req, struct http_response *resp, int fmt, bool *csv)
{
    *csv = false;
    if (fmt >= 0) {
        *csv = fmt == 1;
        return ATT_OK;
    }
    const char *accept = http_req_header(req, "Accept");
    bool any;
    if (!accept || !*accept || accept_csv(accept, csv, &any)) return ATT_OK;
    return http_problem(resp, ATT_E_NOT_ACCEPTABLE, "Accept",
                        "the Accept header allows neither application/json nor text/csv "
                        "(or ask with the query parameter format=json|csv)");
}
