/* Motion on a camera's sampled frames: a cheap difference of downscaled grey frames that tells a
 * static scene (nothing to detect that was not there before) from one where something moved.
 * Internal to src/analysis (and its tests). */
#ifndef ATTENDD_MOTION_H
#define ATTENDD_MOTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#define MOTION_CELL_PX 8     /* one cell of the grey frame: the mean of an 8x8 block (4 of its pixels read) */
#define MOTION_CELL_DIFF 12  /* grey levels a cell must change by to count as moved (codec noise stays under) */
#define MOTION_MIN_CELLS 6   /* cells that must move for the scene to count as moving: a 48 px object */
#define MOTION_FULL_EVERY 10 /* a static scene still gets a full detection every this many checked frames */

struct motion {
    uint8_t *prev; /* the last frame's cells (w x h), grey */
    uint8_t *cur;  /* scratch for the current frame's cells, swapped with prev */
    int w, h;      /* cells across and down */
    bool have;     /* prev holds a frame */
    int still_run; /* static frames in a row not detected since the last full detection */
};

/* Cells of the frame (bgr, width x height, stride bytes a row) that changed since the last frame
 * given: *moved; the frame becomes the reference. The first frame, or one of another size, counts
 * as all moved. ATT_E_NOMEM, ATT_E_INVALID (a frame smaller than one cell). */
att_err motion_update(struct motion *m, const uint8_t *bgr, int width, int height, size_t stride, size_t *moved);

/* Whether a frame that moved `moved` cells can go without detection: the scene is static, nobody is
 * tracked (tracks = 0) and a full detection ran within MOTION_FULL_EVERY frames. Counts the run. */
bool motion_skip_detect(struct motion *m, size_t moved, size_t tracks);

void motion_free(struct motion *m);

#endif
