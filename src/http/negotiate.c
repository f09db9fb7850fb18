/* JSON or CSV by format= or the Accept header (src/http/negotiate.h). */
#include "negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
