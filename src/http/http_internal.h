/* Internal interface of the HTTP layer: the request/response structs every handler sees, the route
 * table entry, and the helpers (problem bodies, JSON, query strings, auth, audit). Not installed. */
#ifndef ATTENDD_HTTP_INTERNAL_H
#define ATTENDD_HTTP_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/http.h"
#include "attendd/roster.h"
#include "attendd/store_console.h"
#include "attendd/store_audit.h"
#include "attendd/store_events.h"
#include "attendd/store_tokens.h"
#include "attendd/token.h"
#include "attendd/uuid.h"

#include "request_spec.h"

#define HTTP_MAX_PATH_PARAMS 4 /* {name} segments per route pattern */
#define HTTP_MAX_HEADERS 8     /* extra response headers per response */
#define HTTP_JSON_MAX_DEPTH 16 /* deepest nesting accepted in a request body */
#define HTTP_DB_WAIT_MS 2000   /* how long a request waits for a pooled database connection */
#define HTTP_AUTH_CACHE_TTL_S \
    5 /* auth cache lifetime: a revocation outside this process takes
                                    effect within this many seconds (see auth.c) */
/* Problem "type" URIs are this prefix + the registry code; identifiers, not fetched (docs/api.md). */
#define HTTP_PROBLEM_TYPE_BASE "https://attendd.example/problems/"

/* ---- request --------------------------------------------------------------------------------- */

struct http_query_arg;

struct http_param {
    char name[32];   /* pattern segment name without braces, e.g. "id" */
    char value[256]; /* the matched path segment (already percent-decoded by libmicrohttpd) */
};

struct http_request {
    const struct http_deps *deps;                   /* what handlers reach (the server's copy); never freed by them */
    struct MHD_Connection *conn;                    /* for headers and query arguments; prefer the helpers */
    const char *method;                             /* "GET", "POST", ... ("HEAD" is routed as "GET") */
    const char *path;                               /* URL path without the query string */
    struct http_param params[HTTP_MAX_PATH_PARAMS]; /* {name} segments of the matched route */
    size_t nparams;
    const char *body;                   /* request body, NUL-terminated for convenience; "" if none */
    size_t body_len;                    /* body length in bytes (≤ cfg.max_body_bytes) */
    const struct token_info *token;     /* authenticated token, NULL on routes with ROLE_NONE */
    PGconn *db;                         /* borrowed lazily by http_req_db, released by the router */
    const struct http_query_arg *query; /* without a connection (tests, fuzzing): the query parameters */
    size_t nquery;
    bool console;                   /* authenticated by a console session cookie, not a bearer token */
    struct console_session session; /* that session and its account (when console) */
};

/* ---- response -------------------------------------------------------------------------------- */

struct http_header {
    char name[48];
    char value[256];
};

struct http_response {
    unsigned int status; /* 0 until a handler sets one */
    char *body;          /* malloc'd, NUL-terminated (wiped with strlen before free) */
    size_t body_len;
    const char *content_type; /* static string, or NULL for no body */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    struct MHD_Response *stream; /* instead of body: a callback response (SSE), queued as is and
                                       destroyed by the server; NULL for ordinary responses */
};

/* A handler answers one route. It fills resp through the helpers below and returns ATT_OK, or the
 * att_err of the problem it wrote (http_problem returns its error so `return http_problem(...)`
 * reads naturally). If it returns an error without writing a response, the router answers the
 * registry's generic problem for that error and logs a warning. Handlers run on a libmicrohttpd
 * worker thread and may block on the database; those of photo routes (http_route_vision) run on a
 * vision queue worker instead (the connection is suspended meanwhile). */
typedef att_err (*http_handler)(struct http_request *req, struct http_response *resp);

struct http_route {
    const char *method;     /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;    /* "/api/v1/tokens/{id}": literal segments and {name} segments */
    enum att_role min_role; /* ROLE_NONE: no authentication; ROLE_HR: hr or admin; ROLE_ADMIN */
    http_handler handler;
    bool pseudonym_ok; /* a pseudonymous token may call it (it reveals no identity, or the
                                  handler replaces identities by pseudonyms); false: 403 for them */
    bool delete_body;  /* a DELETE whose handler reads a body (the void reason); every other
                                  DELETE, GET and HEAD is refused a body from its headers */
};

