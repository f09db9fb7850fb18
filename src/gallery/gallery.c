/* The in-memory gallery (include/attendd/gallery.h): dense rows of int8 codes for a memory-bound
 * scan and fp16 copies for an exact re-rank of the few rows near the top, fp16 confirming templates
 * beside them; person table; rwlock. */
#include "attendd/gallery.h"
#include "attendd/uuid.h"
#include "attendd/vision.h" /* av_fuse_scores: the gallery fuses with the calibration the models ship with */

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/gallery/kernels.h"
#include "src/gallery/region.h"

#define SCAN_BLOCK 256    /* rows per kernel call: the int32 results stay in L1 */
#define CAND_CAP 1024     /* candidate rows kept for re-ranking (8 KB on the stack) */
#define CAND_PER_PERSON 4 /* when candidates overflow: a person's best rows that are kept */
/* Rows whose int8 score is within MARGIN of the current k-th best person are re-ranked. The int8
 * score differs from the exact cosine by at most ~0.003 on isotropic data (rms 0.0005, docs/gallery.md)
 * and ~0.006 if one component dominated a vector; a winner can trail by twice the error, so 0.02 keeps
 * every possible winner while re-ranking only a handful of rows. */
#define MARGIN 0.02f
#define GROW_MIN 256 /* first allocation, rows */
#define NO_ROW UINT32_MAX

/* Per-template metadata, a row of the meta region (row i of every region is the same face). */
struct gal_row {
    unsigned char face[16]; /* face uuid */
    uint32_t person;        /* index into gal.people */
    float scale;            /* int8 code scale: value = code * scale */
    bool confirm;           /* row of the confirm region holds this face's confirming template */
};

struct gal_person {
    unsigned char id[16]; /* person uuid */
    void *user;           /* caller's opaque value */
    uint32_t nfaces;      /* rows of this person in the matrix */
    bool active;          /* included in searches */
    bool used;            /* false: the slot is on the free list */
};

/* Open-addressing hash (linear probing) from a 16-byte uuid to a row or person index. The keys are not
 * copied: they are read from the row/person they point at, so a slot costs 4 bytes. */
struct umap {
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t cap;     /* power of two, or 0 */
    size_t count;   /* occupied slots */
};

struct gal {
    pthread_rwlock_t lock;       /* searches read, updates write */
    struct gal_region codes;     /* cap x GAL_DIM int8: the scanned matrix */
    struct gal_region halves;    /* cap x GAL_DIM binary16: the re-rank copy */
    struct gal_region meta;      /* cap x struct gal_row */
    struct gal_region confirm;   /* cap x GAL_CONFIRM_DIM binary16 confirming templates; mapped at the
                                    first gal_face_set_confirm, so a gallery without any costs nothing */
    size_t n;                    /* rows in use (dense: 0..n-1) */
    size_t cap;                  /* rows all three regions can hold */
    struct umap faces;           /* face uuid -> row */
    struct gal_person *people;   /* person slots */
    size_t people_len;           /* slots handed out (used or free) */
    size_t people_cap;           /* allocated slots */
    uint32_t *free_people;       /* stack of free slot indexes */
    size_t nfree;                /* entries on that stack (capacity people_cap) */
    struct umap people_ix;       /* person uuid -> slot */
    const struct gal_kernels *k; /* dot-product kernels */
};

typedef const unsigned char *(*key_fn)(const gal *g, uint32_t v);

static int8_t *row_codes(const gal *g, size_t r) { return (int8_t *)g->codes.base + r * GAL_DIM; }
static uint16_t *row_halves(const gal *g, size_t r) { return (uint16_t *)(void *)g->halves.base + r * GAL_DIM; }
static struct gal_row *rows(const gal *g) { return (struct gal_row *)(void *)g->meta.base; }
static uint16_t *row_confirm(const gal *g, size_t r)
{
    return (uint16_t *)(void *)g->confirm.base + r * GAL_CONFIRM_DIM;
}
static const unsigned char *face_key(const gal *g, uint32_t r) { return rows(g)[r].face; }
static const unsigned char *person_key(const gal *g, uint32_t p) { return g->people[p].id; }

/* ---- uuid hash map ----------------------------------------------------------------------- */

