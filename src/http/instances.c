/* GET /api/v1/instances (hr): the attendd instances sharing this database, alive or lately seen, with
 * the cameras each holds and since when (empty without cfg.cluster: nothing registers). */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "attendd/store_instances.h"

static json_t *time_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *instance_json(const struct instance_row *r, const struct lease_row *leases, size_t n)
{
    json_t *cams = json_array();
    for (size_t i = 0; cams && i < n; i++) {
        if (strcmp(leases[i].instance_id, r->id) != 0) continue;
        if (json_array_append_new(cams, json_pack("{s:s, s:s}", "id", leases[i].camera_id, "since", leases[i].since)) !=
            0) {
            json_decref(cams);
            cams = NULL;
        }
    }
    if (!cams) return NULL;
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:o, s:b, s:I, s:I, s:o}", "id", r->id, "name", r->name,
                     "host", r->host, "capacity", r->capacity, "lease_timeout_s", r->lease_s, "started_at",
                     r->started_at, "heartbeat_at", r->heartbeat_at, "stopped_at", time_or_null(r->stopped_at), "alive",
                     r->alive, "leases", (json_int_t)r->leases, "lease_moves", (json_int_t)r->lease_moves, "cameras",
                     cams);
}

att_err http_instances_list(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct instance_row *rows = NULL;
    struct lease_row *leases = NULL;
    size_t n = 0, n_leases = 0;
    if ((e = store_instance_list(c, &rows, &n)) != ATT_OK || (e = store_leases_list(c, &leases, &n_leases)) != ATT_OK) {
        free(rows);
        return http_problem(resp, e, NULL, "the instances could not be listed");
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        json_t *o = instance_json(&rows[i], leases, n_leases);
        if (!o || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(rows);
    free(leases);
    if (!items) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}