/* ---- response helpers (problem.c) ------------------------------------------------------------ */

/* 200/201... with a JSON body; steals the reference to body (also on failure). */
att_err http_json(struct http_response *resp, unsigned int status, json_t *body);
/* 200 with {"items": [...]} built by to_json from n rows of elem_size bytes each; to_json returns a
 * new reference or NULL (then the whole answer is a 500 problem). */
att_err http_json_items(struct http_response *resp, const void *rows, size_t n, size_t elem_size,
                        json_t *(*to_json)(const void *row));
/* j as compact JSON text (malloc'd, free it); steals the reference to j. NULL when j is NULL or on
 * no memory: audit details are built with jansson and turned into text here. */
char *http_json_text(json_t *j);
/* A status without a body (204). */
att_err http_status(struct http_response *resp, unsigned int status);
/* Add a response header (copied); ATT_E_INTERNAL if there is no room or it is too long. */
att_err http_header(struct http_response *resp, const char *name, const char *value);
/* Write an application/problem+json body for err (status, code and title from the registry).
 * field: the offending field or parameter (422/400), or NULL. detail: printf format, or NULL for
 * the title. Returns err. */
att_err http_problem(struct http_response *resp, att_err err, const char *field, const char *detail, ...)
    __attribute__((format(printf, 4, 5)));
/* Same with extra members merged into the body (stolen; may be NULL), e.g. readyz "reasons". */
att_err http_problem_ext(struct http_response *resp, att_err err, const char *field, json_t *extra, const char *detail,
                         ...) __attribute__((format(printf, 5, 6)));
/* Free what a response owns (the router does this). */
void http_response_clear(struct http_response *resp);

/* ---- request helpers (request.c) -------------------------------------------------------------- */

/* Value of path parameter {name}; NULL if the route has none of that name. */
const char *http_param(const struct http_request *req, const char *name);
/* Request header (case-insensitive) or NULL. */
const char *http_req_header(const struct http_request *req, const char *name);
/* A pooled database connection for this request (borrowed once, released after the handler).
 * On failure writes a 503 problem into resp and returns its error. */
att_err http_req_db(struct http_request *req, struct http_response *resp, PGconn **out);

/* The value rules of integer and boolean query parameters on one value (query_spec.c): false if s is
 * not a decimal integer in [min, max] / not true, false, 1 or 0 (*out untouched then). */
bool http_parse_int(const char *s, long long min, long long max, long long *out);
bool http_parse_bool(const char *s, int *out);

/* Audit row for an action by the request's token (actor = token name). outcome: "ok" or an error
 * code. Uses the request's connection. Logs and returns the error if the insert fails. */
att_err http_audit(struct http_request *req, const char *action, const char *target_type, const char *target_id,
                   const char *outcome, const char *detail_json);
/* The request's token as the actor of the audit rows a use case writes. */
struct audit_actor http_actor(const struct http_request *req);
/* The answer when an action's audit row cannot be written (audited_list.c): the action is refused
 * (fail closed), 503 for a database error, else 500. Returns the problem's error. */
att_err http_audit_failed(struct http_response *resp, att_err e);

/* An admin list whose every reading leaves an audit row (audited_list.c). */
struct http_audited_list {
    const char *action;      /* the audit row's action, e.g. "token.list" */
    const char *target_type; /* the audit row's target type */
    const char *member;      /* the response object's member holding the array */
    const char *failed;      /* the problem's detail when the rows cannot be loaded */
    size_t row_size;         /* bytes of one row in what load returns */
    /* the rows, one malloc'd array of n rows of row_size bytes (freed by http_audited_list) */
    att_err (*load)(PGconn *c, void **rows, size_t *n);
    json_t *(*render)(const void *row); /* one row's JSON; NULL when out of memory */
};
/* GET of list l: loads the rows (a failure is audited and answered with l->failed), writes the
 * "ok" audit row before anything is shown (refused if it cannot be written), renders 200
 * {member: [rows]} with Cache-Control no-store. */
att_err http_audited_list(struct http_request *req, struct http_response *resp, const struct http_audited_list *l);

/* ---- photo uploads (upload.c) ------------------------------------------------------------------ */