/* Rows keep ids as raw bytes; the map hashes them as the uuids they are. */
static size_t uuid_hash(const unsigned char id[16])
{
    att_uuid u;
    memcpy(u.b, id, sizeof u.b);
    return (size_t)att_uuid_hash(&u);
}

/* Slot holding id, or the empty slot where it would go. cap must be > 0. */
static size_t umap_probe(const gal *g, const struct umap *m, key_fn key, const unsigned char id[16])
{
    size_t mask = m->cap - 1, i = uuid_hash(id) & mask;
    while (m->slot[i] && memcmp(key(g, m->slot[i] - 1), id, 16) != 0) i = (i + 1) & mask;
    return i;
}

static uint32_t umap_get(const gal *g, const struct umap *m, key_fn key, const unsigned char id[16])
{
    if (!m->cap) return NO_ROW;
    size_t i = umap_probe(g, m, key, id);
    return m->slot[i] ? m->slot[i] - 1 : NO_ROW;
}

/* Room for `count` entries at load <= 1/2, so inserts after it cannot fail. */
static att_err umap_reserve(const gal *g, struct umap *m, key_fn key, size_t count)
{
    if (count <= m->cap / 2) return ATT_OK;
    size_t cap = m->cap ? m->cap : 64;
    while (count > cap / 2) cap *= 2;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return ATT_E_NOMEM;
    struct umap nm = {slot, cap, m->count};
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i]) nm.slot[umap_probe(g, &nm, key, key(g, m->slot[i] - 1))] = m->slot[i];
    free(m->slot);
    *m = nm;
    return ATT_OK;
}

/* Insert id -> v (absent, capacity reserved) or repoint an existing id to v. */
static void umap_put(const gal *g, struct umap *m, key_fn key, const unsigned char id[16], uint32_t v)
{
    size_t i = umap_probe(g, m, key, id);
    if (!m->slot[i]) m->count++;
    m->slot[i] = v + 1;
}

/* Backward-shift deletion: no tombstones, so probe lengths stay short under churn. */
static void umap_del(const gal *g, struct umap *m, key_fn key, const unsigned char id[16])
{
    if (!m->cap) return;
    size_t mask = m->cap - 1, i = umap_probe(g, m, key, id);
    if (!m->slot[i]) return;
    for (size_t j = (i + 1) & mask; m->slot[j]; j = (j + 1) & mask) {
        size_t h = uuid_hash(key(g, m->slot[j] - 1)) & mask;
        /* the entry at j may move to i unless its home h lies cyclically in (i, j] */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            m->slot[i] = m->slot[j];
            i = j;
        }
    }
    m->slot[i] = 0;
    m->count--;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

gal *gal_new(void)
{
    if (sodium_init() < 0) return NULL;
    gal *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    /* enrolment must not starve behind a steady stream of searches */
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&g->lock, &a);
    pthread_rwlockattr_destroy(&a);
    if (rc != 0) {
        free(g);
        return NULL;
    }
    g->k = gal_kernels_select(false);
    return g;
}

