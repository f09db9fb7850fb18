/* The event vocabulary shared by every stage: the kind of an attendance event, the role of the camera
 * that saw it, and the one event type carried from the rules' decision through the journal to its row. */
#ifndef ATTENDD_EVENT_H
#define ATTENDD_EVENT_H

#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

#define EVENT_SOURCE_MAX 32 /* "camera", "manual", ... incl. NUL */

/* What a camera counts: `in` and `out` punch that kind; `auto` toggles on the open shift. */
enum camera_role { CAMERA_ROLE_IN = 0, CAMERA_ROLE_OUT = 1, CAMERA_ROLE_AUTO = 2 };

/* Kind of an attendance event. 0 is "none" so a zeroed struct holds no punch. */
enum event_kind { EVENT_KIND_NONE = 0, EVENT_KIND_IN = 1, EVENT_KIND_OUT = 2 };

/* One attendance event, from the rules' decision to its row in the events table. */
struct att_event {
    att_uuid id;                   /* made by event_emit: the database's idempotency key */
    att_uuid person;               /* recognised person */
    att_uuid camera;               /* camera that saw the deciding frame */
    enum event_kind kind;          /* EVENT_KIND_IN or EVENT_KIND_OUT */
    int64_t ts_us;                 /* capture time of the deciding frame, µs since the epoch UTC */
    float similarity;              /* gallery cosine similarity, -1..1 */
    float liveness;                /* probability of a live face, 0..1 */
    char source[EVENT_SOURCE_MAX]; /* [a-z0-9_-]{1,31}: "camera" for the pipeline's events */
};

const char *event_kind_name(enum event_kind k);   /* "in", "out", "none" */
const char *camera_role_name(enum camera_role r); /* "in", "out", "auto"; "?" for no role */
/* "in" / "out" / "auto"; ATT_E_INVALID otherwise. */
att_err camera_role_parse(const char *s, enum camera_role *out);

#endif
