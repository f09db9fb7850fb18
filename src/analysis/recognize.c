/* Recognition of track crops: align, one batched embedding run, liveness, gallery top-1.
 * Turns the faces the tracker still wants into trk_recog values; knows nothing of tracks. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"

att_err recog_faces(av_pipeline *vp, const av_image *img, const av_face *faces, size_t n, gal *g, float live_min_sim,
                    struct trk_recog *out, char *err, size_t errlen)
{
    if (n == 0) return ATT_OK;
    av_crop *crops = malloc(n * sizeof *crops);
    float *emb = malloc(n * AV_EMBED_DIM * sizeof *emb);
    float *live = malloc(n * sizeof *live);
    av_face *need = malloc(n * sizeof *need);
    size_t *need_i = malloc(n * sizeof *need_i);
    att_err rc = ATT_OK;
    av_err ve;
    if (!crops || !emb || !live || !need || !need_i) {
        snprintf(err, errlen, "out of memory for %zu crops", n);
        rc = ATT_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (av_align(img, &faces[i], &crops[i], &ve) != AV_OK) {
            snprintf(err, errlen, "align: %s", ve.msg);
            rc = ATT_E_INTERNAL;
            goto done;
        }
    }
    if (av_embed(vp, crops, n, emb, &ve) != AV_OK) {
        snprintf(err, errlen, "embed: %s", ve.msg);
        rc = ATT_E_INTERNAL;
        goto done;
    }
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        struct gal_match m[2];
        size_t got = 0;
        memset(&out[i], 0, sizeof out[i]);
        out[i].liveness = -1.0f; /* not measured (tracker.h) unless the match could count */
        out[i].second = -1.0f;
        /* the best two people: the tracker wants the margin over the second-best person */
        att_err e = gal_topk(g, emb + i * AV_EMBED_DIM, 2, m, &got);
        if (e == ATT_OK && got > 0) {
            out[i].matched = true;
            out[i].person = m[0].person;
            out[i].similarity = m[0].similarity;
            if (got > 1) {
                out[i].second = m[1].similarity;
                out[i].second_person = m[1].person; /* a look-alike's confirmation compares with both */
            }
        } else if (e != ATT_OK) { /* got == 0 (an empty gallery: a visitor by definition) is no error */
            snprintf(err, errlen, "gallery search: %s", att_err_code(e));
            rc = e;
            goto done;
        }
        out[i].quality = faces[i].score;
        /* liveness only matters for a crop that can count towards a decision: ~40% of the cost
         * of a recognition saved on visitors and on a walker's first, still small, faces */
        if (out[i].matched && out[i].similarity >= live_min_sim) {
            need[nn] = faces[i];
            need_i[nn++] = i;
        }
    }
    if (nn && av_liveness(vp, img, need, nn, live, &ve) != AV_OK) {
        snprintf(err, errlen, "liveness: %s", ve.msg);
        rc = ATT_E_INTERNAL;
        goto done;
    }
    for (size_t k = 0; k < nn; k++) out[need_i[k]].liveness = live[k];
done:
    if (emb) sodium_memzero(emb, n * AV_EMBED_DIM * sizeof *emb); /* biometric data */
    if (crops) sodium_memzero(crops, n * sizeof *crops);
    free(crops);
    free(emb);
    free(live);
    free(need);
    free(need_i);
    return rc;
}