void gal_free(gal *g)
{
    if (!g) return;
    gal_region_release(&g->codes, g->n * GAL_DIM);
    gal_region_release(&g->halves, g->n * GAL_DIM * sizeof(uint16_t));
    gal_region_release(&g->meta, g->n * sizeof(struct gal_row));
    gal_region_release(&g->confirm, g->n * GAL_CONFIRM_DIM * sizeof(uint16_t));
    free(g->faces.slot);
    free(g->people_ix.slot);
    if (g->people) sodium_memzero(g->people, g->people_cap * sizeof *g->people);
    free(g->people);
    free(g->free_people);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

void gal_set_kernels(gal *g, const struct gal_kernels *k)
{
    pthread_rwlock_wrlock(&g->lock);
    g->k = k;
    pthread_rwlock_unlock(&g->lock);
}

/* Grow the three row regions to hold `need` rows. Caller holds the write lock. */
static att_err ensure_rows(gal *g, size_t need, bool exact)
{
    if (need <= g->cap) return ATT_OK;
    size_t cap = need;
    if (!exact) {
        /* +1/8 rather than doubling: slack counts against the 2.2 KB/template budget, and mremap
         * makes growth cheap (no copy) */
        size_t step = g->cap / 8 > GROW_MIN ? g->cap / 8 : GROW_MIN;
        if (cap < g->cap + step) cap = g->cap + step;
    }
    if (cap > UINT32_MAX - 1 || cap > SIZE_MAX / (GAL_DIM * sizeof(uint16_t))) return ATT_E_NOMEM;
    att_err e = gal_region_grow(&g->codes, cap * GAL_DIM);
    if (e == ATT_OK) e = gal_region_grow(&g->halves, cap * GAL_DIM * sizeof(uint16_t));
    if (e == ATT_OK) e = gal_region_grow(&g->meta, cap * sizeof(struct gal_row));
    if (e == ATT_OK && g->confirm.base) e = gal_region_grow(&g->confirm, cap * GAL_CONFIRM_DIM * sizeof(uint16_t));
    if (e != ATT_OK) return e;
    /* regions round up to whole pages: use the rows that fit in all of them */
    size_t fit = g->codes.bytes / GAL_DIM;
    if (g->halves.bytes / (GAL_DIM * sizeof(uint16_t)) < fit) fit = g->halves.bytes / (GAL_DIM * sizeof(uint16_t));
    if (g->meta.bytes / sizeof(struct gal_row) < fit) fit = g->meta.bytes / sizeof(struct gal_row);
    if (g->confirm.base && g->confirm.bytes / (GAL_CONFIRM_DIM * sizeof(uint16_t)) < fit)
        fit = g->confirm.bytes / (GAL_CONFIRM_DIM * sizeof(uint16_t));
    g->cap = fit;
    return ATT_OK;
}

att_err gal_reserve(gal *g, size_t n)
{
    pthread_rwlock_wrlock(&g->lock);
    att_err e = ensure_rows(g, n, true);
    if (e == ATT_OK) e = umap_reserve(g, &g->faces, face_key, n);
    pthread_rwlock_unlock(&g->lock);
    return e;
}

/* ---- people ------------------------------------------------------------------------------ */

/* Make room for one more person (slot and index). Caller holds the write lock. */
static att_err people_reserve_one(gal *g)
{
    if (!g->nfree && g->people_len == g->people_cap) {
        size_t cap = g->people_cap ? g->people_cap * 2 : 64;
        if (cap > UINT32_MAX - 1) return ATT_E_NOMEM;
        struct gal_person *p = realloc(g->people, cap * sizeof *p);
        if (!p) return ATT_E_NOMEM;
        g->people = p;
        uint32_t *f = realloc(g->free_people, cap * sizeof *f);
        if (!f) return ATT_E_NOMEM; /* people grew: harmless, the next attempt reuses it */
        g->free_people = f;
        g->people_cap = cap;
    }
    return umap_reserve(g, &g->people_ix, person_key, g->people_ix.count + 1);
}

/* New person slot; capacity reserved by people_reserve_one. */
static uint32_t people_add(gal *g, const unsigned char id[16], bool active, void *user)
{
    uint32_t p = g->nfree ? g->free_people[--g->nfree] : (uint32_t)g->people_len++;
    struct gal_person *ps = &g->people[p];
    memcpy(ps->id, id, 16);
    ps->user = user;
    ps->nfaces = 0;
    ps->active = active;
    ps->used = true;
    umap_put(g, &g->people_ix, person_key, id, p);
    return p;
}

att_err gal_person_put(gal *g, const char *person_id, bool active, void *user)
{
    att_uuid id;
    if (!att_uuid_parse(person_id, &id)) return ATT_E_INVALID;
    pthread_rwlock_wrlock(&g->lock);
    att_err e = ATT_OK;
    uint32_t p = umap_get(g, &g->people_ix, person_key, id.b);
    if (p != NO_ROW) {
        g->people[p].active = active;
        g->people[p].user = user;
    } else if ((e = people_reserve_one(g)) == ATT_OK) {
        people_add(g, id.b, active, user);
    }
    pthread_rwlock_unlock(&g->lock);
    return e;
}

att_err gal_person_set_active(gal *g, const char *person_id, bool active)
{
    att_uuid id;
    if (!att_uuid_parse(person_id, &id)) return ATT_E_INVALID;
    pthread_rwlock_wrlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, id.b);
    if (p != NO_ROW) g->people[p].active = active;
    pthread_rwlock_unlock(&g->lock);
    return p != NO_ROW ? ATT_OK : ATT_E_NOT_FOUND;
}