#define HTTP_VISION_WAIT_MS 10000 /* how long a request waits for a free face pipeline */
#define HTTP_BUSY_RETRY_S 2       /* Retry-After of a 503 busy: the vision queue is full */

/* The photo of an enrolment or identification request, pointing into req->body: the raw body for
 * Content-Type image/jpeg or image/png, or the one file part (image/jpeg or image/png) of a
 * multipart/form-data body. Writes 415 for another media type (of the body or of the file part) and
 * 415 naming "file" for bytes of another image format (WebP, GIF, TIFF, BMP, HEIF/AVIF, JPEG 2000),
 * 400 for a malformed multipart body and 422 (field "file") for zero or several file parts. */
att_err http_image_body(const struct http_request *req, struct http_response *resp, const void **data, size_t *len);
/* Borrow a face pipeline from deps->vision (give it back with vpool_release). Writes 503 not_ready
 * when the models are not loaded and 503 unavailable when none is free within HTTP_VISION_WAIT_MS. */
att_err http_vision_acquire(struct http_request *req, struct http_response *resp, av_pipeline **out);

/* ---- the roster (people.c) ---------------------------------------------------------------------- */

/* What the roster's use cases need from the daemon, with c as the connection (vision NULL while the
 * models are not ready). */
struct roster_deps http_roster_deps(const struct http_request *req, PGconn *c);
/* Audit a refused roster request (outcome = err's code; a malformed target id is left out) and
 * return err. Best effort: the refusal stands even if the row cannot be written (it is logged). */
att_err http_audit_refusal(struct http_request *req, const char *action, const char *target_id, att_err err);
/* ATT_OK when the gallery is loaded; else writes 503 not_ready (with the loader's reason) and
 * returns ATT_E_NOT_READY. Gallery-changing writes check it first: until the start-up load is done
 * the daemon may replace the gallery, and the load picks their change up from the database anyway. */
att_err http_gallery_ready(struct http_request *req, struct http_response *resp);

/* ---- write-route bodies, checked without the database -------------------------------------------- */

/* Each parses body[0..len) with its route's field spec, then applies the handler's own field rules
 * (text, uuids, dates, URLs, ...); the handler calls it after http_json_media, and the fuzz targets
 * (fuzz/) call it directly. On failure the 4xx problem is in resp and nothing is left to free. On
 * success *json (where given) is the parsed object (json_decref it) and the outputs point into it. */
struct camera_def;
struct camera_patch;
struct person_new;
struct person_patch;
att_err http_people_create_body(struct http_response *resp, const char *body, size_t len, json_t **json,
                                struct person_new *out);
att_err http_people_update_body(struct http_response *resp, const char *body, size_t len, json_t **json,
                                struct person_patch *out);
/* create: POST spec, else PATCH. d: the full definition (preset its defaults), p: what the body sets
 * (strings point into d, not into the JSON, which is freed), changed: member names "a,b" (may be NULL). */
att_err http_cameras_body(struct http_response *resp, const char *body, size_t len, bool create, struct camera_def *d,
                          struct camera_patch *p, char *changed, size_t changed_len);
/* A token to create: name points into *doc. */
struct token_request {
    const char *name;
    enum att_role role;
    bool pseudonymous;                              /* sees pseudonyms instead of identities */
    const char *departments[TOKEN_DEPARTMENTS_MAX]; /* need to know: only people of these (into *doc) */
    size_t n_departments;                           /* 0: every department */
};
att_err http_tokens_body(struct http_response *resp, const char *body, size_t len, json_t **doc,
                         struct token_request *out);
/* now_s: the current time (seconds since the epoch) the "not in the future" rule compares with. */
/* A manual punch as typed values (strings point into *doc). */
struct punch_body {
    const char *person_id, *kind, *ts, *reason;
    int64_t ts_us; /* ts in µs since the epoch */
};
att_err http_punches_body(struct http_response *resp, const char *body, size_t len, int64_t now_s, json_t **doc,
                          struct punch_body *out);
/* A shift body as typed values (strings point into *doc). */
struct shift_body {
    const char *name, *start, *end;                       /* NULL when absent */
    bool set_grace_late, set_grace_early, set_break;      /* the member is present */
    long long grace_late_min, grace_early_min, break_min; /* 0 when absent */
    bool set_round, set_break_punched;                    /* pay rules present */
    long long round_min;                                  /* 0 when absent */
    const char *round_favour;                             /* NULL when absent */
    bool break_punched;
};
att_err http_shifts_body(struct http_response *resp, const char *body, size_t len, bool create, json_t **doc,
                         struct shift_body *out);
