/* From a still photo to faces and templates, one way for enrolment, identification and attendctl:
 * the search rule, detection with nested detections merged, and alignment plus embedding.
 *
 * The search rule: the smallest face looked for is the larger of floor_px and the photo's short side
 * divided by div; while the detector's plan for that size needs more than max_passes runs, the size
 * grows by half plus one pixel. Finer tiles than a photo needs report parts of large faces (eyes and
 * nose, chin) as faces of their own, and a large photo would otherwise need more detector runs than a
 * request may spend; a face that small relative to the photo is not usable anyway. */
#ifndef ATTENDD_PHOTO_H
#define ATTENDD_PHOTO_H

#include <stddef.h>

#include "attendd/fuse.h"
#include "attendd/vision.h"

/* Detections considered per photo (the largest). */
#define PHOTO_MAX_FACES 32
/* Overlap, as a fraction of the smaller box, above which two detections are one face. */
#define PHOTO_NESTED_FRACTION 0.5f

/* The search rule's three numbers for one use (see above). */
struct photo_search {
    int floor_px;   /* smallest face looked for, px */
    int div;        /* ... and none smaller than the short side / div (0: no such bound) */
    int max_passes; /* detector runs allowed */
};

/* The search behind av_face_template and `attendctl embed|compare`: faces of 40 px and at least 1/16
 * of the short side, at most 64 detector runs. */
extern const struct photo_search photo_search_template;

/* Detection options for a w x h photo under s (defaults otherwise, landmarks on). */
void photo_detect_opts(const struct photo_search *s, int w, int h, av_detect_opts *o);

/* Merge detections of one face: a box overlapping a higher-scoring one by PHOTO_NESTED_FRACTION of
 * the smaller box's area is dropped. The tiled detector reports regions of a large face (eyes and
 * nose, mouth and chin) as faces of their own, which IoU-based suppression keeps because the boxes
 * differ in size; two people's faces do not overlap like that. Comparing scores (not sizes) keeps
 * the real face when a weak, larger box half-covers it. faces: sorted largest first, as av_detect
 * returns them; the order is kept. Looks at the first PHOTO_MAX_FACES only. Returns the new count. */
size_t photo_drop_nested(av_face *faces, size_t n);

/* Faces of img under s, nested detections merged, largest first: up to PHOTO_MAX_FACES into
 * faces[], their number in *n. *min_face_px (may be NULL): the smallest face the search looked for. */
av_status photo_find_faces(av_pipeline *p, const av_image *img, const struct photo_search *s,
                           av_face faces[PHOTO_MAX_FACES], size_t *n, int *min_face_px, av_err *err);

/* Templates of n faces that have landmarks: each aligned, all embedded in one batch into
 * emb[n * AV_EMBED_DIM]. */
av_status photo_embed(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, float *emb, av_err *err);

/* A face with landmarks, a detector score of at least PHOTO_USABLE_SCORE and at least
 * PHOTO_USABLE_FRACTION of the tallest such face's height is as usable as the tallest; among usable
 * faces the one nearest the image centre is the subject. The score bound keeps a weak detection
 * of a chin or a collar under a large face (faces/img11.jpg: 0.91) from being chosen. */
#define PHOTO_USABLE_FRACTION 0.5f
#define PHOTO_USABLE_SCORE 0.95f

/* The subject of a w x h photo among faces[0..n) (largest first): of the usable faces (above), the
 * one whose box centre is nearest the image centre (a photo is framed on its subject; a bystander
 * nearer the lens is larger). Ties keep the larger face. With no usable face, the largest face with
 * landmarks; n when no face has landmarks. */
size_t photo_choose(const av_face *faces, size_t n, int w, int h);

/* The template of img's subject (photo_choose) under s; face_out (may be NULL) receives its face.
 * AV_E_NO_FACE when no face has landmarks. */
av_status photo_template(av_pipeline *p, const av_image *img, const struct photo_search *s, float emb[AV_EMBED_DIM],
                         av_face *face_out, av_err *err);

/* The confirming models' load flags the shipped alignment (AV_CONFIRM_ALIGN_SHIPPED) needs. */
#define PHOTO_CONFIRM_LOAD_FLAGS (AV_CONFIRM_ALIGN_SHIPPED == AV_CONFIRM_ALIGN_SP5 ? (unsigned)AV_CONFIRM_LOAD_SP5 : 0u)

/* The confirming embedding of face (one photo_find_faces returned, with landmarks) under the shipped
 * alignment: the one way enrolment, identification and `attendctl compare` compute it. */
av_status photo_confirm(av_confirm_net *n, const av_image *img, const av_face *face, float out[AV_CONFIRM_DIM],
                        av_err *err);

#endif
