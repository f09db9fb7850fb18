/* The consent register over HTTP: /api/v1/consent-texts (the versioned texts people agree to) and
 * /api/v1/people/{id}/consent (a person's state and its history; recording a new state). Every call,
 * refused ones included, leaves an audit row. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/store_consent.h"
#include "attendd/store_people.h"

static json_t *text_json(const struct consent_text *t)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s}", "version", t->version, "language", t->language, "text", t->body,
                     "created_at", t->created_at, "created_by", t->created_by);
}

static json_t *text_json_row(const void *row) { return text_json(row); }

/* ---- /api/v1/consent-texts ------------------------------------------------------------------------ */

att_err http_consent_texts_list(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct consent_text *list = NULL;
    size_t n = 0;
    if ((e = store_consent_text_list(c, &list, &n)) != ATT_OK)
        return http_problem(resp, e, NULL, "the consent texts could not be listed");
    e = http_json_items(resp, list, n, sizeof *list, text_json_row);
    free(list);
    return e;
}

att_err http_consent_texts_get(struct http_request *req, struct http_response *resp)
{
    const char *v = http_param(req, "version");
    long long version = 0;
    if (!http_parse_int(v, 1, 1000000000, &version))
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no consent text with this version");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct consent_text *t = NULL;
    if ((e = store_consent_text_get(c, (int)version, &t)) != ATT_OK)
        return http_problem(resp, e, NULL,
                            e == ATT_E_NOT_FOUND ? "no consent text with this version" : "the text could not be read");
    json_t *j = text_json(t);
    free(t);
    return http_json(resp, MHD_HTTP_OK, j);
}

att_err http_consent_text_body(struct http_response *resp, const char *buf, size_t len, json_t **doc,
                               const char **language, const char **text)
{
    *language = *text = NULL;
    const struct http_field spec[] = {
        {.name = "language",
         .type = HV_TEXT,
         .required = true,
         .min_len = 2,
         .max_len = CONSENT_LANG_BUF - 1,
         .rule = "must be a BCP 47 language tag such as \"en\" or \"zh-Hans\"",
         .text = language},
        {.name = "text",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 4 * CONSENT_TEXT_MAX_CHARS,
         .text = text},
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK) return e;
    const char *bad = !consent_language_ok(*language) ? "language" : !consent_body_ok(*text) ? "text" : NULL;
    if (bad == NULL) return ATT_OK;
    json_decref(*doc);
    *doc = NULL;
    if (strcmp(bad, "language") == 0)
        return http_problem(resp, ATT_E_INVALID, bad,
                            "'language' must be a BCP 47 language tag such as \"en\" or \"zh-Hans\"");
    return http_problem(resp, ATT_E_INVALID, bad,
                        "'text' must be 1 to %d characters of UTF-8 text (line breaks allowed, no other control "
                        "characters)",
                        CONSENT_TEXT_MAX_CHARS);
}

att_err http_consent_texts_create(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "consent_text.create";
    json_t *body;
    const char *language, *text;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_consent_text_body(resp, req->body, req->body_len, &body, &language, &text);
    if (e != ATT_OK) {
        (void)http_audit(req, action, "consent_text", NULL, att_err_code(e), NULL);
        return e;
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    struct consent_text *t = NULL;
    e = roster_consent_text_add(&deps, &actor, language, text, &t);
    json_decref(body);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL)
        return http_problem(resp, e, NULL, "the change and its audit row could not be committed; nothing was changed");
    if (e != ATT_OK) {
        http_problem(resp, e, NULL,
                     e == ATT_E_CONFLICT ? "another text was added at the same moment; retry"
                                         : "the consent text could not be stored");
        (void)http_audit(req, action, "consent_text", NULL, att_err_code(e), NULL);
        return e;
    }
    log_info("http", "consent text version %d added by token %s", t->version, req->token->id);
    char location[64];
    snprintf(location, sizeof location, "/api/v1/consent-texts/%d", t->version);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    json_t *j = text_json(t);
    free(t);
    return http_json(resp, MHD_HTTP_CREATED, j);
}

/* ---- /api/v1/people/{id}/consent ------------------------------------------------------------------ */