/* A schedule body as typed values (strings point into *doc; NULL when absent). */
struct schedule_body {
    const char *shift_id, *department, *person_id, *valid_from;
    bool set_valid_to;    /* valid_to is present (a date or null) */
    const char *valid_to; /* the date, NULL when absent or null (open-ended) */
};
att_err http_schedules_body(struct http_response *resp, const char *body, size_t len, bool create, json_t **doc,
                            struct schedule_body *out);

/* ---- long-lived responses (live.c) ---------------------------------------------------------------- */

/* A response that outlives its request (an event stream, an export), registered under the token
 * that opened it. Revoking the token marks it; the response's producer checks the mark before it
 * sends anything and ends the response when it is set. Embedded in the producer's state. */
struct http_live {
    att_uuid token;                /* the token that opened the response */
    atomic_bool revoked;           /* set by http_live_revoke: send nothing more, end the response */
    bool linked;                   /* in the registry; guarded by the registry's lock */
    struct http_live *prev, *next; /* registry list; guarded by the registry's lock */
};
/* Register l (zeroed here) under token; false if the token has no usable id (nothing registered).
 * A token revoked between its request's authentication and this call is marked at once. */
bool http_live_add(struct http_live *l, const struct token_info *token);
/* Unregister l (a no-op when it is not registered). */
void http_live_remove(struct http_live *l);
/* Whether l's token was revoked since it was registered. */
bool http_live_revoked(const struct http_live *l);
/* Mark every response of token as revoked; returns how many were marked. */
unsigned http_live_revoke(const att_uuid *token);

/* ---- routing and auth (router.c, auth.c) ------------------------------------------------------ */

enum http_match { HTTP_MATCH_OK, HTTP_MATCH_NO_PATH, HTTP_MATCH_BAD_METHOD };
/* Find the route for method+path; fills req->params on success. On HTTP_MATCH_BAD_METHOD, allow
 * receives the comma-separated methods the path supports (for the Allow header). */
enum http_match http_route_find(const char *method, const char *path, struct http_request *req,
                                const struct http_route **route, char *allow, size_t allowlen);
/* The route table, read-only, in table order: http_route_at(i) for i < http_route_count(), NULL past
 * the end. tests/unit/test_openapi.c checks docs/openapi.json against it. */
size_t http_route_count(void);
const struct http_route *http_route_at(size_t i);
/* Whether route's handler analyses a photo: it runs on the vision queue's workers (vqueue.c), never on
 * a libmicrohttpd thread. */
bool http_route_vision(const struct http_route *route);

/* Authenticate the Authorization header for a route needing min_role. On success fills *out.
 * 401 (with WWW-Authenticate) for a missing, malformed, unknown or revoked token; 403 for a
 * role below min_role; 503 when the database cannot be asked. */
att_err http_auth(struct http_request *req, struct http_response *resp, enum att_role min_role, struct token_info *out);
/* Console sessions (session.c): the session cookie's value into out (false when absent or too
 * long); authenticate by it (the CSRF and origin checks of a state-changing request included). */
bool http_session_cookie(const struct http_request *req, char *out, size_t outlen);
att_err http_session_auth(struct http_request *req, struct http_response *resp, enum att_role min_role,
                          struct token_info *out);
/* Drop a token from the auth cache at once (after revocation through the API) and bump the
 * revocation generation, so that no lookup that started before it caches the token again. */
void http_auth_forget(const att_uuid *token_id);
/* The auth cache: the revocation generation to read before a database lookup; a cached answer by
 * token hash; cache an answer read under generation (false, nothing cached, if a revocation ran
 * since or info->id is not a uuid). */
uint64_t http_auth_generation(void);
bool http_auth_cache_get(const unsigned char hash[TOKEN_HASH_BYTES], struct token_info *out);
bool http_auth_cache_put(const unsigned char hash[TOKEN_HASH_BYTES], const struct token_info *info,
                         uint64_t generation);
/* Drop the whole cache (tests, SIGHUP). */
void http_auth_cache_clear(void);

