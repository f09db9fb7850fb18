/* Names of the event vocabulary (include/attendd/event.h): event kinds and camera roles as text. */
#include "attendd/event.h"

#include <string.h>

const char *event_kind_name(enum event_kind k)
{
    switch (k) {
    case EVENT_KIND_IN: return "in";
    case EVENT_KIND_OUT: return "out";
    default: return "none";
    }
}

const char *camera_role_name(enum camera_role r)
{
    switch (r) {
    case CAMERA_ROLE_IN: return "in";
    case CAMERA_ROLE_OUT: return "out";
    case CAMERA_ROLE_AUTO: return "auto";
    }
    return "?";
}

att_err camera_role_parse(const char *s, enum camera_role *out)
{
    if (strcmp(s, "in") == 0) *out = CAMERA_ROLE_IN;
    else if (strcmp(s, "out") == 0) *out = CAMERA_ROLE_OUT;
    else if (strcmp(s, "auto") == 0) *out = CAMERA_ROLE_AUTO;
    else return ATT_E_INVALID;
    return ATT_OK;
}
