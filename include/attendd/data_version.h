/* The in-memory data version behind cheap polling (ETag/304) and the SSE feed: a process-wide
 * counter bumped whenever events or report inputs change, plus a random per-boot epoch. */
#ifndef ATTENDD_DATA_VERSION_H
#define ATTENDD_DATA_VERSION_H

#include <stdint.h>
#include <time.h>

/* Bump after COMMITTING any change that alters what GET /api/v1/events or /api/v1/attendance would
 * answer: event inserts (the event writer does it), manual punches and voids, people renamed or
 * erased, shifts, schedules. Any thread, lock-free; also wakes waiting SSE streams at their next
 * poll. Bumping too often only costs clients a 200; forgetting a bump serves stale 304s. */
void app_data_version_bump(void);

/* Current version (0 until the first bump in this process). */
uint64_t app_data_version(void);

/* Wall-clock second of the latest bump (the process start before any bump): Last-Modified. */
time_t app_data_last_modified(void);

/* Random 64-bit value drawn once per process: ETags never repeat across a restart even though the
 * counter starts again at 0. */
uint64_t app_data_epoch(void);

#endif