/* ---- rows -------------------------------------------------------------------------------- */

/* Swap-remove row r: the last row moves into the hole, the vacated last row is wiped. */
static void row_remove(gal *g, size_t r)
{
    struct gal_row *rw = rows(g);
    g->people[rw[r].person].nfaces--;
    umap_del(g, &g->faces, face_key, rw[r].face);
    size_t last = g->n - 1;
    if (r != last) {
        memcpy(row_codes(g, r), row_codes(g, last), GAL_DIM);
        memcpy(row_halves(g, r), row_halves(g, last), GAL_DIM * sizeof(uint16_t));
        if (g->confirm.base) memcpy(row_confirm(g, r), row_confirm(g, last), GAL_CONFIRM_DIM * sizeof(uint16_t));
        rw[r] = rw[last];
        umap_put(g, &g->faces, face_key, rw[r].face, (uint32_t)r);
    }
    sodium_memzero(row_codes(g, last), GAL_DIM);
    sodium_memzero(row_halves(g, last), GAL_DIM * sizeof(uint16_t));
    if (g->confirm.base) sodium_memzero(row_confirm(g, last), GAL_CONFIRM_DIM * sizeof(uint16_t));
    sodium_memzero(&rw[last], sizeof rw[last]);
    g->n = last;
}

att_err gal_person_remove(gal *g, const char *person_id)
{
    att_uuid id;
    if (!att_uuid_parse(person_id, &id)) return ATT_E_INVALID;
    pthread_rwlock_wrlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, id.b);
    if (p == NO_ROW) {
        pthread_rwlock_unlock(&g->lock);
        return ATT_E_NOT_FOUND;
    }
    /* downwards: a row swapped into r comes from above r, which was already checked */
    for (size_t r = g->n; r-- > 0 && g->people[p].nfaces > 0;)
        if (rows(g)[r].person == p) row_remove(g, r);
    umap_del(g, &g->people_ix, person_key, id.b);
    sodium_memzero(&g->people[p], sizeof g->people[p]);
    g->free_people[g->nfree++] = p;
    pthread_rwlock_unlock(&g->lock);
    return ATT_OK;
}

att_err gal_face_add(gal *g, const char *person_id, const char *face_id, const float vec[GAL_DIM])
{
    att_uuid pid, fid;
    if (!att_uuid_parse(person_id, &pid) || !att_uuid_parse(face_id, &fid) || !vec) return ATT_E_INVALID;

    /* encode outside the lock; the stack copies are wiped below */
    _Alignas(64) float unit[GAL_DIM];
    _Alignas(64) int8_t code[GAL_DIM];
    _Alignas(64) uint16_t half[GAL_DIM];
    float scale;
    if (!gal_normalise(vec, unit)) return ATT_E_INVALID;
    gal_quantise_i8(unit, code, &scale);

    pthread_rwlock_wrlock(&g->lock);
    g->k->to_f16(unit, half);
    att_err e = ATT_OK;
    uint32_t p = umap_get(g, &g->people_ix, person_key, pid.b);
    if (umap_get(g, &g->faces, face_key, fid.b) != NO_ROW) e = ATT_E_CONFLICT;
    /* every allocation first, so that nothing below can fail half-way */
    if (e == ATT_OK) e = ensure_rows(g, g->n + 1, false);
    if (e == ATT_OK) e = umap_reserve(g, &g->faces, face_key, g->n + 1);
    if (e == ATT_OK && p == NO_ROW) e = people_reserve_one(g);
    if (e == ATT_OK) {
        if (p == NO_ROW) p = people_add(g, pid.b, true, NULL);
        size_t r = g->n;
        memcpy(row_codes(g, r), code, GAL_DIM);
        memcpy(row_halves(g, r), half, sizeof half);
        struct gal_row *rw = &rows(g)[r];
        memcpy(rw->face, fid.b, 16);
        rw->person = p;
        rw->scale = scale;
        rw->confirm = false; /* until gal_face_set_confirm */
        g->n = r + 1;
        g->people[p].nfaces++;
        umap_put(g, &g->faces, face_key, fid.b, (uint32_t)r);
    }
    pthread_rwlock_unlock(&g->lock);
    sodium_memzero(unit, sizeof unit);
    sodium_memzero(code, sizeof code);
    sodium_memzero(half, sizeof half);
    return e;
}

