/* The daemon's daily retention run (src/daemon/retention_job.c). */
#ifndef ATTENDD_DAEMON_RETENTION_JOB_H
#define ATTENDD_DAEMON_RETENTION_JOB_H

#include "attendd/app.h"

/* Run the retention policy now (the daemon's main loop calls it at retention_hour_utc). */
void retention_job_run(struct app *app);

#endif
