/* Identification of a photo: every face found, embedded and matched against the gallery, with the
 * people behind the matches read from the roster. Nothing is stored. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Decode, find, embed (one batch) and judge liveness; the faces' templates into emb (n x
 * AV_EMBED_DIM, sodium_malloc'ed: probes are biometric data too). */
static att_err analyse(const struct roster_deps *d, av_pipeline *p, const void *buf, size_t len,
                       struct roster_identification *out, float **emb)
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
    if ((*emb = sodium_malloc(k * AV_EMBED_DIM * sizeof **emb)) == NULL) {
        rc = FAIL(out, ATT_E_NOMEM, "out of memory");
        goto done;
    }
    if ((s = photo_embed(p, img, faces, k, *emb, &ae)) != AV_OK ||
        (s = av_liveness(p, img, faces, k, live, &ae)) != AV_OK)
        goto vision_failed;
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

/* Face f's best match: kept only at or above the threshold, for a person still on the roster and active. */
static att_err match(const struct roster_deps *d, const float *emb, struct roster_face_match *f)
{
    struct gal_match m;
    att_err e = gal_top1(d->gallery, emb, &m);
    if (e == ATT_E_NOT_FOUND) return ATT_OK; /* nobody enrolled and active */
    if (e != ATT_OK) return e;
    /* below the threshold nothing of the search leaves: a score would let a caller tune an image
     * towards someone's face, one query at a time */
    if ((double)m.similarity < d->match_threshold) return ATT_OK;
    char person_id[ATT_UUID_STR];
    att_uuid_format(&m.person, person_id);
    e = store_person_get(d->db, person_id, &f->person);
    if (e == ATT_E_NOT_FOUND) return ATT_OK; /* erased meanwhile: simply no match */
    if (e != ATT_OK) return e;
    if (!f->person.active) {
        memset(&f->person, 0, sizeof f->person);
        return ATT_OK;
    }
    f->matched = true;
    f->similarity = m.similarity;
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
    float *emb = NULL;
    e = analyse(d, vp, photo, len, out, &emb);
    vpool_release(d->vision, vp);
    for (size_t i = 0; e == ATT_OK && i < out->n; i++)
        if ((e = match(d, emb + i * AV_EMBED_DIM, &out->faces[i])) != ATT_OK)
            FAIL(out, e, "the faces could not be looked up");
    if (emb != NULL) sodium_free(emb);
    return e;
}