att_err gal_face_remove(gal *g, const char *face_id)
{
    att_uuid fid;
    if (!att_uuid_parse(face_id, &fid)) return ATT_E_INVALID;
    pthread_rwlock_wrlock(&g->lock);
    uint32_t r = umap_get(g, &g->faces, face_key, fid.b);
    if (r != NO_ROW) row_remove(g, r);
    pthread_rwlock_unlock(&g->lock);
    return r != NO_ROW ? ATT_OK : ATT_E_NOT_FOUND;
}

/* ---- confirming templates ---------------------------------------------------------------- */

/* out = in / |in| over GAL_CONFIRM_DIM values; false for a NaN/Inf component or a zero norm. */
static bool confirm_normalise(const float *in, float *out)
{
    double ss = 0.0;
    for (size_t d = 0; d < GAL_CONFIRM_DIM; d++) {
        if (!isfinite(in[d])) return false;
        ss += (double)in[d] * in[d];
    }
    if (!(ss > 0.0) || !isfinite(ss)) return false;
    double inv = 1.0 / sqrt(ss);
    for (size_t d = 0; d < GAL_CONFIRM_DIM; d++) out[d] = (float)(in[d] * inv);
    return true;
}

att_err gal_face_set_confirm(gal *g, const char *face_id, const float vec[GAL_CONFIRM_DIM])
{
    att_uuid fid;
    if (!face_id || !att_uuid_parse(face_id, &fid) || !vec) return ATT_E_INVALID;
    float unit[GAL_CONFIRM_DIM];
    uint16_t half[GAL_CONFIRM_DIM];
    if (!confirm_normalise(vec, unit)) return ATT_E_INVALID;
    /* binary16 like the re-rank copy: the cosine stays within ~1e-4 of float32, a twentieth of a
       standard deviation of the confirming model's impostor scores at worst */
    for (size_t d = 0; d < GAL_CONFIRM_DIM; d++) half[d] = gal_f32_to_f16(unit[d]);
    att_err e = ATT_OK;
    pthread_rwlock_wrlock(&g->lock);
    uint32_t r = umap_get(g, &g->faces, face_key, fid.b);
    if (r == NO_ROW) {
        e = ATT_E_NOT_FOUND;
    } else if (!g->confirm.base) {
        /* the first confirming template maps the region for every row the gallery can hold */
        e = gal_region_grow(&g->confirm, g->cap * GAL_CONFIRM_DIM * sizeof(uint16_t));
        if (e == ATT_OK && g->confirm.bytes / (GAL_CONFIRM_DIM * sizeof(uint16_t)) < g->cap)
            g->cap = g->confirm.bytes / (GAL_CONFIRM_DIM * sizeof(uint16_t));
    }
    if (e == ATT_OK) {
        memcpy(row_confirm(g, r), half, sizeof half);
        rows(g)[r].confirm = true;
    }
    pthread_rwlock_unlock(&g->lock);
    sodium_memzero(unit, sizeof unit);
    sodium_memzero(half, sizeof half);
    return e;
}

/* Person slot p's faces that carry a confirming template (the caller holds the lock and has checked
 * that the region exists); with a unit query qf, *hi gets the best cosine against them. */
static size_t confirm_scan(const gal *g, uint32_t p, const float *qf, float *hi)
{
    const struct gal_row *rw = rows(g);
    size_t seen = 0, cnt = 0;
    for (size_t r = 0; r < g->n && seen < g->people[p].nfaces; r++) {
        if (rw[r].person != p) continue;
        seen++;
        if (!rw[r].confirm) continue;
        cnt++;
        if (!qf) continue;
        const uint16_t *h = row_confirm(g, r);
        float s = 0.0f;
        for (size_t d = 0; d < GAL_CONFIRM_DIM; d++) s += gal_f16_to_f32(h[d]) * qf[d];
        *hi = fmaxf(*hi, s);
    }
    return cnt;
}