/* Client address as text ("127.0.0.1", "::1") for logs; "?" if unknown (server.c). */
void http_client_addr(struct MHD_Connection *conn, char *buf, size_t len);

/* ---- cheap polling (etag.c) --------------------------------------------------------------------- */

/* Conditional GET for a polled list: the ETag is the per-boot epoch, the data version
 * (attendd/data_version.h) and a hash of the path, the sorted query string, the token's
 * pseudonymity and department limit, and variant (the representation chosen, e.g. "json"/"csv"; NULL if one); Last-Modified is the time of the latest bump. Adds both headers to resp. When
 * If-None-Match matches, resp becomes a 304 without a body and *not_modified is true: the handler
 * returns ATT_OK at once, before touching the database (and writes no audit row: nothing is
 * disclosed that the audited 200 did not). Call it after validating parameters, before the query. */
att_err http_etag_check(struct http_request *req, const char *variant, struct http_response *resp, bool *not_modified);

/* ---- the events list (events.c) ------------------------------------------------------------------ */

/* The query of GET /api/v1/events as typed values; the texts point into the query string (for the
 * audit row, which records the filters as given). */
struct events_query {
    struct event_filter f;
    const char *since, *until, *person_id, *camera_id; /* as given, or NULL */
    int format;                                        /* format=: -1 absent, 0 json, 1 csv */
    bool limit_given;                                  /* limit= present (refused for the CSV export) */
};
/* Parse and check the query (400 naming the parameter, as every GET route). */
att_err http_events_query(const struct http_request *req, struct http_response *resp, struct events_query *q);

/* ---- events as JSON (events.c) ------------------------------------------------------------------ */

/* One event for the API. pseudonymous: person_key (the pseudonym) instead of person_id,
 * employee_no and name, and no reason/created_by (free text may name people). NULL on no memory. */
json_t *http_event_json(const struct event_row *e, bool pseudonymous);
struct text_buf;
/* The same event written straight into b, byte for byte what att_json_dumps(http_event_json(e),
 * JSON_COMPACT) gives (the page encoder of polling dashboards, the hot path). */
void http_event_text(struct text_buf *b, const struct event_row *e, bool pseudonymous);

/* ---- the SSE hub (sse.c) ------------------------------------------------------------------------- */

/* Started and stopped by server.c: http_sse_open before the daemon, http_sse_shutdown on quiesce
 * (every open stream ends at once, so the drain never waits on them), http_sse_close after
 * MHD_stop_daemon. */
att_err http_sse_open(const struct http_deps *deps);
void http_sse_shutdown(void);
/* Check the parked streams now (a revocation marked some: they end without waiting for a tick). */
void http_sse_kick(void);
void http_sse_close(void);

/* ---- handlers (one file per resource) -------------------------------------------------------- */

att_err http_health_get(struct http_request *req, struct http_response *resp);
/* Database round trips /readyz has made in this process (its answer is reused for a second). */
uint64_t http_ready_db_checks(void);
att_err http_ready_get(struct http_request *req, struct http_response *resp);
att_err http_whoami_get(struct http_request *req, struct http_response *resp);
att_err http_tokens_list(struct http_request *req, struct http_response *resp);
att_err http_tokens_create(struct http_request *req, struct http_response *resp);
att_err http_tokens_delete(struct http_request *req, struct http_response *resp);
att_err http_users_list(struct http_request *req, struct http_response *resp);
att_err http_users_create(struct http_request *req, struct http_response *resp);
att_err http_users_delete(struct http_request *req, struct http_response *resp);
/* events.c, metrics.c */
att_err http_events_list(struct http_request *req, struct http_response *resp);
/* sse.c, punches.c: the live event feed and manual corrections */
att_err http_events_stream(struct http_request *req, struct http_response *resp);
att_err http_punches_create(struct http_request *req, struct http_response *resp);
att_err http_punches_void(struct http_request *req, struct http_response *resp);
att_err http_metrics_get(struct http_request *req, struct http_response *resp);

/* cameras.c */
att_err http_cameras_list(struct http_request *req, struct http_response *resp);
att_err http_cameras_create(struct http_request *req, struct http_response *resp);
att_err http_cameras_get(struct http_request *req, struct http_response *resp);
att_err http_cameras_update(struct http_request *req, struct http_response *resp);
att_err http_cameras_delete(struct http_request *req, struct http_response *resp);
att_err http_cameras_snapshot(struct http_request *req, struct http_response *resp);

