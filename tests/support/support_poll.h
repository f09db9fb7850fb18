/* Test helpers for the punches and polling suites: an HTTP call with extra request headers that
 * keeps the response headers (ETag, Last-Modified). */
#ifndef ATTENDD_TESTS_SUPPORT_POLL_H
#define ATTENDD_TESTS_SUPPORT_POLL_H

#include <jansson.h>
#include <stddef.h>

struct tp_resp {
    long status;
    char *body; /* NUL-terminated, "" when none */
    size_t len;
    char *headers;  /* raw response header block */
    char etag[128]; /* ETag header value, "" if none */
    char last_modified[64];
};

/* One request; extra: one more request header line ("If-None-Match: ..."), or NULL. body may be
 * NULL. Returns 0 when a response arrived. */
int tp_http(const char *method, const char *url, const char *token, const char *body, const char *extra,
            struct tp_resp *out);
void tp_resp_free(struct tp_resp *r);
/* The body as JSON (fails the test if it is not). */
json_t *tp_json(const struct tp_resp *r);

#endif
