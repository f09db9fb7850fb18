/* Identification of a photo: every face found, embedded and matched against the gallery (fr_feature
 * ranks, the fused score of both models decides), with the people behind the matches read from the
 * roster. Nothing is stored. */
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attendd/fuse.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/uuid.h"

/* Fail with e and a reason in out->detail. */
#define FAIL(out, e, ...) att_fail((e), (out)->detail, sizeof(out)->detail, __VA_ARGS__)

static bool is_image_error(av_status s)
{
    return s == AV_E_IMG_EMPTY || s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT || s == AV_E_IMG_TOO_LARGE ||
        s == AV_E_IMG_NOT_IMAGE || s == AV_E_IMG_UNSUPPORTED;
}

/* People the fused score re-ranks per face: fr_feature's best few. */
#define IDENT_CANDIDATES 5

/* The probes of one photo (sodium_malloc'ed: probes are biometric data too). */
struct probes {
    float emb[PHOTO_MAX_FACES][AV_EMBED_DIM];                 /* fr_feature templates */
    float confirm[PHOTO_MAX_FACES][AV_CONFIRM_DIM];           /* confirming templates (where has_confirm) */
    bool has_confirm[PHOTO_MAX_FACES];                        /* computed for this face */
    struct gal_match cand[PHOTO_MAX_FACES][IDENT_CANDIDATES]; /* fr_feature's best people, best first */
    size_t n_cand[PHOTO_MAX_FACES];
};

/* fr_feature's similarity as a z-score of its impostor distribution (the fused score's units). */
static double fr_z(double s) { return (s - (double)AV_FUSE_FR_MEAN) / (double)AV_FUSE_FR_SD; }

double roster_fused_threshold(double match_threshold)
{
    return (double)AV_FUSED_THRESHOLD * fr_z(match_threshold) / fr_z((double)AV_DEFAULT_THRESHOLD);
}

bool roster_identifies(const struct gal_fused *f, double match_threshold, float *key)
{
    if (f->confirmed) {
        *key = f->fused;
        return (double)f->fused >= roster_fused_threshold(match_threshold);
    }
    *key = (f->similarity - AV_FUSE_FR_MEAN) / AV_FUSE_FR_SD;
    return (double)f->similarity >= match_threshold;
}

/* The lowest fr_feature similarity that can still reach the fused threshold (with a perfect
 * confirming score): below it and below the fr threshold, no candidate can match and the confirming
 * embedding (about 0.2 CPU-s) is not worth computing. */
static float fr_floor(double match_threshold)
{
    double zc_max = (1.0 - (double)AV_FUSE_CONFIRM_MEAN) / (double)AV_FUSE_CONFIRM_SD;
    double f =
        (double)AV_FUSE_FR_MEAN + (double)AV_FUSE_FR_SD * (2.0 * roster_fused_threshold(match_threshold) - zc_max);
    return (float)(f < match_threshold ? f : match_threshold);
}

/* Decode, find, embed (one batch), judge liveness, rank each face's candidates by fr_feature and
 * compute the confirming template of faces that have a candidate worth confirming. */
static att_err analyse(const struct roster_deps *d, av_pipeline *p, av_confirm_net *cn, const void *buf, size_t len,
                       struct roster_identification *out, struct probes **probes)
{
    av_err ae;
    av_image *img = NULL;
    av_status s = av_image_decode(buf, len, d->max_image_pixels, &img, &ae);
    if (s != AV_OK) {
        if (is_image_error(s)) return FAIL(out, ATT_E_BAD_IMAGE, "%s: %s", av_status_name(s), ae.msg);
        return FAIL(out, s == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL, "the photo could not be analysed");
    }
    out->width = av_image_width(img);
    out->height = av_image_height(img);
    /* faces of 40 px and more (the embedding is poor below this anyway), no finer than 1/16 of the
     * short side (finer tiles report parts of large faces as faces, docs/vision.md), at most 24
     * detector runs per request (~5 ms each) whatever the photo size */
    static const struct photo_search search = {.floor_px = 40, .div = 16, .max_passes = 24};
    av_face faces[PHOTO_MAX_FACES];
    float live[PHOTO_MAX_FACES];
    size_t n = 0, k = 0;
    att_err rc = ATT_OK;
    if ((s = photo_find_faces(p, img, &search, faces, &n, NULL, &ae)) != AV_OK) goto vision_failed;
    for (size_t i = 0; i < n; i++) /* faces without landmarks cannot be aligned: leave them out */
        if (faces[i].has_landmarks) faces[k++] = faces[i];
    if (k == 0) goto done;
    /* the photo's subject (photo_choose) answers first; the others keep their order */
    size_t subj = photo_choose(faces, k, out->width, out->height);
    if (subj < k && subj > 0) {
        av_face f = faces[subj];
        memmove(&faces[1], &faces[0], subj * sizeof faces[0]);
        faces[0] = f;
    }
    struct probes *pr = *probes = sodium_malloc(sizeof **probes);
    if (pr == NULL) {
        rc = FAIL(out, ATT_E_NOMEM, "out of memory");
        goto done;
    }
    memset(pr, 0, sizeof *pr);
    if ((s = photo_embed(p, img, faces, k, pr->emb[0], &ae)) != AV_OK ||
        (s = av_liveness(p, img, faces, k, live, &ae)) != AV_OK)
        goto vision_failed;
    for (size_t i = 0; i < k; i++) {
        att_err e = gal_topk(d->gallery, pr->emb[i], IDENT_CANDIDATES, pr->cand[i], &pr->n_cand[i]);
        if (e != ATT_OK) {
            rc = FAIL(out, e, "the faces could not be looked up");
            goto done;
        }
        if (cn && pr->n_cand[i] > 0 && pr->cand[i][0].similarity >= fr_floor(d->match_threshold)) {
            if ((s = photo_confirm(cn, img, &faces[i], pr->confirm[i], &ae)) != AV_OK) goto vision_failed;
            pr->has_confirm[i] = true;
        }
    }
    out->n = k;
    for (size_t i = 0; i < k; i++) out->faces[i] = (struct roster_face_match){.box = faces[i].box, .liveness = live[i]};
    goto done;
vision_failed:
    log_error("roster", "identify: %s: %s", av_status_name(s), ae.msg);
    rc = FAIL(out, s == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL, "the photo could not be analysed");
done:
    av_image_free(img);
    return rc;
}

