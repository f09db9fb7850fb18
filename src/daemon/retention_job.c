/* The daily retention run in the daemon: at retention_hour_utc the main loop calls it; it borrows a
 * pooled connection, runs the policy as of now (the gallery forgets destroyed templates) and audits a
 * failure as the system. */
#include "attendd/app.h"
#include "attendd/log.h"
#include "attendd/retention.h"
#include "attendd/time.h"

#include "src/daemon/retention_job.h"

void retention_job_run(struct app *app)
{
    static const struct audit_actor system_actor = {NULL, "system"};
    PGconn *c;
    att_err e = db_acquire(app->db, 5000, &c);
    if (e != ATT_OK) {
        log_error("retention", "the daily run found no database connection: %s; next try tomorrow", att_err_code(e));
        return;
    }
    struct retention_policy p = retention_policy_of(&app->cfg);
    struct retention_counts n;
    e = retention_run(c, atomic_load(&app->gallery_ready) ? app->gallery : NULL, &system_actor, &p, att_time_wall_us(),
                      &n);
    if (e != ATT_OK) {
        log_error("retention", "the daily run failed: %s; nothing was deleted", att_err_code(e));
        struct audit_entry a = {NULL, system_actor.name, "retention.run", NULL, NULL, att_err_code(e), NULL};
        (void)store_audit_insert(c, &a);
    }
    db_release(app->db, c);
}
