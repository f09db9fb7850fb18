/* Time zones (src/util/tz.c): thread-safe UTC <-> local time for one IANA zone, from its TZif file. */
#ifndef ATTENDD_TZ_H
#define ATTENDD_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "attendd/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATT_TZ_TEXT 32 /* "2026-03-29T07:58:00+02:00" + NUL, with room */

typedef struct att_tz att_tz; /* immutable once loaded: share freely between threads */

/* Load zone name ("Europe/Berlin", "UTC") from dir (NULL: $TZDIR or /usr/share/zoneinfo). Names with
 * "..", a leading '/' or characters outside [A-Za-z0-9/_+-] are refused (ATT_E_INVALID); a missing or
 * malformed file gives ATT_E_NOT_FOUND / ATT_E_INVALID ("UTC" and "Etc/UTC" work without the files).
 * *out: free with att_tz_free. */
att_err att_tz_load(const char *name, const char *dir, att_tz **out);
void att_tz_free(att_tz *tz);
/* UTC offset in seconds (east positive) in force at instant utc_s (seconds since the epoch). */
int32_t att_tz_offset(const att_tz *tz, int64_t utc_s);
/* The instant of local wall time local_s (seconds since the epoch as if the wall clock were UTC).
 * A time skipped by a spring-forward gap is read with the offset before the gap (02:30 -> 03:30 CEST);
 * a repeated autumn time is its first occurrence. */
int64_t att_tz_to_utc(const att_tz *tz, int64_t local_s);
/* RFC 3339 with the zone's offset, to the second: "2026-03-29T07:58:00+02:00" ("" outside years
 * 1..9999). */
void att_tz_format(const att_tz *tz, int64_t utc_us, char out[ATT_TZ_TEXT]);

#ifdef __cplusplus
}
#endif

#endif