/* Face i's match among its fr_feature candidates: each is judged by the fused score of its best fr
 * similarity and its best confirming similarity when both the person and the probe have a confirming
 * template (accepted at roster_fused_threshold), else by fr_feature alone (at the fr threshold).
 * Accepted candidates are ranked by the fused score, or fr_feature's z-score for one judged alone. */
static att_err match(const struct roster_deps *d, const struct probes *pr, size_t i, struct roster_face_match *f)
{
    const struct gal_match *best = NULL;
    float best_key = -INFINITY, best_c = NAN, best_fused = NAN;
    for (size_t j = 0; j < pr->n_cand[i]; j++) {
        const struct gal_match *m = &pr->cand[i][j];
        char pid[ATT_UUID_STR];
        att_uuid_format(&m->person, pid);
        const struct gal_face_probe q = {.fr_similarity = m->similarity,
                                         .confirm = pr->has_confirm[i] ? pr->confirm[i] : NULL};
        struct gal_fused fs;
        att_err e = gal_person_fused(d->gallery, pid, &q, &fs);
        if (e == ATT_E_NOT_FOUND) continue; /* removed meanwhile */
        if (e != ATT_OK) return e;
        float key;
        if (roster_identifies(&fs, d->match_threshold, &key) && key > best_key) {
            best = m;
            best_key = key;
            best_c = fs.confirmed ? fs.confirm_similarity : NAN;
            best_fused = fs.confirmed ? fs.fused : NAN;
        }
    }
    /* below the thresholds nothing of the search leaves: a score would let a caller tune an image
     * towards someone's face, one query at a time */
    if (best == NULL) return ATT_OK;
    char person_id[ATT_UUID_STR];
    att_uuid_format(&best->person, person_id);
    att_err e = store_person_get(d->db, person_id, &f->person);
    if (e == ATT_E_NOT_FOUND) return ATT_OK; /* erased meanwhile: simply no match */
    if (e != ATT_OK) return e;
    if (!f->person.active) {
        memset(&f->person, 0, sizeof f->person);
        return ATT_OK;
    }
    f->matched = true;
    f->similarity = best->similarity;
    f->confirmed = !isnan(best_fused);
    f->confirm_similarity = f->confirmed ? best_c : 0;
    f->fused = f->confirmed ? best_fused : 0;
    return ATT_OK;
}

att_err roster_identify(const struct roster_deps *d, const void *photo, size_t len, struct roster_identification *out)
{
    memset(out, 0, sizeof *out);
    if (d->vision == NULL) return FAIL(out, ATT_E_NOT_READY, "the face models are not loaded");
    av_pipeline *vp;
    att_err e = vpool_acquire(d->vision, d->vision_wait_ms, &vp);
    if (e == ATT_E_UNAVAILABLE)
        return FAIL(out, e, "no face pipeline became free within %d ms; retry later", d->vision_wait_ms);
    if (e != ATT_OK) return FAIL(out, e, "no face pipeline could be borrowed");
    struct probes *pr = NULL;
    e = analyse(d, vp, vpool_confirm(d->vision, vp), photo, len, out, &pr);
    vpool_release(d->vision, vp);
    for (size_t i = 0; e == ATT_OK && i < out->n; i++)
        if ((e = match(d, pr, i, &out->faces[i])) != ATT_OK) FAIL(out, e, "the faces could not be looked up");
    if (pr != NULL) sodium_free(pr);
    return e;
}