/* people.c, faces.c, identify.c, audit.c: roster, enrolment, identification, audit log */
att_err http_people_create(struct http_request *req, struct http_response *resp);
att_err http_people_list(struct http_request *req, struct http_response *resp);
att_err http_people_get(struct http_request *req, struct http_response *resp);
att_err http_people_update(struct http_request *req, struct http_response *resp);
att_err http_people_erase(struct http_request *req, struct http_response *resp);
att_err http_faces_enrol(struct http_request *req, struct http_response *resp);
att_err http_faces_list(struct http_request *req, struct http_response *resp);
att_err http_faces_delete(struct http_request *req, struct http_response *resp);
att_err http_identify(struct http_request *req, struct http_response *resp);
att_err http_audit_list(struct http_request *req, struct http_response *resp);
att_err http_instances_list(struct http_request *req, struct http_response *resp);

/* session.c, console.c: console sign-in and sign-out, the console's page and assets */
att_err http_session_create(struct http_request *req, struct http_response *resp);
att_err http_session_get(struct http_request *req, struct http_response *resp);
att_err http_session_delete(struct http_request *req, struct http_response *resp);
att_err http_console_index(struct http_request *req, struct http_response *resp);
att_err http_console_asset(struct http_request *req, struct http_response *resp);

/* shifts.c, attendance.c: shifts, schedules, the attendance report */
att_err http_shifts_list(struct http_request *req, struct http_response *resp);
att_err http_shifts_create(struct http_request *req, struct http_response *resp);
att_err http_shifts_get(struct http_request *req, struct http_response *resp);
att_err http_shifts_update(struct http_request *req, struct http_response *resp);
att_err http_shifts_delete(struct http_request *req, struct http_response *resp);
att_err http_schedules_list(struct http_request *req, struct http_response *resp);
att_err http_schedules_create(struct http_request *req, struct http_response *resp);
att_err http_schedules_get(struct http_request *req, struct http_response *resp);
att_err http_schedules_update(struct http_request *req, struct http_response *resp);
att_err http_schedules_delete(struct http_request *req, struct http_response *resp);
att_err http_attendance_get(struct http_request *req, struct http_response *resp);

/* consent.c: the consent register */
att_err http_consent_texts_list(struct http_request *req, struct http_response *resp);
att_err http_consent_texts_create(struct http_request *req, struct http_response *resp);
att_err http_consent_texts_get(struct http_request *req, struct http_response *resp);
att_err http_consent_get(struct http_request *req, struct http_response *resp);
att_err http_consent_record(struct http_request *req, struct http_response *resp);
/* The bodies of POST /consent-texts and POST /people/{id}/consent (strings point into *doc). */
att_err http_consent_text_body(struct http_response *resp, const char *body, size_t len, json_t **doc,
                               const char **language, const char **text);
att_err http_consent_body(struct http_response *resp, const char *body, size_t len, json_t **doc,
                          enum consent_state *state, int *text_version);
/* kiosk.c: kiosk PINs and kiosk punches */
att_err http_people_pin_set(struct http_request *req, struct http_response *resp);
att_err http_kiosk_punch(struct http_request *req, struct http_response *resp);
struct kiosk_punch;
att_err http_pin_body(struct http_response *resp, const char *body, size_t len, json_t **doc, const char **pin);
att_err http_kiosk_body(struct http_response *resp, const char *body, size_t len, json_t **doc,
                        struct kiosk_punch *out);
/* export.c: a subject access export; people.c: a person as the API shows it (NULL on no memory) */
att_err http_people_export(struct http_request *req, struct http_response *resp);
json_t *http_person_json(const struct person *p);
/* retention.c: the retention policy, its last and next run */
att_err http_retention_get(struct http_request *req, struct http_response *resp);
/* scope.c, need to know: a principal limited to departments (a token's departments, a manager's wards). */
/* Whether the request's principal is limited to departments; whether it may see department dept. */
bool http_scoped(const struct http_request *req);
bool http_sees_department(const struct http_request *req, const char *dept);
/* The principal's departments as a JSON array text (malloc'd; free it), NULL when it is not limited.
 * On no memory the 500 is in resp. */
