/* Frame difference on a downscaled grey frame: whether a camera's scene moved since its last
 * sampled frame, so that a static scene with nobody in it goes without a detector pass. */
#include <stdlib.h>
#include <string.h>

#include "motion.h"

/* Grey cells of the frame: each cell the mean of 4 pixels of its 8x8 block (rows 2 and 6, columns
 * 2 and 6), green-weighted luma. Reads 1/16 of the pixels. */
static void cells_of(const uint8_t *bgr, int w, int h, size_t stride, uint8_t *out)
{
    static const int off[2] = {2, 6};
    for (int cy = 0; cy < h; cy++)
        for (int cx = 0; cx < w; cx++) {
            unsigned sum = 0;
            for (int j = 0; j < 2; j++) {
                const uint8_t *row = bgr + (size_t)(cy * MOTION_CELL_PX + off[j]) * stride;
                for (int i = 0; i < 2; i++) {
                    const uint8_t *px = row + (size_t)(cx * MOTION_CELL_PX + off[i]) * 3;
                    sum += px[0] + 2u * px[1] + px[2]; /* (B + 2G + R) / 4 per pixel */
                }
            }
            out[cy * w + cx] = (uint8_t)(sum / 16);
        }
}

att_err motion_update(struct motion *m, const uint8_t *bgr, int width, int height, size_t stride, size_t *moved)
{
    *moved = 0;
    if (!bgr || width < MOTION_CELL_PX || height < MOTION_CELL_PX || stride < (size_t)width * 3) return ATT_E_INVALID;
    int w = width / MOTION_CELL_PX, h = height / MOTION_CELL_PX;
    if (w != m->w || h != m->h || !m->prev) {
        uint8_t *a = malloc((size_t)w * (size_t)h), *b = malloc((size_t)w * (size_t)h);
        if (!a || !b) {
            free(a);
            free(b);
            return ATT_E_NOMEM;
        }
        free(m->prev);
        free(m->cur);
        m->prev = a;
        m->cur = b;
        m->w = w;
        m->h = h;
        m->have = false;
    }
    cells_of(bgr, w, h, stride, m->cur);
    size_t n = (size_t)w * (size_t)h, k = 0;
    if (!m->have) {
        k = n; /* nothing to compare with: everything is new */
    } else {
        for (size_t i = 0; i < n; i++) {
            int d = (int)m->cur[i] - (int)m->prev[i];
            k += d > MOTION_CELL_DIFF || d < -MOTION_CELL_DIFF;
        }
    }
    uint8_t *t = m->prev;
    m->prev = m->cur;
    m->cur = t;
    m->have = true;
    *moved = k;
    return ATT_OK;
}

bool motion_skip_detect(struct motion *m, size_t moved, size_t tracks)
{
    if (moved < MOTION_MIN_CELLS && tracks == 0 && m->still_run < MOTION_FULL_EVERY - 1) {
        m->still_run++;
        return true;
    }
    m->still_run = 0;
    return false;
}

void motion_free(struct motion *m)
{
    free(m->prev);
    free(m->cur);
    memset(m, 0, sizeof *m);
}
