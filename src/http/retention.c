/* GET /api/v1/retention: the retention policy in force, when it last ran and when it runs next. */
#include "http_internal.h"

#include "attendd/retention.h"
#include "attendd/time.h"

static json_t *time_or_null(int64_t us)
{
    char t[64];
    return us > 0 && att_time_format(us, 0, ATT_TIME_UTC_MS, t, sizeof t) ? json_string(t) : json_null();
}

att_err http_retention_get(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    int64_t last = 0;
    if ((e = retention_last_run(c, &last)) != ATT_OK)
        return http_problem(resp, e, NULL, "the last retention run could not be read");
    struct retention_policy p = retention_policy_of(req->deps->cfg);
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:i, s:i, s:s, s:i, s:i, s:o, s:o}", "templates_inactive_days", p.templates_days,
                               "events_years", p.events_years, "events_action",
                               p.events_years == 0   ? "keep"
                                   : p.events_delete ? "delete"
                                                     : "deidentify",
                               "audit_years", p.audit_years, "hour_utc", p.hour_utc, "last_run", time_or_null(last),
                               "next_run", time_or_null(retention_next_run(att_time_wall_us(), p.hour_utc))));
}