att_err gal_person_confirm_similarity(gal *g, const char *person_id, const float query[GAL_CONFIRM_DIM], float *best,
                                      size_t *n)
{
    *n = 0;
    att_uuid u;
    if (!person_id || !att_uuid_parse(person_id, &u) || !query || !best) return ATT_E_INVALID;
    float qf[GAL_CONFIRM_DIM];
    if (!confirm_normalise(query, qf)) return ATT_E_INVALID;
    att_err e = ATT_OK;
    pthread_rwlock_rdlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, u.b);
    if (p == NO_ROW) {
        e = ATT_E_NOT_FOUND;
    } else if (g->confirm.base) {
        float hi = -INFINITY;
        *n = confirm_scan(g, p, qf, &hi);
        if (*n) *best = fminf(1.0f, fmaxf(-1.0f, hi));
    }
    pthread_rwlock_unlock(&g->lock);
    sodium_memzero(qf, sizeof qf);
    return e;
}

att_err gal_person_confirm_count(gal *g, const char *person_id, size_t *n)
{
    *n = 0;
    att_uuid u;
    if (!person_id || !att_uuid_parse(person_id, &u)) return ATT_E_INVALID;
    att_err e = ATT_OK;
    pthread_rwlock_rdlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, u.b);
    if (p == NO_ROW) e = ATT_E_NOT_FOUND;
    else if (g->confirm.base) *n = confirm_scan(g, p, NULL, NULL);
    pthread_rwlock_unlock(&g->lock);
    return e;
}

/* ---- search ------------------------------------------------------------------------------ */

struct cand {
    uint32_t row; /* matrix row */
    float s;      /* int8 score, then the re-ranked score */
};

struct top {
    uint32_t person; /* person slot */
    float s;         /* that person's best int8 score so far */
};

static int cand_by_score(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row); /* deterministic order for ties */
}

/* Running list of the k best distinct people by int8 score, best first. */
static void top_update(struct top *t, size_t *nt, size_t k, uint32_t p, float s)
{
    size_t i;
    for (i = 0; i < *nt && t[i].person != p; i++) {
    }
    if (i < *nt) {
        if (s <= t[i].s) return;
    } else if (*nt < k) {
        i = (*nt)++;
    } else {
        if (s <= t[k - 1].s) return;
        i = k - 1;
    }
    t[i] = (struct top){p, s};
    for (; i > 0 && t[i - 1].s < t[i].s; i--) {
        struct top tmp = t[i - 1];
        t[i - 1] = t[i];
        t[i] = tmp;
    }
}

struct cand_person {
    struct cand c;   /* candidate */
    uint32_t person; /* its person slot */
};

static int cp_by_person(const void *a, const void *b)
{
    const struct cand_person *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    return cand_by_score(&x->c, &y->c);
}

/* The candidate buffer is full: drop rows now below the threshold; if many remain (hundreds of rows
 * within MARGIN of each other), keep each person's CAND_PER_PERSON best, then the best CAND_CAP/2.
 * Only the last step can lose a winner, and only one that is within the int8 error of a kept row. */
static size_t cand_compact(const gal *g, struct cand *c, size_t n, float thr)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].s >= thr) c[m++] = c[i];
    if (m <= CAND_CAP / 2) return m;
    static _Thread_local struct cand_person cp[CAND_CAP]; /* 12 KB: off the caller's stack */
    for (size_t i = 0; i < m; i++) cp[i] = (struct cand_person){c[i], rows(g)[c[i].row].person};
    qsort(cp, m, sizeof *cp, cp_by_person);
    size_t kept = 0, run = 0;
    for (size_t i = 0; i < m; i++) {
        run = (i > 0 && cp[i].person == cp[i - 1].person) ? run + 1 : 0;
        if (run < CAND_PER_PERSON) c[kept++] = cp[i].c;
    }
    if (kept > CAND_CAP / 2) {
        qsort(c, kept, sizeof *c, cand_by_score);
        kept = CAND_CAP / 2;
    }
    return kept;
}

