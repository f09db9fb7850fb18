/* Retention that runs itself: the policy (from the configuration), the daily schedule, and the run:
 * templates of people inactive past the period destroyed, old events de-identified or deleted, old
 * audit rows pruned, all in one transaction with the run's audit row ("retention.run" with the
 * counts). Called by the daemon once a day and by `attendctl retention run`. */
#ifndef ATTENDD_RETENTION_H
#define ATTENDD_RETENTION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/config.h"
#include "attendd/errors.h"
#include "attendd/gallery.h"
#include "attendd/store_audit.h"

#define RETENTION_AUDIT_MIN_YEARS 1 /* the database never lets audit rows younger than a year go */

struct retention_policy {
    int templates_days; /* templates of a person inactive this long are destroyed */
    int events_years;   /* events older than this are de-identified or deleted; 0 = kept */
    bool events_delete; /* delete them (else de-identify: the person link goes, the row stays) */
    int audit_years;    /* audit rows older than this are pruned */
    int hour_utc;       /* the daily run's hour */
};

/* The policy the configuration sets. */
struct retention_policy retention_policy_of(const struct att_config *cfg);

/* The first run time (µs since the epoch, on the hour hour_utc) strictly after now_us. */
int64_t retention_next_run(int64_t now_us, int hour_utc);

struct retention_counts {
    size_t templates_deleted; /* template rows destroyed */
    size_t people_affected;   /* people whose templates went */
    size_t events;            /* events de-identified or deleted */
    size_t audit_pruned;      /* audit rows pruned */
};

/* Run the policy as of now_us (the wall clock, or a moved one in tests): one transaction holding
 * every deletion and the "retention.run" audit row with the counts and as_of. gallery (may be NULL):
 * the destroyed templates leave it after the commit. ATT_E_INVALID for a policy out of range. */
att_err retention_run(PGconn *c, gal *gallery, const struct audit_actor *a, const struct retention_policy *p,
                      int64_t now_us, struct retention_counts *out);

/* When the last run happened (µs since the epoch; 0 and ATT_OK when never), from its audit row. */
att_err retention_last_run(PGconn *c, int64_t *at_us);

#endif
