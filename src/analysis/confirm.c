/* Confirmation of a track about to decide: one confirming embedding of the deciding crop, and the
 * fused scores against the person the window names (and the runner-up of a look-alike window). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "attendd/fuse.h"
#include "pipeline_internal.h"

_Static_assert(AV_CONFIRM_DIM == GAL_CONFIRM_DIM, "the gallery keeps the confirming model's templates");

/* How many confirming templates the person carries (0 also for a person gone meanwhile), before
 * the embedding is paid for. */
static att_err templates_of(gal *g, const att_uuid *person, size_t *n)
{
    char id[ATT_UUID_STR];
    att_uuid_format(person, id);
    att_err e = gal_person_confirm_count(g, id, n);
    return e == ATT_E_NOT_FOUND ? ATT_OK : e;
}

/* Fused score of the crop's confirming embedding v against person, whose first-model similarity
 * is fr_sim (the track's). */
static att_err fused_for(gal *g, const att_uuid *person, float fr_sim, const float *v, bool *has, float *fused)
{
    char id[ATT_UUID_STR];
    att_uuid_format(person, id);
    struct gal_fused f;
    att_err e = gal_person_fused(g, id, &(struct gal_face_probe){.fr_similarity = fr_sim, .confirm = v}, &f);
    if (e == ATT_E_NOT_FOUND) e = ATT_OK; /* removed meanwhile: nothing to compare with (f is zeroed) */
    *has = e == ATT_OK && f.confirmed;
    *fused = *has ? f.fused : 0.0f;
    return e;
}

att_err confirm_need(gal *g, const struct trk_confirm_req *rq, struct trk_confirmation *out, bool *need)
{
    memset(out, 0, sizeof *out);
    *need = false;
    size_t np = 0, nr = 0;
    att_err e = templates_of(g, &rq->person, &np);
    if (e == ATT_OK && rq->kind == TRK_CONFIRM_LOOKALIKE) e = templates_of(g, &rq->runner_up, &nr);
    if (e != ATT_OK) return e;
    /* nothing to compare with: the tracker's rule alone (a decision), or no way to settle a
     * look-alike (refused); either way no embedding is needed */
    out->has_template = np > 0;
    out->runner_up_has_template = nr > 0;
    *need = np > 0 && (rq->kind != TRK_CONFIRM_LOOKALIKE || nr > 0);
    return ATT_OK;
}

att_err confirm_fuse(gal *g, const struct trk_confirm_req *rq, const float v[AV_CONFIRM_DIM],
                     struct trk_confirmation *out)
{
    memset(out, 0, sizeof *out);
    att_err e = fused_for(g, &rq->person, rq->similarity, v, &out->has_template, &out->fused);
    if (e == ATT_OK && rq->kind == TRK_CONFIRM_LOOKALIKE)
        e = fused_for(g, &rq->runner_up, rq->runner_up_similarity, v, &out->runner_up_has_template,
                      &out->runner_up_fused);
    return e;
}

att_err confirm_face(av_confirm_net *cn, const av_image *img, const av_face *face, gal *g,
                     const struct trk_confirm_req *rq, struct trk_confirmation *out, bool *ran, char *err,
                     size_t errlen)
{
    *ran = false;
    bool need;
    att_err e = confirm_need(g, rq, out, &need);
    if (e != ATT_OK) {
        snprintf(err, errlen, "gallery: %s", att_err_code(e));
        return e;
    }
    if (!need) return ATT_OK;
    float v[AV_CONFIRM_DIM];
    av_err ve;
    if (av_confirm_embed(cn, img, face, AV_CONFIRM_ALIGN_SHIPPED, v, &ve) != AV_OK) {
        snprintf(err, errlen, "confirming embedding: %s", ve.msg);
        return ATT_E_INTERNAL;
    }
    *ran = true;
    e = confirm_fuse(g, rq, v, out);
    sodium_memzero(v, sizeof v); /* biometric data */
    if (e != ATT_OK) snprintf(err, errlen, "gallery: %s", att_err_code(e));
    return e;
}
