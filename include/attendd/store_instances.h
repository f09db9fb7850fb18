/* Instances sharing one database and their camera leases (tables instances, camera_leases): register
 * and heartbeat, renew, take (FOR UPDATE SKIP LOCKED), release and hand over leases, and the listings
 * behind GET /api/v1/instances and the cameras' holder. Every time is the database's clock. */
#ifndef ATTENDD_STORE_INSTANCES_H
#define ATTENDD_STORE_INSTANCES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

#define INSTANCE_NAME_MAX 201 /* instances_name_len: 200 characters */
#define INSTANCE_HOST_MAX 256 /* instances_host_len */
#define INSTANCE_TIME_MAX 32  /* RFC 3339 UTC */

/* One registered instance. */
struct instance_row {
    char id[ATT_UUID_STR];
    char name[INSTANCE_NAME_MAX];
    char host[INSTANCE_HOST_MAX];
    int capacity;                         /* cameras it may process */
    int lease_s;                          /* its lease time, seconds */
    char started_at[INSTANCE_TIME_MAX];   /* registration of the running process */
    char heartbeat_at[INSTANCE_TIME_MAX]; /* latest heartbeat */
    char stopped_at[INSTANCE_TIME_MAX];   /* graceful stop, "" while running or after a crash */
    bool alive;                           /* heartbeat within its lease time and not stopped */
    int64_t leases;                       /* cameras it holds now */
    int64_t lease_moves;                  /* leases it took over from another instance */
};

/* A camera's lease as the camera listing shows it. */
struct lease_row {
    char camera_id[ATT_UUID_STR];
    char instance_id[ATT_UUID_STR];        /* "" when no instance holds it */
    char instance_name[INSTANCE_NAME_MAX]; /* "" idem */
    char since[INSTANCE_TIME_MAX];         /* when the holder took it, "" idem */
};

/* What a balancing round needs: enabled cameras, and the summed capacity of the live instances. */
struct lease_census {
    int64_t cameras;   /* enabled cameras */
    int64_t capacity;  /* summed capacity of the live instances (this one included) */
    int64_t instances; /* live instances */
};

/* Insert or refresh this instance (a restart keeps its id): heartbeat now, not stopped. */
att_err store_instance_register(PGconn *c, const char *id, const char *name, const char *host, int capacity,
                                int lease_s);
/* Heartbeat; ATT_E_NOT_FOUND when the row is gone (then register again). */
att_err store_instance_heartbeat(PGconn *c, const char *id);
/* Graceful stop: every lease of id is handed back (free at once) and the instance marked stopped;
 * *released receives how many. */
att_err store_instance_stop(PGconn *c, const char *id, size_t *released);
/* Every instance that ran within the last day, or holds a lease, alive ones first. */
att_err store_instance_list(PGconn *c, struct instance_row **out, size_t *n);

/* A lease row for every camera that has none yet. */
att_err store_leases_fill(PGconn *c);
/* Extend id's leases of enabled cameras to now + lease_s, hand back those of disabled cameras; *held
 * (malloc'd, NULL when none) receives the cameras id still holds. */
att_err store_leases_renew(PGconn *c, const char *id, int lease_s, char (**held)[ATT_UUID_STR], size_t *n);
/* Take up to limit free or expired leases of enabled cameras (rows locked by another taker are
 * skipped); *taken as above, *moved counts those another instance held before. */
att_err store_leases_take(PGconn *c, const char *id, int lease_s, int limit, char (**taken)[ATT_UUID_STR], size_t *n,
                          size_t *moved);
/* Hand back id's most recently taken lease (balancing); *camera "" when it held none. */
att_err store_leases_release_one(PGconn *c, const char *id, char camera[ATT_UUID_STR]);
att_err store_leases_census(PGconn *c, struct lease_census *out);
/* Every camera's lease holder (live holders only). */
att_err store_leases_list(PGconn *c, struct lease_row **out, size_t *n);
/* NOTIFY the other instances that leases came free (payload "lease:<id>"). */
att_err store_leases_announce(PGconn *c, const char *id);

#endif
