/* Helpers of the punches and polling suites (tests/support/support_poll.h): libcurl with extra request
 * headers and captured response headers. */
#include "support_poll.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t grow(char **buf, size_t *len, const char *p, size_t add)
{
    char *nb = realloc(*buf, *len + add + 1);
    if (!nb) return 0;
    memcpy(nb + *len, p, add);
    *buf = nb;
    *len += add;
    nb[*len] = '\0';
    return add;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct tp_resp *r = ud;
    return grow(&r->body, &r->len, p, sz * n);
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    while (*v == ' ') v++;
    size_t vl = n - (size_t)(v - line);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n')) vl--;
    if (vl >= outlen) vl = outlen - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct tp_resp *r = ud;
    size_t len = sz * n, hl = r->headers ? strlen(r->headers) : 0;
    header_value(p, len, "ETag", r->etag, sizeof r->etag);
    header_value(p, len, "Last-Modified", r->last_modified, sizeof r->last_modified);
    return grow(&r->headers, &hl, p, len);
}

int tp_http(const char *method, const char *url, const char *token, const char *body, const char *extra,
            struct tp_resp *out)
{
    memset(out, 0, sizeof *out);
    out->body = calloc(1, 1);
    CURL *c = curl_easy_init();
    if (!c || !out->body) return -1;
    struct curl_slist *h = NULL;
    char auth[160];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body) h = curl_slist_append(h, "Content-Type: application/json");
    if (extra) h = curl_slist_append(h, extra);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
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