static att_err search(gal *g, const float *query, size_t k, struct gal_match *out, size_t *n_out)
{
    *n_out = 0;
    if (!query || k == 0 || k > GAL_TOPK_MAX || !out) return ATT_E_INVALID;
    _Alignas(64) float qf[GAL_DIM];
    struct gal_q8 q8;
    if (!gal_normalise(query, qf)) return ATT_E_INVALID;
    gal_q8_prepare(qf, &q8);

    int32_t dots[SCAN_BLOCK];
    struct cand cand[CAND_CAP];
    struct top top[GAL_TOPK_MAX];
    uint32_t chosen[GAL_TOPK_MAX];
    size_t nc = 0, nt = 0;
    float thr = -INFINITY;

    pthread_rwlock_rdlock(&g->lock);
    const struct gal_kernels *kr = g->k;
    const struct gal_row *rw = rows(g);
    for (size_t r0 = 0; r0 < g->n; r0 += SCAN_BLOCK) {
        size_t nb = g->n - r0 < SCAN_BLOCK ? g->n - r0 : SCAN_BLOCK;
        kr->scan(row_codes(g, r0), nb, &q8, dots);
        for (size_t j = 0; j < nb; j++) {
            float s = (float)dots[j] * q8.scale * rw[r0 + j].scale;
            if (s < thr) continue; /* the common case once the first rows set a threshold */
            uint32_t p = rw[r0 + j].person;
            if (!g->people[p].active) continue;
            if (nc == CAND_CAP) nc = cand_compact(g, cand, nc, thr);
            cand[nc++] = (struct cand){(uint32_t)(r0 + j), s};
            top_update(top, &nt, k, p, s);
            if (nt == k) thr = top[k - 1].s - MARGIN;
        }
    }

    /* re-rank the survivors with the fp16 copies (error ~1e-4 against float32) */
    size_t ne = 0;
    for (size_t i = 0; i < nc; i++)
        if (cand[i].s >= thr) cand[ne++] = (struct cand){cand[i].row, kr->dot_f16(row_halves(g, cand[i].row), qf)};
    qsort(cand, ne, sizeof *cand, cand_by_score);
    size_t taken = 0;
    for (size_t i = 0; i < ne && taken < k; i++) {
        uint32_t p = rw[cand[i].row].person;
        size_t j;
        for (j = 0; j < taken && chosen[j] != p; j++) {
        }
        if (j < taken) continue; /* a person counts once, with their best face */
        chosen[taken] = p;
        struct gal_match *m = &out[taken++];
        memcpy(m->person.b, g->people[p].id, ATT_UUID_BYTES);
        memcpy(m->face.b, rw[cand[i].row].face, ATT_UUID_BYTES);
        m->similarity = fminf(1.0f, fmaxf(-1.0f, cand[i].s));
        m->user = g->people[p].user;
    }
    pthread_rwlock_unlock(&g->lock);
    *n_out = taken;
    /* the probe is biometric data too */
    sodium_memzero(qf, sizeof qf);
    sodium_memzero(&q8, sizeof q8);
    return ATT_OK;
}

att_err gal_top1(gal *g, const float query[GAL_DIM], struct gal_match *out)
{
    size_t n;
    att_err e = search(g, query, 1, out, &n);
    if (e == ATT_OK && n == 0) e = ATT_E_NOT_FOUND;
    return e;
}

att_err gal_topk(gal *g, const float query[GAL_DIM], size_t k, struct gal_match *out, size_t *n_out)
{
    size_t n = 0;
    att_err e = search(g, query, k, out, &n);
    if (n_out) *n_out = n;
    return e;
}

att_err gal_person_similarity(gal *g, const char *person_id, const float query[GAL_DIM], float *best, float *worst,
                              size_t *n)
{
    *n = 0;
    att_uuid u;
    if (!person_id || !att_uuid_parse(person_id, &u) || !query) return ATT_E_INVALID;
    _Alignas(64) float qf[GAL_DIM];
    if (!gal_normalise(query, qf)) return ATT_E_INVALID;
    att_err e = ATT_OK;
    pthread_rwlock_rdlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, u.b);
    if (p == NO_ROW) {
        e = ATT_E_NOT_FOUND;
    } else {
        /* a person's rows are not contiguous: one pass over the metadata, enrolment is rare */
        const struct gal_row *rw = rows(g);
        float hi = -INFINITY, lo = INFINITY;
        size_t cnt = 0;
        for (size_t r = 0; r < g->n && cnt < g->people[p].nfaces; r++) {
            if (rw[r].person != p) continue;
            float s = g->k->dot_f16(row_halves(g, r), qf);
            hi = fmaxf(hi, s);
            lo = fminf(lo, s);
            cnt++;
        }
        if (cnt) {
            *best = fminf(1.0f, fmaxf(-1.0f, hi));
            *worst = fminf(1.0f, fmaxf(-1.0f, lo));
        }
        *n = cnt;
    }
    pthread_rwlock_unlock(&g->lock);
    sodium_memzero(qf, sizeof qf);
    return e;
}

