/* Several instances on one database: this instance registers and heartbeats, takes its share of the
 * camera leases (by capacity) and keeps them renewed, hands them back at a graceful stop, and hears
 * the change feed (LISTEN attendd_sync) so that what another instance changed applies here at once.
 * One thread with its own connection; the daemon reacts through hooks. */
#ifndef ATTENDD_CLUSTER_H
#define ATTENDD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/metrics.h"
#include "attendd/uuid.h"

/* Called on the cluster thread; each may be NULL. ids are canonical uuid text. */
struct cluster_hooks {
    void (*leases)(void *ud);                 /* the set of cameras this instance holds changed */
    void (*person)(void *ud, const char *id); /* a person or their faces changed (enrol, erase, deactivate) */
    void (*camera)(void *ud, const char *id); /* a camera definition was created, changed or deleted */
    void (*token)(void *ud, const char *id);  /* a token was revoked */
    void (*resync)(void *ud);                 /* (re)connected: changes made meanwhile were not heard */
    void *ud;
};

struct cluster_cfg {
    const char *conninfo; /* libpq conninfo (multi-host allowed) */
    const char *name;     /* shown by GET /api/v1/instances */
    const char *host;     /* host name */
    int capacity;         /* cameras this instance may process */
    int lease_s;          /* a lease not renewed for this long is free for another instance */
    const char *id_path;  /* file keeping this instance's id across restarts (created 0600) */
    metrics *metrics;     /* attendd_instance_* and attendd_sync_* series (may be NULL) */
    struct cluster_hooks hooks;
};

typedef struct cluster cluster;

/* Reads (or creates) the id; connects nothing yet. */
att_err cluster_new(const struct cluster_cfg *cfg, cluster **out, char *err, size_t errlen);
/* Start the thread: register, take leases, listen. */
att_err cluster_start(cluster *cl);
/* Stop the thread: no hook runs after it returns; the leases stay held (until they expire). */
void cluster_quiesce(cluster *cl);
/* Graceful stop, once this instance's cameras are stopped: quiesce, hand every lease back at once
 * (announced, so the others take them without waiting for expiry), mark the instance stopped. */
void cluster_leave(cluster *cl);
/* Quiesces (leases expire by themselves unless cluster_leave ran) and frees. NULL ok. */
void cluster_free(cluster *cl);

/* Whether this instance holds camera id's lease (any thread). */
bool cluster_holds(cluster *cl, const char *camera_id);
/* Number of leases held. */
size_t cluster_held(cluster *cl);
/* This instance's id. */
void cluster_id(const cluster *cl, char out[ATT_UUID_STR]);

#endif
