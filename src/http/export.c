/* GET /api/v1/people/{id}/export (admin): a subject access request answered in one JSON document,
 * everything attendd holds about the person: the roster data, consent history, template metadata
 * (never a template), every event and punch with its reason, schedules, leave, the person's own roster
 * patterns and overrides, resolved exceptions with their reasons, and the audit rows about the person.
 * The export is audited before it is sent (fail closed), and its own row is in it. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/store_consent.h"
#include "attendd/store_events.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/store_rosters.h"
#include "attendd/store_shifts.h"
#include "attendd/time.h"

static json_t *opt(const char *s) { return s && *s ? json_string(s) : json_null(); }

static att_err audit_row_json(void *ud, const struct audit_row *r)
{
    json_t *detail = r->detail_json ? json_loads(r->detail_json, 0, NULL) : NULL;
    json_t *o =
        json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:o}", "id", (json_int_t)r->id, "ts", r->ts, "token_id",
                  opt(r->token_id), "actor", r->actor, "action", r->action, "target_type", opt(r->target_type),
                  "target_id", opt(r->target_id), "outcome", r->outcome, "detail", detail ? detail : json_null());
    return o && json_array_append_new(ud, o) == 0 ? ATT_OK : ATT_E_NOMEM;
}

/* Append what the store gives for person p to doc; each step's failure is the whole answer's. */
static att_err collect(PGconn *c, const struct person *p, json_t *doc)
{
    struct consent_record *h = NULL;
    size_t n = 0;
    att_err e = store_consent_history(c, p->id, &h, &n);
    if (e != ATT_OK) return e;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a,
                              json_pack("{s:s, s:o, s:o, s:s, s:s}", "state", h[i].state, "text_version",
                                        h[i].text_version > 0 ? json_integer(h[i].text_version) : json_null(),
                                        "token_id", opt(h[i].token_id), "actor", h[i].actor, "recorded_at",
                                        h[i].recorded_at));
    free(h);
    json_object_set_new(doc, "consent",
                        json_pack("{s:s, s:o, s:b, s:o}", "state", p->consent, "since", opt(p->consent_at), "biometric",
                                  p->biometric, "history", a ? a : json_array()));

    struct face_meta *f = NULL;
    if ((e = store_face_list(c, p->id, &f, &n)) != ATT_OK) return e;
    a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *q = json_loads(f[i].quality_json, 0, NULL);
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:s, s:o}", "id", f[i].id, "model_id", f[i].model_id, "created_at",
                                        f[i].created_at, "quality", q ? q : json_object()));
    }
    free(f);
    json_object_set_new(doc, "faces", a ? a : json_array());

    struct event_row *ev = NULL;
    if ((e = store_events_of_person(c, p->id, &ev, &n)) != ATT_OK) return e;
    a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = http_event_json(&ev[i], false);
        /* every source's author and reason: the export hides nothing the database holds */
        if (o && strcmp(ev[i].source, "manual") != 0) {
            json_object_set_new(o, "created_by", opt(ev[i].created_by));
            json_object_set_new(o, "reason", opt(ev[i].reason));
        }
        if (o) json_array_append_new(a, o);
    }
    free(ev);
    json_object_set_new(doc, "events", a ? a : json_array());

    att_uuid u;
    struct schedule_row *s = NULL;
    if (!att_uuid_parse(p->id, &u)) return ATT_E_INTERNAL;
    if ((e = store_schedule_list(c, NULL, &u, &s, &n)) != ATT_OK) return e;
    a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:s, s:o}", "id", s[i].id, "shift_id", s[i].shift_id, "valid_from",
                                        s[i].valid_from, "valid_to", opt(s[i].valid_to)));
    free(s);
    json_object_set_new(doc, "schedules", a ? a : json_array());

    /* leave, patterns, overrides and resolved exceptions, one object keyed by those names */
    json_t *rosters = NULL;
    const char *v[1] = {p->id};
    if ((e = store_json_one(c, "person_export_rosters", 1, v, &rosters)) != ATT_OK) return e;
    if (json_object_update(doc, rosters) != 0) {
        json_decref(rosters);
        return ATT_E_INTERNAL;
    }
    json_decref(rosters);

    a = json_array();
    if (a == NULL) return ATT_E_NOMEM;
    json_object_set_new(doc, "audit", a);
    return store_audit_about_person(c, p->id, audit_row_json, a);
}

att_err http_people_export(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.export";
    const char *id = http_param(req, "id");
    PGconn *c;
    struct person p;
    att_err e = http_person_load(req, resp, action, id, &c, &p);
    if (e != ATT_OK) return e;
    if ((e = http_audit(req, action, "person", p.id, "ok", NULL)) != ATT_OK)
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    char now[64];
    att_time_format(att_time_wall_us(), 0, ATT_TIME_UTC_MS, now, sizeof now);
    json_t *doc = json_pack("{s:s, s:o}", "exported_at", now, "person", http_person_json(&p));
    if (doc == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    if ((e = collect(c, &p, doc)) != ATT_OK) {
        json_decref(doc);
        return http_problem(resp, e, NULL, "the export could not be read");
    }
    log_info("http", "person %s exported by token %s", p.id, req->token->id);
    http_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return http_json(resp, MHD_HTTP_OK, doc);
}
