/* Instances and camera leases in PostgreSQL (include/attendd/store_instances.h): one prepared
 * statement per step, so a lease is only ever taken by one UPDATE that locked its row. */
#include "attendd/store_instances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "src/store/statements.h"

static bool int64_col(const PGresult *r, int row, int col, int64_t *out)
{
    char *end;
    const char *v = PQgetvalue(r, row, col);
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0') return false;
    *out = x;
    return true;
}

att_err store_instance_register(PGconn *c, const char *id, const char *name, const char *host, int capacity,
                                int lease_s)
{
    char cap[16], lease[16];
    snprintf(cap, sizeof cap, "%d", capacity);
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *v[5] = {id, name, host, cap, lease};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "instance_register", 5, v, NULL, NULL, &r, NULL);
    PQclear(r);
    return rc;
}

att_err store_instance_heartbeat(PGconn *c, const char *id)
{
    const char *v[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "instance_heartbeat", 1, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = PQntuples(r) == 1 ? ATT_OK : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_instance_stop(PGconn *c, const char *id, size_t *released)
{
    *released = 0;
    const char *v[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "instance_stop", 1, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int64_t n = 0;
    if (PQntuples(r) == 1 && int64_col(r, 0, 0, &n)) *released = (size_t)n;
    PQclear(r);
    return ATT_OK;
}

static att_err fill_instance(const PGresult *r, int row, void *dst)
{
    struct instance_row *o = dst;
    int64_t cap = 0, lease = 0;
    bool ok = PQnfields(r) == 11 && db_copy_text(o->id, sizeof o->id, PQgetvalue(r, row, 0)) &&
        db_copy_text(o->name, sizeof o->name, PQgetvalue(r, row, 1)) &&
        db_copy_text(o->host, sizeof o->host, PQgetvalue(r, row, 2)) && int64_col(r, row, 3, &cap) &&
        int64_col(r, row, 4, &lease) && db_copy_text(o->started_at, sizeof o->started_at, PQgetvalue(r, row, 5)) &&
        db_copy_text(o->heartbeat_at, sizeof o->heartbeat_at, PQgetvalue(r, row, 6)) &&
        db_copy_text(o->stopped_at, sizeof o->stopped_at, PQgetvalue(r, row, 7)) && int64_col(r, row, 9, &o->leases) &&
        int64_col(r, row, 10, &o->lease_moves);
    if (!ok) {
        log_error("db", "instances row does not fit instance_row");
        return ATT_E_INTERNAL;
    }
    o->capacity = (int)cap;
    o->lease_s = (int)lease;
    o->alive = PQgetvalue(r, row, 8)[0] == 't';
    return ATT_OK;
}

att_err store_instance_list(PGconn *c, struct instance_row **out, size_t *n)
{
    return db_list_rows(c, "instance_list", 0, NULL, sizeof **out, fill_instance, (void **)out, n);
}

att_err store_leases_fill(PGconn *c)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_fill", 0, NULL, NULL, NULL, &r, NULL);
    PQclear(r);
    return rc;
}

/* Column 0 of every row (camera ids) into a malloc'd array; rows whose column `keep` (>= 0) is
 * false are left out. */
static att_err ids_of(const PGresult *r, int keep, char (**ids)[ATT_UUID_STR], size_t *n)
{
    *ids = NULL;
    *n = 0;
    int rows = PQntuples(r);
    if (rows == 0) return ATT_OK;
    char(*v)[ATT_UUID_STR] = calloc((size_t)rows, sizeof *v);
    if (!v) return ATT_E_NOMEM;
    size_t k = 0;
    for (int i = 0; i < rows; i++) {
        if (keep >= 0 && PQgetvalue(r, i, keep)[0] != 't') continue;
        if (!db_copy_text(v[k], sizeof v[k], PQgetvalue(r, i, 0))) {
            free(v);
            return ATT_E_INTERNAL;
        }
        k++;
    }
    *ids = v;
    *n = k;
    return ATT_OK;
}

att_err store_leases_renew(PGconn *c, const char *id, int lease_s, char (**held)[ATT_UUID_STR], size_t *n)
{
    *held = NULL;
    *n = 0;
    char lease[16];
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *v[2] = {id, lease};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_renew", 2, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    rc = ids_of(r, 1, held, n);
    PQclear(r);
    return rc;
}

att_err store_leases_take(PGconn *c, const char *id, int lease_s, int limit, char (**taken)[ATT_UUID_STR], size_t *n,
                          size_t *moved)
{
    *taken = NULL;
    *n = 0;
    *moved = 0;
    if (limit <= 0) return ATT_OK;
    char lease[16], lim[16];
    snprintf(lease, sizeof lease, "%d", lease_s);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *v[3] = {id, lease, lim};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_take", 3, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    for (int i = 0; i < PQntuples(r); i++)
        if (PQgetvalue(r, i, 1)[0] == 't') (*moved)++;
    rc = ids_of(r, -1, taken, n);
    PQclear(r);
    if (rc == ATT_OK && *moved) {
        char m[24];
        snprintf(m, sizeof m, "%zu", *moved);
        const char *mv[2] = {id, m};
        rc = db_exec_prepared(c, "instance_moves", 2, mv, NULL, NULL, &r, NULL);
        PQclear(r);
    }
    return rc;
}

att_err store_leases_release_one(PGconn *c, const char *id, char camera[ATT_UUID_STR])
{
    camera[0] = '\0';
    const char *v[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_release_one", 1, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1 && !db_copy_text(camera, ATT_UUID_STR, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_leases_census(PGconn *c, struct lease_census *out)
{
    memset(out, 0, sizeof *out);
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_census", 0, NULL, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1 || PQnfields(r) != 3 || !int64_col(r, 0, 0, &out->cameras) ||
        !int64_col(r, 0, 1, &out->capacity) || !int64_col(r, 0, 2, &out->instances))
        rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

static att_err fill_lease(const PGresult *r, int row, void *dst)
{
    struct lease_row *o = dst;
    bool ok = PQnfields(r) == 4 && db_copy_text(o->camera_id, sizeof o->camera_id, PQgetvalue(r, row, 0)) &&
        db_copy_text(o->instance_id, sizeof o->instance_id, PQgetvalue(r, row, 1)) &&
        db_copy_text(o->instance_name, sizeof o->instance_name, PQgetvalue(r, row, 2)) &&
        db_copy_text(o->since, sizeof o->since, PQgetvalue(r, row, 3));
    return ok ? ATT_OK : ATT_E_INTERNAL;
}

att_err store_leases_list(PGconn *c, struct lease_row **out, size_t *n)
{
    return db_list_rows(c, "lease_list", 0, NULL, sizeof **out, fill_lease, (void **)out, n);
}

att_err store_leases_announce(PGconn *c, const char *id)
{
    const char *v[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "lease_announce", 1, v, NULL, NULL, &r, NULL);
    PQclear(r);
    return rc;
}