att_err http_scope_departments(const struct http_request *req, struct http_response *resp, char **out);
/* The person id names as the principal may see it: ATT_E_NOT_FOUND for a malformed id, no such (or an
 * erased) person, or a person outside its departments; *out filled on ATT_OK. */
att_err http_person_visible(struct http_request *req, PGconn *c, const char *id, struct person *out);
/* The request's connection (*c) and the person id names, as above; on failure the 404 (or 503) is in
 * resp and the refusal of action audited. */
att_err http_person_load(struct http_request *req, struct http_response *resp, const char *action, const char *id,
                         PGconn **c, struct person *out);
/* For a limited principal: ATT_OK when it may see person id, else as http_person_load. ATT_OK at once
 * for an unlimited one. */
att_err http_person_check(struct http_request *req, struct http_response *resp, const char *action, const char *id);
/* What an id of a route or a body names; its department decides whether a limited principal sees it. */
enum scope_owner { SCOPE_PERSON, SCOPE_EVENT, SCOPE_SCHEDULE, SCOPE_PATTERN, SCOPE_OVERRIDE, SCOPE_LEAVE };
/* *hidden: id names an existing row of kind outside the principal's departments; the caller then
 * answers exactly as for a row that does not exist. false for an unlimited principal, a malformed id or
 * no such row. */
att_err http_scope_hidden(const struct http_request *req, PGconn *c, enum scope_owner kind, const char *id,
                          bool *hidden);
/* Drop from the JSON array items every object naming a person (person_id, person_a, person_b) or, without
 * one, a department outside the principal's departments. Nothing for an unlimited principal. */
att_err http_scope_items(const struct http_request *req, struct http_response *resp, PGconn *c, json_t *items);
/* Whether route r applies department limits (only those are open to a limited principal). */
bool http_route_scoped_ok(const struct http_route *r);
/* rosters.c: roster patterns, overrides, holidays, leave, the resolved roster, exceptions, pay periods */
struct att_tz;
/* The configured zone by name, loaded once and kept (attendance.c). ATT_E_CONFIG when it cannot be. */
att_err http_zone_get(const char *name, const struct att_tz **out);
att_err http_patterns_create(struct http_request *req, struct http_response *resp);
att_err http_patterns_list(struct http_request *req, struct http_response *resp);
att_err http_patterns_delete(struct http_request *req, struct http_response *resp);
att_err http_overrides_create(struct http_request *req, struct http_response *resp);
att_err http_overrides_list(struct http_request *req, struct http_response *resp);
att_err http_overrides_delete(struct http_request *req, struct http_response *resp);
att_err http_holidays_create(struct http_request *req, struct http_response *resp);
att_err http_holidays_list(struct http_request *req, struct http_response *resp);
att_err http_holidays_delete(struct http_request *req, struct http_response *resp);
att_err http_holidays_import(struct http_request *req, struct http_response *resp);
att_err http_leave_create(struct http_request *req, struct http_response *resp);
att_err http_leave_list(struct http_request *req, struct http_response *resp);
att_err http_leave_update(struct http_request *req, struct http_response *resp);
att_err http_leave_delete(struct http_request *req, struct http_response *resp);
att_err http_leave_types_list(struct http_request *req, struct http_response *resp);
att_err http_leave_types_create(struct http_request *req, struct http_response *resp);
att_err http_roster_get(struct http_request *req, struct http_response *resp);
att_err http_exceptions_list(struct http_request *req, struct http_response *resp);
att_err http_exceptions_resolve(struct http_request *req, struct http_response *resp);
att_err http_periods_create(struct http_request *req, struct http_response *resp);
att_err http_periods_list(struct http_request *req, struct http_response *resp);
att_err http_periods_close(struct http_request *req, struct http_response *resp);
att_err http_periods_reopen(struct http_request *req, struct http_response *resp);
att_err http_payroll_get(struct http_request *req, struct http_response *resp);
att_err http_events_misidentified(struct http_request *req, struct http_response *resp);
att_err http_people_lookalikes(struct http_request *req, struct http_response *resp);
att_err http_pay_rules_get(struct http_request *req, struct http_response *resp);
att_err http_pay_rules_update(struct http_request *req, struct http_response *resp);

#endif
