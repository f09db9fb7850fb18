/* The console's page and assets (GET / and GET /assets/{name}): compiled-in files, gzip'd when the
 * browser accepts it, the page under a strict Content-Security-Policy, assets cached by content hash. */
#include "http_internal.h"

#include "console_assets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* No inline script or style, nothing from another origin, no framing, no plugins. */
#define CONSOLE_CSP                                                                                             \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const struct console_asset *find(const char *path)
{
    for (size_t i = 0; i < console_assets_count; i++)
        if (strcmp(console_assets[i].path, path) == 0) return &console_assets[i];
    return NULL;
}

/* Whether the request's Accept-Encoding lists gzip with a weight above 0. */
static bool accepts_gzip(const struct http_request *req)
{
    const char *ae = http_req_header(req, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    for (const char *p = ae; p != NULL && *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t n = strcspn(p, ","), name = strcspn(p, ";, ");
        if (name == 4 && strncasecmp(p, "gzip", 4) == 0) {
            const char *q = strstr(p, "q=");
            return q == NULL || q >= p + n || strtod(q + 2, NULL) > 0;
        }
        p += n;
    }
    return false;
}

static att_err serve(struct http_request *req, struct http_response *resp, const struct console_asset *a, bool page)
{
    att_err e = ATT_OK;
    e = e ? e : http_header(resp, "X-Frame-Options", "DENY");
    e = e ? e : http_header(resp, "Content-Security-Policy", CONSOLE_CSP);
    e = e ? e : http_header(resp, "Referrer-Policy", "no-referrer");
    e = e ? e : http_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    e = e ? e : http_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
    /* the page is revalidated on every load (it names the current assets); an asset's name changes
     * with its content, so it may be kept for a year */
    e = e ? e
          : http_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, page ? "no-cache" : "public, max-age=31536000, immutable");
    if (e != ATT_OK) return http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    const char *inm = http_req_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm != NULL && strstr(inm, a->etag) != NULL) return http_status(resp, MHD_HTTP_NOT_MODIFIED);
    bool gz = accepts_gzip(req);
    size_t len = gz ? a->gz_len : a->len;
    char *body = malloc(len + 1);
    if (body == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    memcpy(body, gz ? a->gz : a->data, len);
    body[len] = '\0';
    if (gz && http_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != ATT_OK) {
        free(body);
        return http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    }
    resp->status = MHD_HTTP_OK;
    resp->body = body;
    resp->body_len = len;
    resp->content_type = a->content_type;
    return ATT_OK;
}

att_err http_console_index(struct http_request *req, struct http_response *resp)
{
    const struct console_asset *a = find("/");
    if (a == NULL) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "this build has no console");
    return serve(req, resp, a, true);
}

att_err http_console_asset(struct http_request *req, struct http_response *resp)
{
    const struct console_asset *a = find(req->path);
    if (a == NULL)
        return http_problem(resp, ATT_E_NOT_FOUND, NULL,
                            "no such asset (the console may have been updated: reload the page)");
    return serve(req, resp, a, false);
}
