/* Still photos to faces and templates (include/attendd/photo.h): the one search rule, detection with
 * nested detections merged, and alignment plus batched embedding. */
#include "attendd/photo.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>

const struct photo_search photo_search_template = {.floor_px = 40, .div = 16, .max_passes = 64};

void photo_detect_opts(const struct photo_search *s, int w, int h, av_detect_opts *o)
{
    av_detect_opts_init(o);
    o->max_passes = s->max_passes;
    int shortest = w < h ? w : h, px = s->floor_px;
    if (s->div > 0 && shortest / s->div > px) px = shortest / s->div;
    o->min_face_px = px;
    while (av_detect_plan(w, h, o) > o->max_passes) o->min_face_px += o->min_face_px / 2 + 1;
}

static float box_area(const av_box *b)
{
    float w = b->x2 - b->x1, h = b->y2 - b->y1;
    return w > 0.f && h > 0.f ? w * h : 0.f;
}

static float overlap(const av_box *a, const av_box *b)
{
    float iw = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
    float ih = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
    return iw > 0.f && ih > 0.f ? iw * ih : 0.f;
}

size_t photo_drop_nested(av_face *faces, size_t n)
{
    if (n > PHOTO_MAX_FACES) n = PHOTO_MAX_FACES;
    bool keep[PHOTO_MAX_FACES], done[PHOTO_MAX_FACES];
    for (size_t i = 0; i < n; i++) keep[i] = true, done[i] = false;
    /* greedy, strongest first: each kept face takes out the weaker boxes that mostly overlap it */
    for (;;) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (keep[i] && !done[i] && (best == n || faces[i].score > faces[best].score)) best = i;
        if (best == n) break;
        done[best] = true;
        float a = box_area(&faces[best].box);
        for (size_t j = 0; j < n; j++) {
            if (!keep[j] || done[j]) continue;
            float b = box_area(&faces[j].box), smaller = a < b ? a : b;
            if (smaller > 0.f && overlap(&faces[best].box, &faces[j].box) >= PHOTO_NESTED_FRACTION * smaller)
                keep[j] = false;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) faces[kept++] = faces[i];
    return kept;
}

av_status photo_find_faces(av_pipeline *p, const av_image *img, const struct photo_search *s,
                           av_face faces[PHOTO_MAX_FACES], size_t *n, int *min_face_px, av_err *err)
{
    *n = 0;
    av_detect_opts o;
    photo_detect_opts(s, av_image_width(img), av_image_height(img), &o);
    if (min_face_px) *min_face_px = o.min_face_px;
    size_t found = 0;
    av_status st = av_detect(p, img, NULL, &o, faces, PHOTO_MAX_FACES, &found, err);
    if (st != AV_OK) return st;
    /* found counts every face, faces[] holds at most PHOTO_MAX_FACES of them (the largest) */
    *n = photo_drop_nested(faces, found < PHOTO_MAX_FACES ? found : PHOTO_MAX_FACES);
    return AV_OK;
}

av_status photo_embed(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, float *emb, av_err *err)
{
    if (n == 0) return AV_OK;
    av_crop *crops = sodium_malloc(n * sizeof *crops); /* aligned faces are biometric data too */
    if (crops == NULL) {
        if (err) {
            err->code = AV_E_NOMEM;
            snprintf(err->msg, sizeof err->msg, "photo_embed: out of memory");
        }
        return AV_E_NOMEM;
    }
    av_status st = AV_OK;
    for (size_t i = 0; i < n && st == AV_OK; i++) st = av_align(img, &faces[i], &crops[i], err);
    if (st == AV_OK) st = av_embed(p, crops, n, emb, err);
    sodium_free(crops);
    return st;
}

size_t photo_choose(const av_face *faces, size_t n, int w, int h)
{
    float tallest = 0.f;
    size_t first = n; /* the largest face with landmarks, when none is usable */
    for (size_t i = 0; i < n; i++) {
        if (!faces[i].has_landmarks) continue;
        if (first == n) first = i;
        if (faces[i].score >= PHOTO_USABLE_SCORE && faces[i].box.y2 - faces[i].box.y1 > tallest)
            tallest = faces[i].box.y2 - faces[i].box.y1;
    }
    size_t best = n;
    float best_d = 0.f, cx = 0.5f * (float)w, cy = 0.5f * (float)h;
    for (size_t i = 0; tallest > 0.f && i < n; i++) {
        const av_box *b = &faces[i].box;
        if (!faces[i].has_landmarks || faces[i].score < PHOTO_USABLE_SCORE ||
            b->y2 - b->y1 < PHOTO_USABLE_FRACTION * tallest)
            continue;
        float dx = 0.5f * (b->x1 + b->x2) - cx, dy = 0.5f * (b->y1 + b->y2) - cy, d = dx * dx + dy * dy;
        if (best == n || d < best_d) best = i, best_d = d; /* strict: on a tie the earlier, larger face stays */
    }
    return best < n ? best : first;
}

av_status photo_template(av_pipeline *p, const av_image *img, const struct photo_search *s, float emb[AV_EMBED_DIM],
                         av_face *face_out, av_err *err)
{
    av_face faces[PHOTO_MAX_FACES];
    size_t n;
    int min_px;
    av_status st = photo_find_faces(p, img, s, faces, &n, &min_px, err);
    if (st != AV_OK) return st;
    size_t i = photo_choose(faces, n, av_image_width(img), av_image_height(img));
    if (i == n) {
        if (err) {
            err->code = AV_E_NO_FACE;
            snprintf(err->msg, sizeof err->msg, "no face of %d px or more found", min_px);
        }
        return AV_E_NO_FACE;
    }
    if ((st = photo_embed(p, img, &faces[i], 1, emb, err)) != AV_OK) return st;
    if (face_out) *face_out = faces[i];
    return AV_OK;
}

av_status av_face_template(av_pipeline *p, const av_image *img, float emb[AV_EMBED_DIM], av_face *face_out, av_err *err)
{
    if (!p || !img || !emb) {
        if (err) {
            err->code = AV_E_ARG;
            snprintf(err->msg, sizeof err->msg, "av_face_template: pipeline, image and emb are required");
        }
        return AV_E_ARG;
    }
    return photo_template(p, img, &photo_search_template, emb, face_out, err);
}

av_status photo_confirm(av_confirm_net *n, const av_image *img, const av_face *face, float out[AV_CONFIRM_DIM],
                        av_err *err)
{
    return av_confirm_embed(n, img, face, AV_CONFIRM_ALIGN_SHIPPED, out, err);
}
