/* Need-to-know: a token limited to departments sees and edits only people of those departments, and
 * whatever names them; a person outside is answered 404 like one that does not exist (no existence
 * oracle). Only routes that apply the limit are open to such a token: the others refuse it (403),
 * so a route added later cannot leak by forgetting it. */
#include "http_internal.h"

#include <string.h>

#include "attendd/store_people.h"

bool http_route_scoped_ok(const struct http_route *r)
{
    static const http_handler aware[] = {
        http_whoami_get,    http_people_list,    http_people_get,    http_people_update,      http_people_erase,
        http_faces_list,    http_faces_enrol,    http_faces_delete,  http_consent_get,        http_consent_record,
        http_events_list,   http_people_pin_set, http_people_export, http_consent_texts_list, http_consent_texts_get,
        http_retention_get, http_kiosk_punch,
    };
    for (size_t i = 0; i < sizeof aware / sizeof aware[0]; i++)
        if (r->handler == aware[i]) return true;
    return false;
}

att_err http_person_visible(struct http_request *req, PGconn *c, const char *id, struct person *out)
{
    att_err e = store_person_get(c, id, out);
    if (e != ATT_OK) return e;
    if (req->token && !token_sees_department(req->token, out->department)) {
        memset(out, 0, sizeof *out);
        return ATT_E_NOT_FOUND; /* outside the token's departments: as if there were no such person */
    }
    return ATT_OK;
}

att_err http_person_check(struct http_request *req, struct http_response *resp, const char *action, const char *id)
{
    if (req->token == NULL || req->token->n_departments == 0) return ATT_OK;
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct person p;
    if ((e = http_person_visible(req, c, id, &p)) == ATT_OK) return ATT_OK;
    http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the person could not be read");
    return http_audit_refusal(req, action, id, e);
}
