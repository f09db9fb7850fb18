/* In-memory face gallery: L2-normalised 512-d templates of enrolled people, searched by cosine
 * similarity (int8 scan + fp16 re-rank, docs/gallery.md). Biometric data only: identities stay with the caller. */
#ifndef ATTENDD_GALLERY_H
#define ATTENDD_GALLERY_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

#define GAL_DIM 512     /* embedding length (fr_feature.onnx) */
#define GAL_TOPK_MAX 64 /* largest k gal_topk accepts */
#define GAL_CONFIRM_DIM 128

typedef struct gal gal;

/* One search hit: a person (counted once) and the best of that person's faces. */
struct gal_match {
    att_uuid person;  /* the person */
    att_uuid face;    /* the person's best-matching face */
    float similarity; /* cosine, within 0.001 of the exact float32 value */
    void *user;       /* the caller's value from gal_person_put, or NULL */
};

/* New empty gallery. Returns NULL only when out of memory. Free with gal_free. */
gal *gal_new(void);
/* Wipe every template (sodium_memzero), unlock and unmap. NULL is a no-op. The gallery must no longer
 * be in use by any thread. */
void gal_free(gal *g);

/* Pre-size for n templates in total (a loader that knows the row count avoids regrowth and slack).
 * ATT_E_NOMEM if the memory cannot be mapped. */
att_err gal_reserve(gal *g, size_t n);

/* Create or update a person. user is opaque to the gallery: never dereferenced, never freed; a search
 * hands it back in gal_match.user (the caller keeps it valid for as long as a result may be used;
 * mapping person_id to an identity under the caller's own lock is the safer pattern).
 * ATT_E_INVALID for a malformed uuid. */
att_err gal_person_put(gal *g, const char *person_id, bool active, void *user);
/* Include (true) or exclude (false) a person's faces from searches. ATT_E_NOT_FOUND if unknown. */
att_err gal_person_set_active(gal *g, const char *person_id, bool active);
/* Remove a person and wipe all of the person's templates. ATT_E_NOT_FOUND if unknown. */
att_err gal_person_remove(gal *g, const char *person_id);

/* Add one template. vec is normalised here (it need not be unit length); a vector with a NaN/Inf
 * component or zero norm is refused with ATT_E_INVALID, as is a malformed uuid. A person not yet
 * known is created active with user NULL. ATT_E_CONFLICT if face_id is already present;
 * ATT_E_NOMEM if the gallery cannot grow. The gallery keeps no pointer to vec. */
att_err gal_face_add(gal *g, const char *person_id, const char *face_id, const float vec[GAL_DIM]);
/* Remove one template (wiped). ATT_E_NOT_FOUND if unknown. The person stays, possibly with no face. */
att_err gal_face_remove(gal *g, const char *face_id);

/* Attach the confirming model's template to a face already added (wiped on removal). ATT_E_NOT_FOUND unknown face, ATT_E_INVALID bad vector. */
att_err gal_face_set_confirm(gal *g, const char *face_id, const float vec[GAL_CONFIRM_DIM]);
/* Best confirming similarity of query to the person's faces that carry one; *n = how many do (best untouched when 0). */
att_err gal_person_confirm_similarity(gal *g, const char *person_id, const float query[GAL_CONFIRM_DIM], float *best,
                                      size_t *n);
/* How many of the person's faces carry a confirming template (active or not), without a query.
 * ATT_E_NOT_FOUND for an unknown person, ATT_E_INVALID for a malformed id. */
att_err gal_person_confirm_count(gal *g, const char *person_id, size_t *n);

/* One face put to gal_person_fused: its first-model side (the embedding, or a similarity the caller
 * already measured against the person) and its confirming embedding when it has one. */
struct gal_face_probe {
    const float *fr;      /* the face's fr_feature embedding (GAL_DIM values), or NULL: fr_similarity */
    float fr_similarity;  /* with fr NULL: the first model's similarity to the person (a search hit's, a track's) */
    const float *confirm; /* the face's confirming embedding (GAL_CONFIRM_DIM values), or NULL when it has none */
};

/* A face against one person: each model's best similarity to the person's templates and their
 * fused score. */
struct gal_fused {
    float similarity;         /* fr_feature: the best over the person's templates (or the probe's fr_similarity) */
    float confirm_similarity; /* confirming model: the best over the person's confirming templates (when confirmed) */
    float fused;              /* av_fuse_scores(similarity, confirm_similarity) when confirmed, else 0 */
    bool confirmed;           /* both the face and the person carry a confirming template: fused holds; when
                                 false the caller judges the face on similarity alone */
    size_t templates;         /* the person's templates (active or not); with fr given and 0, similarity is 0 */
    size_t confirm_templates; /* how many of them carry a confirming template */
};

/* The fused score of a face against a person (docs/vision.md "The confirming model": the best
 * similarity of each model, z-normalised and averaged). ATT_E_NOT_FOUND for an unknown person;
 * ATT_E_INVALID for a NULL argument, a malformed id, a non-finite or zero vector, or a given
 * fr_similarity outside [-1, 1]. out is zeroed first, whatever the result. */
att_err gal_person_fused(gal *g, const char *person_id, const struct gal_face_probe *q, struct gal_fused *out);

/* Best person among the active ones. ATT_OK with *out filled; ATT_E_NOT_FOUND when no active person
 * has a face; ATT_E_INVALID for a non-finite or zero query. The query need not be normalised. */
att_err gal_top1(gal *g, const float query[GAL_DIM], struct gal_match *out);
/* Up to k (1..GAL_TOPK_MAX) distinct people, best first; *n_out receives how many were written
 * (0 when the gallery holds no active face). ATT_E_INVALID for a bad query or k. */
att_err gal_topk(gal *g, const float query[GAL_DIM], size_t k, struct gal_match *out, size_t *n_out);

/* The best and the lowest similarity of query to the templates of one person, active or not (exact to
 * ~1e-4, from the fp16 copies); *n receives how many templates the person has (best and worst are left
 * alone when 0). ATT_E_NOT_FOUND for an unknown person, ATT_E_INVALID for a malformed id or a bad query. */
att_err gal_person_similarity(gal *g, const char *person_id, const float query[GAL_DIM], float *best, float *worst,
                              size_t *n);

/* Counters for status pages and tests. */
size_t gal_face_count(gal *g);
size_t gal_person_count(gal *g);
/* The people held (up to max ids into out, any order); returns how many are held. */
size_t gal_person_ids(gal *g, att_uuid *out, size_t max);
/* Bytes held by the gallery: mapped template memory (capacity, not just rows in use) plus indexes
 * and the person table. bytes / gal_face_count() is the memory cost per template. */
size_t gal_bytes(gal *g);
/* True while every template region is mlock'ed. When locking is refused (RLIMIT_MEMLOCK) the gallery
 * still works; a warning is logged once per process. */
bool gal_locked(gal *g);
/* Name of the dot-product kernels in use: "avx2" or "portable" (runtime CPU dispatch). */
const char *gal_kernel_name(void);

#endif
