/* The API's one route table and the matcher: method + path pattern ({name} segments) → handler and
 * minimum role. To add a resource: write src/http/<resource>.c, declare its handlers in
 * http_internal.h, add rows here. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>

/* Last columns: delete_body (only a punch void reads a body on DELETE), and before it pseudonym_ok
 * (see http_internal.h); rows without pseudonym_ok are refused to pseudonymous
 * tokens. A route reading people's data must pseudonymise it (http_event_json) before setting it.
 * First match wins: list a literal path ("/people/search") before a pattern that would also match
 * it ("/people/{id}"). */
static const struct http_route routes[] = {
    /* probes: no authentication, cheap */
    {"GET", "/healthz", ROLE_NONE, http_health_get, true, false},
    {"GET", "/readyz", ROLE_NONE, http_ready_get, true, false},
    /* identity of the presented token */
    {"GET", "/api/v1/whoami", ROLE_HR, http_whoami_get, true, false},
    /* API tokens (tokens.c) */
    {"GET", "/api/v1/tokens", ROLE_ADMIN, http_tokens_list, false, false},
    {"POST", "/api/v1/tokens", ROLE_ADMIN, http_tokens_create, false, false},
    {"DELETE", "/api/v1/tokens/{id}", ROLE_ADMIN, http_tokens_delete, false, false},
    /* console accounts (users.c) */
    {"GET", "/api/v1/users", ROLE_ADMIN, http_users_list, false, false},
    {"POST", "/api/v1/users", ROLE_ADMIN, http_users_create, false, false},
    {"DELETE", "/api/v1/users/{id}", ROLE_ADMIN, http_users_delete, false, false},
    /* attendance events (events.c) */
    {"GET", "/api/v1/events", ROLE_HR, http_events_list, true, false},
    {"GET", "/api/v1/events/stream", ROLE_HR, http_events_stream, true, false},
    /* manual corrections (punches.c): typed at a desk, written straight to the database */
    {"POST", "/api/v1/punches", ROLE_HR, http_punches_create, false, false},
    {"DELETE", "/api/v1/punches/{id}", ROLE_HR, http_punches_void, false, true},
    /* Prometheus metrics (metrics.c): a token like the rest of the API, see docs/api.md */
    {"GET", "/metrics", ROLE_HR, http_metrics_get, true, false},
    /* cameras (cameras.c): admin writes, hr may read */
    {"GET", "/api/v1/cameras", ROLE_HR, http_cameras_list, false, false},
    {"POST", "/api/v1/cameras", ROLE_ADMIN, http_cameras_create, false, false},
    {"GET", "/api/v1/cameras/{id}", ROLE_HR, http_cameras_get, false, false},
    {"PATCH", "/api/v1/cameras/{id}", ROLE_ADMIN, http_cameras_update, false, false},
    {"DELETE", "/api/v1/cameras/{id}", ROLE_ADMIN, http_cameras_delete, false, false},
    /* the camera's current frame (snapshot.c): admin only, never stored, audited */
    {"GET", "/api/v1/cameras/{id}/snapshot", ROLE_ADMIN, http_cameras_snapshot, false, false},
    /* the roster (people.c, faces.c): admin writes, hr reads; identification and the audit log */
    {"GET", "/api/v1/people", ROLE_HR, http_people_list, false, false},
    {"POST", "/api/v1/people", ROLE_ADMIN, http_people_create, false, false},
    {"GET", "/api/v1/people/{id}", ROLE_HR, http_people_get, false, false},
    {"PATCH", "/api/v1/people/{id}", ROLE_ADMIN, http_people_update, false, false},
    {"DELETE", "/api/v1/people/{id}", ROLE_ADMIN, http_people_erase, false, false},
    {"GET", "/api/v1/people/{id}/faces", ROLE_HR, http_faces_list, false, false},
    {"POST", "/api/v1/people/{id}/faces", ROLE_ADMIN, http_faces_enrol, false, false},
    {"DELETE", "/api/v1/people/{id}/faces/{face_id}", ROLE_ADMIN, http_faces_delete, false, false},
    {"POST", "/api/v1/identify", ROLE_HR, http_identify, false, false},
    {"GET", "/api/v1/audit", ROLE_ADMIN, http_audit_list, false, false},
    /* shifts and schedules (shifts.c): admin writes, hr reads; the attendance report (attendance.c) */
    {"GET", "/api/v1/shifts", ROLE_HR, http_shifts_list, false, false},
    {"POST", "/api/v1/shifts", ROLE_ADMIN, http_shifts_create, false, false},
    {"GET", "/api/v1/shifts/{id}", ROLE_HR, http_shifts_get, false, false},
    {"PATCH", "/api/v1/shifts/{id}", ROLE_ADMIN, http_shifts_update, false, false},
    {"DELETE", "/api/v1/shifts/{id}", ROLE_ADMIN, http_shifts_delete, false, false},
    {"GET", "/api/v1/schedules", ROLE_HR, http_schedules_list, false, false},
    {"POST", "/api/v1/schedules", ROLE_ADMIN, http_schedules_create, false, false},
    {"GET", "/api/v1/schedules/{id}", ROLE_HR, http_schedules_get, false, false},
    {"PATCH", "/api/v1/schedules/{id}", ROLE_ADMIN, http_schedules_update, false, false},
    {"DELETE", "/api/v1/schedules/{id}", ROLE_ADMIN, http_schedules_delete, false, false},
    {"GET", "/api/v1/attendance", ROLE_HR, http_attendance_get, false, false},
    /* privacy (consent.c): the consent register */
    {"GET", "/api/v1/consent-texts", ROLE_HR, http_consent_texts_list, true, false},
    {"POST", "/api/v1/consent-texts", ROLE_ADMIN, http_consent_texts_create, false, false},
    {"GET", "/api/v1/consent-texts/{version}", ROLE_HR, http_consent_texts_get, true, false},
    {"GET", "/api/v1/people/{id}/consent", ROLE_HR, http_consent_get, false, false},
    {"POST", "/api/v1/people/{id}/consent", ROLE_ADMIN, http_consent_record, false, false},
    /* privacy (kiosk.c): the alternative to the face */
    {"PUT", "/api/v1/people/{id}/pin", ROLE_ADMIN, http_people_pin_set, false, false},
    {"POST", "/api/v1/kiosk/punch", ROLE_KIOSK, http_kiosk_punch, false, false},
    /* privacy (export.c): subject access */
    {"GET", "/api/v1/people/{id}/export", ROLE_ADMIN, http_people_export, false, false},
    /* privacy (retention.c): the retention policy and its runs */
    {"GET", "/api/v1/retention", ROLE_HR, http_retention_get, true, false},
    /* the console (session.c, console.c): sign-in by cookie session, its page and assets */
    {"POST", "/api/v1/session", ROLE_NONE, http_session_create, true, false},
    {"GET", "/api/v1/session", ROLE_HR, http_session_get, true, false},
    {"DELETE", "/api/v1/session", ROLE_HR, http_session_delete, true, false},
    {"GET", "/", ROLE_NONE, http_console_index, true, false},
    {"GET", "/assets/{name}", ROLE_NONE, http_console_asset, true, false},
    /* instances sharing the database and their camera leases (instances.c) */
    {"GET", "/api/v1/instances", ROLE_HR, http_instances_list, true, false},
    /* rosters, holidays, leave, exceptions, pay periods (rosters.c): admin defines, hr handles leave and exceptions */
    {"GET", "/api/v1/roster", ROLE_HR, http_roster_get, false, false},
    {"GET", "/api/v1/roster/patterns", ROLE_HR, http_patterns_list, false, false},
    {"POST", "/api/v1/roster/patterns", ROLE_ADMIN, http_patterns_create, false, false},
    {"DELETE", "/api/v1/roster/patterns/{id}", ROLE_ADMIN, http_patterns_delete, false, false},
    {"GET", "/api/v1/roster/overrides", ROLE_HR, http_overrides_list, false, false},
    {"POST", "/api/v1/roster/overrides", ROLE_ADMIN, http_overrides_create, false, false},
    {"DELETE", "/api/v1/roster/overrides/{id}", ROLE_ADMIN, http_overrides_delete, false, false},
    {"GET", "/api/v1/holidays", ROLE_HR, http_holidays_list, false, false},
    {"POST", "/api/v1/holidays", ROLE_ADMIN, http_holidays_create, false, false},
    {"POST", "/api/v1/holidays/import", ROLE_ADMIN, http_holidays_import, false, false},
    {"DELETE", "/api/v1/holidays/{id}", ROLE_ADMIN, http_holidays_delete, false, false},
    {"GET", "/api/v1/leave", ROLE_HR, http_leave_list, false, false},
    {"GET", "/api/v1/leave/types", ROLE_HR, http_leave_types_list, false, false},
    {"POST", "/api/v1/leave/types", ROLE_ADMIN, http_leave_types_create, false, false},
    {"POST", "/api/v1/leave", ROLE_HR, http_leave_create, false, false},
    {"PATCH", "/api/v1/leave/{id}", ROLE_HR, http_leave_update, false, false},
    {"DELETE", "/api/v1/leave/{id}", ROLE_HR, http_leave_delete, false, false},
    {"GET", "/api/v1/exceptions", ROLE_HR, http_exceptions_list, false, false},
    {"POST", "/api/v1/exceptions/resolve", ROLE_HR, http_exceptions_resolve, false, false},
    {"GET", "/api/v1/periods", ROLE_HR, http_periods_list, false, false},
    {"POST", "/api/v1/periods", ROLE_ADMIN, http_periods_create, false, false},
    {"POST", "/api/v1/periods/{id}/close", ROLE_ADMIN, http_periods_close, false, false},
    {"POST", "/api/v1/periods/{id}/reopen", ROLE_ADMIN, http_periods_reopen, false, false},
    {"GET", "/api/v1/periods/{id}/payroll", ROLE_HR, http_payroll_get, true, false},
    {"POST", "/api/v1/events/{id}/misidentified", ROLE_HR, http_events_misidentified, false, false},
    {"GET", "/api/v1/people/{id}/lookalikes", ROLE_HR, http_people_lookalikes, false, false},
    {"GET", "/api/v1/pay/rules", ROLE_HR, http_pay_rules_get, false, false},
    {"PATCH", "/api/v1/pay/rules", ROLE_ADMIN, http_pay_rules_update, false, false},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* The handlers that analyse a photo (decode, detect, embed): they run on the vision queue's workers. */
static const http_handler vision_handlers[] = {http_faces_enrol, http_identify};

bool http_route_vision(const struct http_route *route)
{
    for (size_t i = 0; i < sizeof vision_handlers / sizeof vision_handlers[0]; i++)
        if (route->handler == vision_handlers[i]) return true;
    return false;
}

size_t http_route_count(void) { return NROUTES; }
const struct http_route *http_route_at(size_t i) { return i < NROUTES ? &routes[i] : NULL; }

/* Match path against pattern; on success fill params (if given). Segments are compared exactly;
 * a {name} segment matches one non-empty segment of at most 255 bytes. */
static bool match_pattern(const char *pattern, const char *path, struct http_param *params, size_t *nparams)
{
    size_t np = 0;
    const char *p = pattern, *u = path;
    while (*p != '\0' && *u != '\0') {
        if (*p != '/' || *u != '/') return false;
        p++;
        u++;
        const char *pe = strchr(p, '/');
        const char *ue = strchr(u, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t ulen = ue ? (size_t)(ue - u) : strlen(u);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (ulen == 0 || np >= HTTP_MAX_PATH_PARAMS || ulen >= sizeof params[0].value ||
                plen - 2 >= sizeof params[0].name)
                return false;
            if (params != NULL) {
                memcpy(params[np].name, p + 1, plen - 2);
                params[np].name[plen - 2] = '\0';
                memcpy(params[np].value, u, ulen);
                params[np].value[ulen] = '\0';
            }
            np++;
        } else if (plen != ulen || memcmp(p, u, plen) != 0) {
            return false;
        }
        p += plen;
        u += ulen;
    }
    if (*p != '\0' || *u != '\0') return false; /* one is longer (this also refuses a trailing '/') */
    if (nparams != NULL) *nparams = np;
    return true;
}

enum http_match http_route_find(const char *method, const char *path, struct http_request *req,
                                const struct http_route **route, char *allow, size_t allowlen)
{
    /* HEAD is GET without the body (libmicrohttpd drops the body of a HEAD response itself) */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_known = false;
    size_t alen = 0;
    if (allowlen > 0) allow[0] = '\0';
    for (size_t r = 0; r < NROUTES; r++) {
        size_t np = 0;
        if (!match_pattern(routes[r].pattern, path, NULL, &np)) continue;
        path_known = true;
        if (strcmp(routes[r].method, m) == 0) {
            match_pattern(routes[r].pattern, path, req->params, &req->nparams);
            *route = &routes[r];
            return HTTP_MATCH_OK;
        }
        int n = snprintf(allow + alen, allowlen - alen, "%s%s%s", alen ? ", " : "", routes[r].method,
                         strcmp(routes[r].method, "GET") == 0 ? ", HEAD" : "");
        if (n > 0 && (size_t)n < allowlen - alen) alen += (size_t)n;
    }
    return path_known ? HTTP_MATCH_BAD_METHOD : HTTP_MATCH_NO_PATH;
}
