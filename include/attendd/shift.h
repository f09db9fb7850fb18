/* The shift vocabulary: a shift's hours and a punch, as the schedule store reads them and the report
 * engine (attendd/report.h) evaluates them. */
#ifndef ATTENDD_SHIFT_H
#define ATTENDD_SHIFT_H

#include <stdint.h>

#include "attendd/event.h"

struct report_shift {
    int start_min;       /* local minutes after midnight, 0..1439 */
    int end_min;         /* 0..1439; end <= start: the shift ends the next calendar day (overnight) */
    int grace_late_min;  /* arriving up to this many minutes after start is not late */
    int grace_early_min; /* leaving up to this many minutes before end is not early */
    int break_min;       /* deducted once from the worked time */
};

struct report_punch {
    int64_t ts_us;        /* µs since the epoch (UTC) */
    enum event_kind kind; /* EVENT_KIND_IN or EVENT_KIND_OUT */
};

#endif
