/* The alternative to the face over HTTP: PUT /api/v1/people/{id}/pin (admin sets a kiosk PIN) and
 * POST /api/v1/kiosk/punch (a kiosk token punches with an employee number and PIN, or a badge),
 * rate-limited per kiosk token and per employee number or badge. */
#include "http_internal.h"
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/punch.h"
#include "attendd/store_people.h"
#include "attendd/time.h"

/* ---- PUT /api/v1/people/{id}/pin ----------------------------------------------------------------- */

att_err http_pin_body(struct http_response *resp, const char *buf, size_t len, json_t **doc, const char **pin)
{
    *pin = NULL;
    const struct http_field spec[] = {
        {.name = "pin",
         .type = HV_TEXT,
         .required = true,
         .min_len = KIOSK_PIN_MIN,
         .max_len = KIOSK_PIN_MAX,
         .rule = "must be 4 to 12 decimal digits",
         .text = pin},
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK || kiosk_pin_ok(*pin)) return e;
    json_decref(*doc);
    *doc = NULL;
    return http_problem(resp, ATT_E_INVALID, "pin", "'pin' must be 4 to 12 decimal digits");
}

att_err http_people_pin_set(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.pin_set";
    const char *id = http_param(req, "id");
    json_t *body;
    const char *pin;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_pin_body(resp, req->body, req->body_len, &body, &pin);
    if (e != ATT_OK) return http_audit_refusal(req, action, id, e);
    PGconn *c;
    struct person p;
    if ((e = http_person_load(req, resp, action, id, &c, &p)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    e = roster_person_pin_set(&deps, &actor, p.id, pin);
    json_decref(body);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL)
        return http_problem(resp, e, NULL, "the change and its audit row could not be committed; nothing was changed");
    if (e != ATT_OK) {
        http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the PIN could not be set");
        return http_audit_refusal(req, action, id, e);
    }
    log_info("http", "kiosk PIN of person %s set by token %s", p.id, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}

/* ---- POST /api/v1/kiosk/punch ---------------------------------------------------------------------- */

/* Attempts per minute: one limiter per kiosk token, one per employee number or badge (from any
 * kiosk). Made on first use with the limits the daemon was started with. */
static http_rl *per_kiosk, *per_person;
static pthread_mutex_t limiters_lock = PTHREAD_MUTEX_INITIALIZER;

static att_err limiters(const struct att_config *cfg)
{
    pthread_mutex_lock(&limiters_lock);
    att_err e = ATT_OK;
    if (per_kiosk == NULL) e = http_rl_new(cfg->kiosk_attempts_per_min, 60, &per_kiosk);
    if (e == ATT_OK && per_person == NULL) e = http_rl_new(cfg->kiosk_person_attempts_per_min, 60, &per_person);
    pthread_mutex_unlock(&limiters_lock);
    return e;
}

/* One attempt under key (what, text) in rl: false, with *retry_after, when the key is over its limit. */
static bool attempt(http_rl *rl, const char *what, const char *text, int *retry_after)
{
    unsigned char k[HTTP_RL_TOKEN_BYTES];
    crypto_generichash(k, sizeof k, (const unsigned char *)text, strlen(text), (const unsigned char *)what,
                       strlen(what));
    double now = att_time_mono_s();
    if (http_rl_token_locked(rl, k, now, retry_after)) return false;
    (void)http_rl_token_fail(rl, k, now); /* every attempt counts, right or wrong */
    return true;
}

static const char *const kinds[] = {"in", "out", NULL};

att_err http_kiosk_body(struct http_response *resp, const char *buf, size_t len, json_t **doc, struct kiosk_punch *out)
{
    *out = (struct kiosk_punch){0};
    const struct http_field spec[] = {
        {.name = "employee_no",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = PERSON_EMPLOYEE_NO_BUF - 1,
         .max_chars = PERSON_EMPLOYEE_NO_CHARS,
         .text = &out->employee_no},
        {.name = "pin",
         .type = HV_TEXT,
         .min_len = KIOSK_PIN_MIN,
         .max_len = KIOSK_PIN_MAX,
         .rule = "must be 4 to 12 decimal digits",
         .text = &out->pin},
        {.name = "badge_id",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = PERSON_BADGE_CHARS,
         .rule = "must be 1 to 64 printable ASCII characters without spaces",
         .text = &out->badge_id},
        {.name = "kind", .type = HV_ENUM, .required = true, .one_of = kinds, .text = &out->kind},
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK) return e;
    const char *field = NULL, *why = NULL;
    if (out->badge_id && (out->employee_no || out->pin))
        field = "badge_id", why = "'badge_id' or 'employee_no' with 'pin', not both";
    else if (!out->badge_id && !out->employee_no)
        field = "employee_no", why = "'employee_no' with 'pin', or 'badge_id', is required";
    else if (out->employee_no && !out->pin) field = "pin", why = "'pin' is required with 'employee_no'";
    else if (out->pin && !out->employee_no) field = "employee_no", why = "'employee_no' is required with 'pin'";
    else if (out->pin && !kiosk_pin_ok(out->pin)) field = "pin", why = "'pin' must be 4 to 12 decimal digits";
    else if (out->badge_id && !person_badge_ok(out->badge_id))
        field = "badge_id", why = "'badge_id' must be 1 to 64 printable ASCII characters without spaces";
    if (field == NULL) return ATT_OK;
    json_decref(*doc);
    *doc = NULL;
    return http_problem(resp, ATT_E_INVALID, field, "%s", why);
}

att_err http_kiosk_punch(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "kiosk.punch";
    json_t *body;
    struct kiosk_punch kp;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_kiosk_body(resp, req->body, req->body_len, &body, &kp);
    if (e != ATT_OK) {
        (void)http_audit(req, action, "person", NULL, att_err_code(e), NULL);
        return e;
    }
    const struct att_config *cfg = req->deps->cfg;
    if ((e = limiters(cfg)) != ATT_OK) {
        json_decref(body);
        return http_problem(resp, e, NULL, "the kiosk limiter could not be set up");
    }
    int retry = 0;
    const char *who = kp.badge_id ? kp.badge_id : kp.employee_no;
    bool kiosk_ok = attempt(per_kiosk, "kiosk", req->token->id, &retry);
    if (!kiosk_ok || !attempt(per_person, kp.badge_id ? "badge" : "employee", who, &retry)) {
        json_decref(body);
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        http_problem(resp, ATT_E_RATE_LIMIT, NULL, "too many punch attempts %s; retry in %d s",
                     kiosk_ok ? "for this person" : "from this kiosk", retry);
        (void)http_audit(req, action, "person", NULL, att_err_code(ATT_E_RATE_LIMIT),
                         kiosk_ok ? "{\"limit\":\"person\"}" : "{\"limit\":\"kiosk\"}");
        return ATT_E_RATE_LIMIT;
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    struct audit_actor actor = http_actor(req);
    struct kiosk_outcome out;
    kp.kiosk = req->token;
    e = punch_kiosk(c, &actor, &kp, cfg->kiosk_pin_max_failures, &out);
    bool by_badge = kp.badge_id != NULL;
    const char *kind = strcmp(kp.kind, "in") == 0 ? "in" : "out"; /* kp points into the body, freed next */
    json_decref(body);
    if (e == ATT_E_INVALID)
        return http_problem(resp, e, by_badge ? "badge_id" : "pin",
                            by_badge ? "this badge is not accepted" : "the employee number and PIN do not match");
    if (e == ATT_E_CREDENTIAL_LOCKED)
        return http_problem(resp, e, "pin", "this PIN is locked after too many wrong entries: ask an administrator");
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the punch could not be recorded");
    log_info("http", "kiosk punch %s for person %s by token %s", out.event_id, out.person_id, req->token->id);
    return http_json(resp, MHD_HTTP_CREATED,
                     json_pack("{s:s, s:s, s:s, s:s}", "id", out.event_id, "person_id", out.person_id, "kind", kind,
                               "source", "kiosk"));
}