/* The person's consent as the API shows it: the current state and the whole history. */
static att_err consent_answer(PGconn *c, struct http_response *resp, const struct person *p, unsigned status)
{
    struct consent_record *h = NULL;
    size_t n = 0;
    att_err e = store_consent_history(c, p->id, &h, &n);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the consent history could not be read");
    json_t *hist = json_array();
    int current_version = 0;
    for (size_t i = 0; hist != NULL && i < n; i++) {
        json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s}", "state", h[i].state, "text_version",
                              h[i].text_version > 0 ? json_integer(h[i].text_version) : json_null(), "token_id",
                              h[i].token_id[0] ? json_string(h[i].token_id) : json_null(), "actor", h[i].actor,
                              "recorded_at", h[i].recorded_at);
        if (o == NULL || json_array_append_new(hist, o) != 0) {
            json_decref(hist);
            hist = NULL;
        }
        current_version = h[i].text_version;
    }
    free(h);
    if (hist == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(
        resp, status,
        json_pack("{s:s, s:s, s:o, s:o, s:b, s:o}", "person_id", p->id, "state", p->consent, "since",
                  p->consent_at[0] ? json_string(p->consent_at) : json_null(), "text_version",
                  current_version > 0 && strcmp(p->consent, "none") != 0 ? json_integer(current_version) : json_null(),
                  "biometric", p->biometric, "history", hist));
}

att_err http_consent_get(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "consent.read";
    const char *id = http_param(req, "id");
    PGconn *c;
    struct person p;
    att_err e = http_person_load(req, resp, action, id, &c, &p);
    if (e != ATT_OK) return e;
    if ((e = http_audit(req, action, "person", p.id, "ok", NULL)) != ATT_OK) return http_audit_failed(resp, e);
    return consent_answer(c, resp, &p, MHD_HTTP_OK);
}

static const char *const states[] = {"given", "withdrawn", NULL};

att_err http_consent_body(struct http_response *resp, const char *buf, size_t len, json_t **doc,
                          enum consent_state *state, int *text_version)
{
    int idx = -1;
    long long version = 0;
    const struct http_field spec[] = {
        {.name = "state", .type = HV_ENUM, .required = true, .one_of = states, .index = &idx},
        {.name = "text_version", .type = HV_INT, .min = 1, .max = 1000000000, .integer = &version},
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK) return e;
    *state = idx == 0 ? CONSENT_GIVEN : CONSENT_WITHDRAWN;
    *text_version = (int)version;
    if (*state == CONSENT_GIVEN && version == 0) {
        json_decref(*doc);
        *doc = NULL;
        return http_problem(resp, ATT_E_INVALID, "text_version",
                            "'text_version' is required when consent is given: the version of the text agreed to");
    }
    return ATT_OK;
}

att_err http_consent_record(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    json_t *body;
    enum consent_state state = CONSENT_GIVEN;
    int version = 0;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_consent_body(resp, req->body, req->body_len, &body, &state, &version);
    if (e != ATT_OK) return http_audit_refusal(req, "consent.record", id, e);
    const char *action = state == CONSENT_GIVEN ? "consent.give" : "consent.withdraw";
    /* a withdrawal changes the gallery: it waits, like every gallery write, for the start-up load */
    if (state != CONSENT_GIVEN && (e = http_gallery_ready(req, resp)) != ATT_OK) {
        json_decref(body);
        return http_audit_refusal(req, action, id, e);
    }
    PGconn *c;
    struct person p;
    if ((e = http_person_load(req, resp, action, id, &c, &p)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    size_t faces = 0;
    e = roster_consent_record(&deps, &actor, p.id, state, version, &faces);
    json_decref(body);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL)
        return http_problem(resp, e, NULL, "the change and its audit row could not be committed; nothing was changed");
    if (e != ATT_OK) {
        if (e == ATT_E_CONFLICT) http_problem(resp, ATT_E_INVALID, "text_version", "no consent text with this version");
        else if (e == ATT_E_NOT_FOUND) http_problem(resp, e, NULL, "no person with this id");
        else http_problem(resp, e, NULL, "the consent could not be recorded");
        return http_audit_refusal(req, action, id, e == ATT_E_CONFLICT ? ATT_E_INVALID : e);
    }
    log_info("http", "consent %s for person %s recorded by token %s (%zu templates deleted)", consent_state_name(state),
             p.id, req->token->id, faces);
    char pid[ATT_UUID_STR];
    memcpy(pid, p.id, sizeof pid); /* store_person_get clears its output before it reads the id */
    if ((e = store_person_get(c, pid, &p)) != ATT_OK)
        return http_problem(resp, e, NULL, "the consent was recorded but the person could not be read back");
    return consent_answer(c, resp, &p, MHD_HTTP_OK);
}
