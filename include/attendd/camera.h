/* The camera vocabulary: a camera's definition as the database stores it and the camera manager runs
 * it (id, name, source URL, role, analysis rate, region of interest). */
#ifndef ATTENDD_CAMERA_H
#define ATTENDD_CAMERA_H

#include <stdbool.h>
#include <stdint.h>

#include "attendd/event.h"
#include "attendd/uuid.h"

#define CAMERA_NAME_MAX 129
#define CAMERA_URL_MAX 1025

/* A region of interest: only faces inside it are analysed. */
struct camera_roi {
    int x, y, w, h; /* frame pixels, top-left origin; w, h > 0 */
};

struct camera_def {
    char id[ATT_UUID_STR];      /* the camera's uuid (cameras.id) */
    char name[CAMERA_NAME_MAX]; /* unique display name */
    char url[CAMERA_URL_MAX];   /* rtsp://…, absolute file path, or /dev/videoN (may hold credentials) */
    enum camera_role role;      /* in, out or auto */
    double analysis_fps;        /* frames per second analysed */
    bool enabled;               /* capture runs */
    bool has_roi;               /* roi valid */
    struct camera_roi roi;      /* region of interest, frame pixels */
};

/* The analysis a camera gets, as the analysis stage reports it about once a second (GET
 * /api/v1/cameras). */
struct camera_analysis {
    char need[12];      /* "deciding", "new", "visitor", "idle"; "" before the first report */
    double deficit_fps; /* sampled frames per second it lost while it needed them, last 10 s */
    uint64_t deficit;   /* the same, in total: frames the analysis fell short by */
};

#endif
