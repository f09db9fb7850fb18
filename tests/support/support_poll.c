/* Helpers of the punches and polling suites (tests/support/support_poll.h): libcurl with extra request
 * headers and the ETag and Last-Modified of the answer, on support.c's client. */
#include "support_poll.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

int tp_http(const char *method, const char *url, const char *token, const char *body, const char *extra,
            struct tp_resp *out)
{
    memset(out, 0, sizeof *out);
    struct ts_resp r;
    struct ts_http_opts o = {.header = extra};
    int rc = ts_http_ex(&o, method, url, token, body, body ? strlen(body) : 0, body ? "application/json" : NULL, &r);
    out->status = r.status;
    out->body = r.body;
    out->len = r.len;
    out->headers = r.headers ? r.headers : calloc(1, 1);
    if (!ts_resp_header(&r, "ETag", out->etag, sizeof out->etag)) out->etag[0] = '\0';
    if (!ts_resp_header(&r, "Last-Modified", out->last_modified, sizeof out->last_modified))
        out->last_modified[0] = '\0';
    return rc;
}

void tp_resp_free(struct tp_resp *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

json_t *tp_json(const struct tp_resp *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (status %ld): %s", r->status, r->body);
    return j;
}