/* ---- both models -------------------------------------------------------------------------- */

/* How many templates the person has (ATT_E_NOT_FOUND unknown, ATT_E_INVALID malformed id). */
static att_err person_faces(gal *g, const char *person_id, size_t *n)
{
    att_uuid u;
    if (!att_uuid_parse(person_id, &u)) return ATT_E_INVALID;
    pthread_rwlock_rdlock(&g->lock);
    uint32_t p = umap_get(g, &g->people_ix, person_key, u.b);
    if (p != NO_ROW) *n = g->people[p].nfaces;
    pthread_rwlock_unlock(&g->lock);
    return p != NO_ROW ? ATT_OK : ATT_E_NOT_FOUND;
}

att_err gal_person_fused(gal *g, const char *person_id, const struct gal_face_probe *q, struct gal_fused *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!g || !person_id || !q || !out) return ATT_E_INVALID;
    if (!q->fr && !(q->fr_similarity >= -1.0f && q->fr_similarity <= 1.0f)) return ATT_E_INVALID; /* NaN too */
    att_err e;
    if (q->fr) {
        float worst = 0.0f;
        e = gal_person_similarity(g, person_id, q->fr, &out->similarity, &worst, &out->templates);
    } else {
        /* the person must exist and be counted like an embedding's lookup would */
        out->similarity = q->fr_similarity;
        e = person_faces(g, person_id, &out->templates);
    }
    if (e != ATT_OK) goto fail;
    /* the person's templates may change between the two lookups: each answer holds for its own
       moment, as a search's would */
    if (q->confirm)
        e = gal_person_confirm_similarity(g, person_id, q->confirm, &out->confirm_similarity, &out->confirm_templates);
    else e = gal_person_confirm_count(g, person_id, &out->confirm_templates);
    if (e != ATT_OK) goto fail;
    out->confirmed = q->confirm && out->confirm_templates > 0;
    if (out->confirmed) out->fused = av_fuse_scores(out->similarity, out->confirm_similarity);
    else out->confirm_similarity = 0.0f;
    return ATT_OK;
fail:
    memset(out, 0, sizeof *out);
    return e;
}

/* ---- counters ---------------------------------------------------------------------------- */

size_t gal_face_count(gal *g)
{
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->n;
    pthread_rwlock_unlock(&g->lock);
    return n;
}

size_t gal_person_count(gal *g)
{
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->people_ix.count;
    pthread_rwlock_unlock(&g->lock);
    return n;
}

size_t gal_person_ids(gal *g, att_uuid *out, size_t max)
{
    pthread_rwlock_rdlock(&g->lock);
    size_t n = 0;
    for (size_t i = 0; i < g->people_len; i++) {
        if (!g->people[i].used) continue;
        if (out && n < max) memcpy(out[n].b, g->people[i].id, 16);
        n++;
    }
    pthread_rwlock_unlock(&g->lock);
    return n;
}

size_t gal_bytes(gal *g)
{
    pthread_rwlock_rdlock(&g->lock);
    size_t b = sizeof *g + g->codes.bytes + g->halves.bytes + g->meta.bytes + g->confirm.bytes +
        (g->faces.cap + g->people_ix.cap) * sizeof(uint32_t) +
        g->people_cap * (sizeof(struct gal_person) + sizeof(uint32_t));
    pthread_rwlock_unlock(&g->lock);
    return b;
}

bool gal_locked(gal *g)
{
    pthread_rwlock_rdlock(&g->lock);
    /* an empty gallery has nothing to lock: report whether the regions that exist are locked */
    bool l = (!g->codes.base || g->codes.locked) && (!g->halves.base || g->halves.locked) &&
        (!g->meta.base || g->meta.locked) && (!g->confirm.base || g->confirm.locked);
    pthread_rwlock_unlock(&g->lock);
    return l;
}
