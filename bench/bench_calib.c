/* bench_calib.c: calibration of the match thresholds on LFW (../shared/data/lfw): verification on
 * pairs-dev.txt (accuracy at the shipped threshold and with the threshold chosen per fold), the DET
 * curve (FNMR at FMR 1e-3, 1e-4, 1e-5) on every pair of the 5,373 photos, and an open-set 1:N run:
 * one photo enrolled for each of ~1,000 identities, their other photos as mated probes and ~1,000
 * never-enrolled identities as strangers; detection-and-identification rate (DIR) against
 * false-positive identification rate (FPIR), with and without a margin over the second-best person.
 *
 * Templates are made as `attendctl embed` makes them (av_face_template) and cached in CACHE (a
 * binary file keyed by the photo list and the template rule), so a second run costs seconds.
 * Usage: bench_calib MODELS_DIR DATA_DIR CACHE_FILE [--workers N] [--align lm68|sp5] [--flip on|off]
 * (the confirming chip's alignment and mirror averaging; default AV_CONFIRM_ALIGN_SHIPPED, as the daemon) */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/fuse.h"
#include "attendd/vision.h"

/* Changes whenever the template rule changes (face choice, alignment, models), so a cache made
 * under another rule is not reused. */
#define CALIB_RULE "attendd-template-subject-v2"
#define CALIB_RULE2 "dlib-resnet-v1-chip150-pad025"
#define CALIB_MAGIC "ATTCAL01"
#define NAME_MAX_LEN 96

#define HOSPITAL_N 2000   /* staff enrolled in the hospital the thresholds are chosen for */
#define TARGET_ACC 0.993  /* pairs-dev.txt right at the shipped 1:1 threshold, at least */
#define TARGET_FA 0.001   /* pairs-dev.txt false accepts at that threshold, at most */
#define TARGET_FPIR 0.001 /* strangers matched open-set at the single-photo threshold, at most */
#define NO_SCORE (-1e9f)  /* a pair one of whose photos has no template: a non-match at any threshold */

/* The score under study: each is calibrated, tabulated and run open-set in turn. */
enum score_kind { S_FR, S_CONFIRM, S_FUSED, S__COUNT };
struct scale {
    const char *name;
    float ship_verify;            /* shipped 1:1 threshold (one photo against one claimed person) */
    float ship_photo, ship_frame; /* shipped 1:N thresholds, as vision.h and the tracker defaults carry them */
    const char *ship_how;         /* where those thresholds come from */
    float lo, hi;                 /* range of the score, for the DET histogram */
    float sweep_lo, sweep_step;   /* threshold search: sweep_lo + sweep_step * s, s = 0..1000 */
    float tab_lo, tab_step;       /* printed tables: 14 rows from tab_lo */
    float margins[3];             /* margins over the second-best person, open-set */
};
static const struct scale scales[S__COUNT] = {
    {"fr_feature (cosine similarity)",
     AV_DEFAULT_THRESHOLD,
     AV_DEFAULT_THRESHOLD,
     0.40f,
     "match_threshold, track_match_threshold",
     -1.f,
     1.f,
     0.2f,
     0.0005f,
     0.30f,
     0.025f,
     {0.f, 0.05f, 0.10f}},
    {"dlib ResNet alone (cosine similarity)",
     AV_CONFIRM_THRESHOLD,
     AV_CONFIRM_THRESHOLD,
     AV_CONFIRM_THRESHOLD,
     "dlib's distance 0.6 as a cosine, not shipped alone",
     -1.f,
     1.f,
     0.5f,
     0.0005f,
     0.75f,
     0.0125f,
     {0.f, 0.02f, 0.04f}},
    {"fused (mean of the two z-scores)",
     AV_FUSED_VERIFY_THRESHOLD,
     AV_FUSED_THRESHOLD,
     AV_FUSED_FRAME_THRESHOLD,
     "AV_FUSED_VERIFY_THRESHOLD, AV_FUSED_THRESHOLD, AV_FUSED_FRAME_THRESHOLD",
     -20.f,
     40.f,
     0.f,
     0.01f,
     2.0f,
     0.5f,
     {0.f, 0.5f, 1.0f}},
};
static enum score_kind g_kind; /* the score under study */
#define SHIP_VERIFY (scales[g_kind].ship_verify)
#define SHIP_PHOTO (scales[g_kind].ship_photo)
#define SHIP_FRAME (scales[g_kind].ship_frame)

struct photo {
    char name[NAME_MAX_LEN]; /* "Person_Name/Person_Name_0001.jpg" */
    int person;              /* identity index */
    int ok;                  /* a template was made */
    float *emb;              /* AV_EMBED_DIM floats, into calib.embs */
    int ok2;                 /* a confirming embedding was made (of the same face) */
    float *emb2;             /* AV_CONFIRM_DIM floats, into calib.embs2 */
};

/* The score of two photos under g_kind; NO_SCORE when either lacks the embeddings it needs. */
static float score_of(const struct photo *a, const struct photo *b);

struct calib {
    struct photo *ph;
    size_t n;
    char (*people)[NAME_MAX_LEN];
    int *alias; /* per identity: the index of its other spelling in lfw_aliases, or -1 */
    size_t npeople;
    float *embs;
    float *embs2; /* confirming embeddings */
    const char *data;
    const av_models *models;
    const av_confirm_models *cmodels; /* NULL when the confirming embeddings come from the cache */
    av_confirm_align align;           /* how the confirming model's chip is made (alignment, flip) */
    size_t next;                      /* work queue for the template workers */
    pthread_mutex_t mu;
};

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_calib: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names in dir (no dot files). */
static char **list_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) die("cannot open %s", dir);
    size_t cap = 256;
    char **v = malloc(cap * sizeof *v);
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        if (!v) die("out of memory");
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void find_aliases(struct calib *c);
static bool aliased(const char *a, const char *b);

static void list_photos(struct calib *c)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/lfw/images", c->data);
    size_t np;
    char **people = list_dir(dir, &np);
    c->people = calloc(np, sizeof *c->people);
    size_t cap = 8192;
    c->ph = calloc(cap, sizeof *c->ph);
    for (size_t i = 0; i < np; i++) {
        snprintf(c->people[i], NAME_MAX_LEN, "%s", people[i]);
        char sub[1200];
        snprintf(sub, sizeof sub, "%s/%s", dir, people[i]);
        size_t nf;
        char **files = list_dir(sub, &nf);
        for (size_t k = 0; k < nf; k++) {
            if (c->n == cap) c->ph = realloc(c->ph, (cap *= 2) * sizeof *c->ph);
            struct photo *p = &c->ph[c->n++];
            memset(p, 0, sizeof *p);
            snprintf(p->name, sizeof p->name, "%s/%s", people[i], files[k]);
            p->person = (int)i;
            free(files[k]);
        }
        free(files);
        free(people[i]);
    }
    free(people);
    c->npeople = np;
    find_aliases(c);
    c->embs = calloc(c->n * AV_EMBED_DIM, sizeof *c->embs);
    c->embs2 = calloc(c->n * AV_CONFIRM_DIM, sizeof *c->embs2);
    for (size_t i = 0; i < c->n; i++) {
        c->ph[i].emb = c->embs + i * AV_EMBED_DIM;
        c->ph[i].emb2 = c->embs2 + i * AV_CONFIRM_DIM;
    }
}

/* ---- templates and their cache ------------------------------------------------------------ */

static void *template_worker(void *arg)
{
    struct calib *c = arg;
    av_pipeline *p;
    av_confirm_net *cn = NULL;
    av_err e;
    if (av_pipeline_new(c->models, 0, &p, &e) != AV_OK) die("pipeline: %s", e.msg);
    if (c->cmodels && av_confirm_net_new(c->cmodels, &cn, &e) != AV_OK) die("confirming net: %s", e.msg);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        size_t i = c->next++;
        pthread_mutex_unlock(&c->mu);
        if (i >= c->n) break;
        char path[1200];
        snprintf(path, sizeof path, "%s/lfw/images/%s", c->data, c->ph[i].name);
        av_image *img;
        if (av_image_load(path, 0, &img, &e) != AV_OK) die("%s", e.msg);
        av_face face;
        c->ph[i].ok = av_face_template(p, img, c->ph[i].emb, &face, &e) == AV_OK;
        if (cn && c->ph[i].ok) {
            if (av_confirm_embed(cn, img, &face, c->align, c->ph[i].emb2, &e) != AV_OK)
                die("%s: confirming embedding: %s", c->ph[i].name, e.msg);
            c->ph[i].ok2 = 1;
        }
        av_image_free(img);
        if (i % 500 == 0) fprintf(stderr, "bench_calib: templates %zu/%zu\n", i, c->n);
    }
    av_pipeline_free(p);
    av_confirm_net_free(cn);
    return NULL;
}

/* The cache of one model's embeddings: which = 0 fr_feature (dim AV_EMBED_DIM), 1 the confirming model. */
static int *ok_of(struct photo *p, int which) { return which ? &p->ok2 : &p->ok; }
static float *emb_of(struct photo *p, int which) { return which ? p->emb2 : p->emb; }

static bool cache_read(struct calib *c, const char *file, const char *rule_want, int which)
{
    size_t dim = which ? AV_CONFIRM_DIM : AV_EMBED_DIM;
    FILE *f = fopen(file, "rb");
    if (!f) return false;
    char magic[8], rule[64];
    uint64_t n;
    bool ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, CALIB_MAGIC, 8) && fread(rule, 64, 1, f) == 1 &&
        !strncmp(rule, rule_want, 64) && fread(&n, sizeof n, 1, f) == 1 && n == c->n;
    for (size_t i = 0; ok && i < c->n; i++) {
        char name[NAME_MAX_LEN];
        int32_t good;
        ok = fread(name, NAME_MAX_LEN, 1, f) == 1 && !strncmp(name, c->ph[i].name, NAME_MAX_LEN) &&
            fread(&good, sizeof good, 1, f) == 1 && fread(emb_of(&c->ph[i], which), sizeof(float), dim, f) == dim;
        *ok_of(&c->ph[i], which) = good;
    }
    fclose(f);
    return ok;
}

static void cache_write(struct calib *c, const char *file, const char *rule_want, int which)
{
    size_t dim = which ? AV_CONFIRM_DIM : AV_EMBED_DIM;
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "wb");
    if (!f) die("cannot write %s", tmp);
    char rule[64] = {0};
    snprintf(rule, sizeof rule, "%s", rule_want);
    uint64_t n = c->n;
    fwrite(CALIB_MAGIC, 8, 1, f);
    fwrite(rule, 64, 1, f);
    fwrite(&n, sizeof n, 1, f);
    for (size_t i = 0; i < c->n; i++) {
        char name[NAME_MAX_LEN] = {0};
        snprintf(name, sizeof name, "%s", c->ph[i].name);
        int32_t good = *ok_of(&c->ph[i], which);
        fwrite(name, NAME_MAX_LEN, 1, f);
        fwrite(&good, sizeof good, 1, f);
        fwrite(emb_of(&c->ph[i], which), sizeof(float), dim, f);
    }
    if (fclose(f) != 0 || rename(tmp, file) != 0) die("cannot write %s", file);
}

/* Both models' embeddings, from the caches CACHE and CACHE.<confirm rule> when they hold them. */
static void templates(struct calib *c, const char *models_dir, const char *cache, int workers)
{
    char rule2[64], cache2[1200];
    const bool sp5 = (c->align & ~AV_CONFIRM_FLIP) == AV_CONFIRM_ALIGN_SP5;
    snprintf(rule2, sizeof rule2, "%s-%s%s", CALIB_RULE2, sp5 ? "sp5" : "lm68",
             c->align & AV_CONFIRM_FLIP ? "-flip" : "");
    snprintf(cache2, sizeof cache2, "%s.%s", cache, rule2);
    bool have1 = cache_read(c, cache, CALIB_RULE, 0), have2 = cache_read(c, cache2, rule2, 1);
    if (have1) fprintf(stderr, "bench_calib: templates from %s\n", cache);
    if (have2) fprintf(stderr, "bench_calib: confirming embeddings from %s\n", cache2);
    if (have1 && have2) return;
    av_err e;
    av_models *m;
    av_confirm_models *cm = NULL;
    if (av_set_num_threads(1, &e) != AV_OK || av_models_load(models_dir, 0, &m, &e) != AV_OK) die("models: %s", e.msg);
    if (av_confirm_models_load(models_dir, sp5 ? AV_CONFIRM_LOAD_SP5 : 0, &cm, &e) != AV_OK)
        die("confirming model: %s", e.msg);
    c->models = m;
    c->cmodels = cm;
    pthread_mutex_init(&c->mu, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t th[8];
    for (int i = 0; i < workers; i++) pthread_create(&th[i], NULL, template_worker, c);
    for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "bench_calib: %zu templates in %.0f s with %d workers (shared machine)\n", c->n,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, workers);
    av_models_free(m);
    av_confirm_models_free(cm);
    c->cmodels = NULL;
    cache_write(c, cache, CALIB_RULE, 0);
    cache_write(c, cache2, rule2, 1);
}

/* ---- verification on pairs-dev.txt --------------------------------------------------------- */

static int find_photo(const struct calib *c, const char *person, int num)
{
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s/%s_%04d.jpg", person, person, num);
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(c->ph[mid].name, name);
        if (r == 0) return (int)mid;
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

struct pair {
    float score; /* NO_SCORE when a photo has no template: counted as a non-match */
    bool same;
    int fold;
};

static float pair_score(const struct calib *c, int a, int b)
{
    if (a < 0 || b < 0) die("pairs-dev.txt names a photo not in lfw/images");
    return score_of(&c->ph[a], &c->ph[b]);
}

static double acc_at(const struct pair *p, size_t n, int fold, bool in_fold, float t)
{
    size_t right = 0, all = 0;
    for (size_t i = 0; i < n; i++) {
        if ((p[i].fold == fold) != in_fold) continue;
        all++;
        right += (p[i].score >= t) == p[i].same;
    }
    return all ? (double)right / (double)all : 0.0;
}

static void verification(const struct calib *c)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/lfw/pairs-dev.txt", c->data);
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open %s", path);
    int folds, per;
    if (fscanf(f, "%d %d", &folds, &per) != 2) die("%s: bad header", path);
    size_t n = (size_t)folds * (size_t)per * 2, k = 0;
    struct pair *p = calloc(n, sizeof *p);
    for (int fo = 0; fo < folds; fo++)
        for (int j = 0; j < 2 * per; j++, k++) {
            char a[NAME_MAX_LEN], b[NAME_MAX_LEN];
            int x, y;
            if (j < per) {
                if (fscanf(f, "%95s %d %d", a, &x, &y) != 3) die("%s: bad same-person line", path);
                p[k].score = pair_score(c, find_photo(c, a, x), find_photo(c, a, y));
                p[k].same = true;
            } else {
                if (fscanf(f, "%95s %d %95s %d", a, &x, b, &y) != 4) die("%s: bad different-person line", path);
                p[k].score = pair_score(c, find_photo(c, a, x), find_photo(c, b, y));
                p[k].same = false;
            }
            p[k].fold = fo;
        }
    fclose(f);

    size_t nsame = 0, ndiff = 0, notempl = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].score == NO_SCORE) notempl++;
        if (p[i].same) nsame++;
        else ndiff++;
    }
    /* the impostor distribution the z-scores of av_fuse_scores() are normalised by */
    double isum = 0, isq = 0, gsum = 0;
    size_t ni = 0, ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].score == NO_SCORE) continue;
        if (p[i].same) gsum += p[i].score, ng++;
        else isum += p[i].score, isq += (double)p[i].score * p[i].score, ni++;
    }
    double imean = ni ? isum / (double)ni : 0, istd = ni ? sqrt(isq / (double)ni - imean * imean) : 0;
    printf("## Verification: pairs-dev.txt, %d folds, %zu pairs (%zu same, %zu different); %zu pairs lack a template\n",
           folds, n, nsame, ndiff, notempl);
    const float ship[2] = {SHIP_VERIFY, SHIP_PHOTO};
    const char *what[2] = {"1:1", "single-photo 1:N"};
    for (int s = 0; s < 2; s++) {
        if (s == 1 && SHIP_PHOTO == SHIP_VERIFY) break;
        size_t fa = 0, fr = 0;
        for (size_t i = 0; i < n; i++)
            if (p[i].same) fr += p[i].score < ship[s];
            else fa += p[i].score >= ship[s];
        double acc = acc_at(p, n, -1, false, ship[s]), far = (double)fa / (double)ndiff;
        printf("shipped %s threshold %.2f: %.2f%% right (target >= %.2f%%: %s); false accepts %zu/%zu (%.3f%%, target"
               " <= %.1f%%: %s), false rejects %zu/%zu (%.2f%%)\n",
               what[s], (double)ship[s], 100.0 * acc, 100.0 * TARGET_ACC, acc >= TARGET_ACC - 1e-9 ? "met" : "NOT met",
               fa, ndiff, 100.0 * far, 100.0 * TARGET_FA, far <= TARGET_FA + 1e-9 ? "met" : "NOT met", fr, nsame,
               100.0 * (double)fr / (double)nsame);
        printf("  per fold at %.2f:", (double)ship[s]);
        for (int fo = 0; fo < folds; fo++) printf(" %.2f%%", 100.0 * acc_at(p, n, fo, true, ship[s]));
        printf("\n");
    }
    /* threshold chosen on the other folds, accuracy on this one */
    double sum = 0.0;
    printf("impostor pairs' score: mean %.4f, standard deviation %.4f (%zu pairs); genuine pairs' mean %.4f\n", imean,
           istd, ni, ng ? gsum / (double)ng : 0.0);
    printf("per fold (threshold chosen on the other folds):");
    for (int fo = 0; fo < folds; fo++) {
        float best_t = 0.f;
        double best = -1.0;
        for (int s = 0; s <= 1000; s++) {
            float t = scales[g_kind].sweep_lo + scales[g_kind].sweep_step * (float)s;
            double a = acc_at(p, n, fo, false, t);
            if (a > best) best = a, best_t = t;
        }
        double a = acc_at(p, n, fo, true, best_t);
        sum += a;
        printf(" %.3f->%.2f%%", (double)best_t, 100.0 * a);
    }
    printf("\nbest-per-fold accuracy: %.2f%%\n", 100.0 * sum / folds);
    printf("threshold  right%%  false-accepts  false-rejects\n");
    for (int row = 0; row < 14; row++) {
        float t = scales[g_kind].tab_lo + scales[g_kind].tab_step * (float)row;
        size_t a = 0, r = 0;
        for (size_t i = 0; i < n; i++)
            if (p[i].same) r += p[i].score < t;
            else a += p[i].score >= t;
        printf("%9.3f  %6.2f  %13zu  %13zu\n", (double)t, 100.0 * acc_at(p, n, -1, false, t), a, r);
    }
    free(p);
}

/* ---- DET on every pair of photos ----------------------------------------------------------- */

#define HBINS 6000 /* the score's range (cosine -1..1 in steps of 0.00033) */
static int hbin(float s)
{
    const struct scale *k = &scales[g_kind];
    int b = (int)floorf((s - k->lo) / (k->hi - k->lo) * HBINS);
    return b < 0 ? 0 : b >= HBINS ? HBINS - 1 : b;
}
static float hval(int b) { return scales[g_kind].lo + (float)b / HBINS * (scales[g_kind].hi - scales[g_kind].lo); }

/* Lowest threshold (bin edge) whose tail at or above it holds at most rate of total. */
static int tail_bin(const uint64_t *h, uint64_t total, double rate)
{
    uint64_t tail = 0;
    for (int b = HBINS - 1; b >= 0; b--) {
        if ((double)(tail + h[b]) > rate * (double)total) return b + 1;
        tail += h[b];
    }
    return 0;
}

static double frac_below(const uint64_t *h, uint64_t total, int bin)
{
    uint64_t below = 0;
    for (int b = 0; b < bin; b++) below += h[b];
    return (double)below / (double)total;
}

static double frac_from(const uint64_t *h, uint64_t total, int bin) { return 1.0 - frac_below(h, total, bin); }

static void det(const struct calib *c)
{
    uint64_t *gen = calloc(HBINS, sizeof *gen), *imp = calloc(HBINS, sizeof *imp), ng = 0, ni = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (score_of(&c->ph[i], &c->ph[i]) == NO_SCORE) continue;
        for (size_t j = i + 1; j < c->n; j++) {
            float sc = score_of(&c->ph[i], &c->ph[j]);
            if (sc == NO_SCORE) continue;
            int b = hbin(sc);
            int pi = c->ph[i].person, pj = c->ph[j].person;
            if (c->alias[pi] == pj) continue; /* one person under two names: neither kind of pair */
            if (pi == pj) gen[b]++, ng++;
            else imp[b]++, ni++;
        }
    }
    printf("\n## DET: every pair of the photos with a template: %" PRIu64 " genuine, %" PRIu64 " impostor pairs\n", ng,
           ni);
    printf("FMR      threshold  FNMR\n");
    const double fmr[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    for (size_t k = 0; k < sizeof fmr / sizeof fmr[0]; k++) {
        int b = tail_bin(imp, ni, fmr[k]);
        printf("%-8.0e %9.4f  %6.2f%%\n", fmr[k], (double)hval(b), 100.0 * frac_below(gen, ng, b));
    }
    const float ship[3] = {SHIP_VERIFY, SHIP_PHOTO, SHIP_FRAME};
    const char *what[3] = {"1:1", "single photo", "per frame"};
    for (int s = 0; s < 3; s++) {
        int b = hbin(ship[s] + 1e-6f);
        double fm = frac_from(imp, ni, b);
        printf("shipped %s %.2f: FMR %.2e, FNMR %.2f%%; a stranger against %d enrolled, 1-(1-FMR)^%d: %.2f%%\n",
               what[s], (double)ship[s], fm, 100.0 * frac_below(gen, ng, b), HOSPITAL_N, HOSPITAL_N,
               100.0 * (1.0 - pow(1.0 - fm, HOSPITAL_N)));
    }
    printf("threshold  FMR        FNMR\n");
    for (int row = 0; row < 14; row++) {
        float t = scales[g_kind].tab_lo + scales[g_kind].tab_step * (float)row;
        int b = hbin(t + 1e-6f);
        printf("%9.3f  %-9.2e  %6.2f%%\n", (double)t, frac_from(imp, ni, b), 100.0 * frac_below(gen, ng, b));
    }
    free(gen);
    free(imp);
}

/* ---- open-set 1:N -------------------------------------------------------------------------- */

/* Identities LFW lists twice under two spellings: the same person, so not a stranger to the other. */
static const char *const lfw_aliases[][2] = {
    {"Dai_Chul_Chyung", "Chyung_Dai-chul"},
    {"Hasan_Wirayuda", "Hassan_Wirajuda"},
};

static bool aliased(const char *a, const char *b)
{
    for (size_t i = 0; i < sizeof lfw_aliases / sizeof lfw_aliases[0]; i++)
        if ((!strcmp(a, lfw_aliases[i][0]) && !strcmp(b, lfw_aliases[i][1])) ||
            (!strcmp(a, lfw_aliases[i][1]) && !strcmp(b, lfw_aliases[i][0])))
            return true;
    return false;
}

static void find_aliases(struct calib *c)
{
    c->alias = malloc(c->npeople * sizeof *c->alias);
    for (size_t i = 0; i < c->npeople; i++) {
        c->alias[i] = -1;
        for (size_t j = 0; j < c->npeople; j++)
            if (aliased(c->people[i], c->people[j])) c->alias[i] = (int)j;
    }
}

struct probe {
    bool mated;
    int photo, match; /* the probe photo, the enrolled identity of its top-1 */
    float top1, top2; /* best and second-best similarity over enrolled people */
    bool right;       /* top-1 is the probe's own identity */
};

static double rate(size_t k, size_t n) { return n ? (double)k / (double)n : 0.0; }

/* Probes passing threshold t and margin m: mated ones found right, non-mated ones matched. */
static void count(const struct probe *pr, size_t n, float t, float m, size_t *dir, size_t *fpi)
{
    *dir = *fpi = 0;
    for (size_t i = 0; i < n; i++) {
        bool pass = pr[i].top1 >= t && pr[i].top1 - pr[i].top2 >= m;
        if (pr[i].mated) *dir += pass && pr[i].right;
        else *fpi += pass;
    }
}

/* FPIR with HOSPITAL_N enrolled, from the rate with n_enr enrolled: each enrolled person is one
 * more chance for a stranger to be matched, independently. */
static double fpir_at_hospital(double fpir, size_t n_enr)
{
    return 1.0 - pow(1.0 - fpir, (double)HOSPITAL_N / (double)n_enr);
}

static void open_set(const struct calib *c)
{
    /* first photo and count per identity */
    int *first = malloc(c->npeople * sizeof *first), *cnt = calloc(c->npeople, sizeof *cnt);
    for (size_t i = 0; i < c->npeople; i++) first[i] = -1;
    for (size_t i = 0; i < c->n; i++) {
        int id = c->ph[i].person;
        if (first[id] < 0) first[id] = (int)i;
        cnt[id]++;
    }
    /* enrolled: every identity with two photos or more (their other photos are the mated probes),
     * plus every fourth... of the single-photo identities up to 1,000 strangers left over */
    size_t singles = 0;
    for (size_t i = 0; i < c->npeople; i++) singles += cnt[i] == 1;
    const size_t want_strangers = 1000 < singles ? 1000 : singles;
    signed char *role = calloc(c->npeople, 1); /* 1 enrolled, 2 stranger */
    size_t k = 0;
    for (size_t i = 0; i < c->npeople; i++) {
        if (cnt[i] > 1) {
            role[i] = 1;
            continue;
        }
        /* spread the strangers evenly over the alphabet */
        bool stranger = (k + 1) * want_strangers / singles > k * want_strangers / singles;
        role[i] = stranger ? 2 : 1;
        k++;
    }
    size_t aliased_out = 0;
    for (size_t i = 0; i < c->npeople; i++)
        if (role[i] == 2 && c->alias[i] >= 0 && role[c->alias[i]] == 1) role[i] = 0, aliased_out++;
    size_t n_enr = 0;
    int *gal_id = malloc(c->npeople * sizeof *gal_id), *gal = malloc(c->npeople * sizeof *gal);
    size_t lost_enrol = 0;
    for (size_t i = 0; i < c->npeople; i++) {
        if (role[i] != 1) continue;
        if (score_of(&c->ph[first[i]], &c->ph[first[i]]) == NO_SCORE) {
            role[i] = 0; /* no template from the enrolment photo: not enrolled, not probed */
            lost_enrol++;
            continue;
        }
        gal[n_enr] = first[i];
        gal_id[n_enr++] = (int)i;
    }
    struct probe *pr = calloc(c->n, sizeof *pr);
    size_t np = 0, nm = 0, nn = 0, probe_lost = 0;
    for (size_t i = 0; i < c->n; i++) {
        int id = c->ph[i].person;
        bool mated = role[id] == 1 && (int)i != first[id];
        if (!mated && role[id] != 2) continue;
        struct probe *q = &pr[np++];
        q->mated = mated;
        q->photo = (int)i;
        q->top1 = q->top2 = NO_SCORE;
        if (score_of(&c->ph[i], &c->ph[i]) == NO_SCORE) { /* no face found: neither identified nor matched */
            probe_lost++;
            mated ? nm++ : nn++;
            continue;
        }
        int best = -1;
        for (size_t g = 0; g < n_enr; g++) {
            float s = score_of(&c->ph[i], &c->ph[gal[g]]);
            if (s > q->top1) q->top2 = q->top1, q->top1 = s, best = gal_id[g];
            else if (s > q->top2) q->top2 = s;
        }
        q->right = best == id;
        q->match = best;
        mated ? nm++ : nn++;
    }
    printf("\n## Open-set 1:N: %zu identities enrolled with one photo (their _0001; %zu more had no face found),"
           " %zu mated probes (their other photos), %zu non-mated probes (never-enrolled identities; %zu left out:"
           " LFW has them under another spelling among the enrolled); %zu probes had no face found\n",
           n_enr, lost_enrol, nm, nn, aliased_out, probe_lost);
    size_t rank1 = 0;
    for (size_t i = 0; i < np; i++) rank1 += pr[i].mated && pr[i].right;
    printf("rank-1 (no threshold): %.2f%%\n", 100.0 * rate(rank1, nm));
    printf("FPIR(%zu) extrapolated to %d enrolled: 1-(1-FPIR)^(%d/%zu)\n", n_enr, HOSPITAL_N, HOSPITAL_N, n_enr);
    const float ship[2] = {SHIP_PHOTO, SHIP_FRAME};
    const char *what[2] = {"single photo (match_threshold)", "per frame (track_match_threshold)"};
    for (int s = 0; s < 2; s++) {
        size_t d, f;
        count(pr, np, ship[s], 0.0f, &d, &f);
        printf("shipped %s %.2f: right person found (DIR) %.2f%%; strangers matched (FPIR) %.2f%% (%zu/%zu)%s, at %d"
               " about %.2f%%\n",
               what[s], (double)ship[s], 100.0 * rate(d, nm), 100.0 * rate(f, nn), f, nn,
               s                                ? ""
                   : rate(f, nn) <= TARGET_FPIR ? " (target <= 0.1%: met)"
                                                : " (target <= 0.1%: NOT met)",
               HOSPITAL_N, 100.0 * fpir_at_hospital(rate(f, nn), n_enr));
    }
    const float shown = SHIP_PHOTO + 2.f * scales[g_kind].tab_step;
    printf("strangers matched at %.3f or more (top-1, second-best):\n", (double)shown);
    for (size_t i = 0; i < np; i++)
        if (!pr[i].mated && pr[i].top1 >= shown)
            printf("  %s -> %s %.3f, %.3f\n", c->ph[pr[i].photo].name, c->people[pr[i].match], (double)pr[i].top1,
                   (double)pr[i].top2);
    for (size_t mi = 0; mi < 3; mi++) {
        float m = scales[g_kind].margins[mi];
        printf("margin %.2f over the second-best person:\n", (double)m);
        const double targets[] = {1e-2, 1e-3};
        for (size_t ti = 0; ti < 2; ti++) {
            /* lowest threshold with FPIR <= target */
            float best_t = scales[g_kind].sweep_lo + scales[g_kind].sweep_step * 1000.f;
            for (int s = 1000; s >= 0; s--) {
                float t = scales[g_kind].sweep_lo + scales[g_kind].sweep_step * (float)s;
                size_t d, f;
                count(pr, np, t, m, &d, &f);
                if (rate(f, nn) > targets[ti]) break;
                best_t = t;
            }
            size_t d, f;
            count(pr, np, best_t, m, &d, &f);
            printf("  at FPIR %-5g threshold %.4f  DIR %.2f%%  (FPIR %.3f%%)\n", targets[ti], (double)best_t,
                   100.0 * rate(d, nm), 100.0 * rate(f, nn));
        }
        printf("  threshold  DIR%%    FPIR%%  (matched/%zu)  FPIR%% at %d\n", nn, HOSPITAL_N);
        for (int row = 0; row < 14; row++) {
            float t = scales[g_kind].tab_lo + scales[g_kind].tab_step * (float)row;
            size_t d, f;
            count(pr, np, t, m, &d, &f);
            printf("  %9.3f  %6.2f  %6.2f  (%4zu)        %6.2f\n", (double)t, 100.0 * rate(d, nm), 100.0 * rate(f, nn),
                   f, 100.0 * fpir_at_hospital(rate(f, nn), n_enr));
        }
    }
    free(first);
    free(cnt);
    free(role);
    free(gal_id);
    free(gal);
    free(pr);
}

static float score_of(const struct photo *a, const struct photo *b)
{
    switch (g_kind) {
    case S_FR: return a->ok && b->ok ? av_similarity(a->emb, b->emb) : NO_SCORE;
    case S_CONFIRM: return a->ok2 && b->ok2 ? av_confirm_similarity(a->emb2, b->emb2) : NO_SCORE;
    default:
        return a->ok && b->ok && a->ok2 && b->ok2
            ? av_fuse_scores(av_similarity(a->emb, b->emb), av_confirm_similarity(a->emb2, b->emb2))
            : NO_SCORE;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr,
                "usage: bench_calib MODELS_DIR DATA_DIR CACHE_FILE [--workers N] [--align lm68|sp5] [--flip on|off]\n");
        return 2;
    }
    int workers = 2;
    struct calib c;
    memset(&c, 0, sizeof c);
    int align = AV_CONFIRM_ALIGN_SHIPPED & ~AV_CONFIRM_FLIP, flip = AV_CONFIRM_ALIGN_SHIPPED & AV_CONFIRM_FLIP;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--workers")) workers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--align") && !strcmp(argv[i + 1], "sp5")) align = AV_CONFIRM_ALIGN_SP5;
        else if (!strcmp(argv[i], "--align") && !strcmp(argv[i + 1], "lm68")) align = AV_CONFIRM_ALIGN_LM68;
        else if (!strcmp(argv[i], "--flip") && !strcmp(argv[i + 1], "on")) flip = AV_CONFIRM_FLIP;
        else if (!strcmp(argv[i], "--flip") && !strcmp(argv[i + 1], "off")) flip = 0;
        else die("unknown option %s %s", argv[i], argv[i + 1]);
    }
    c.align = (av_confirm_align)(align | flip);
    if (workers < 1 || workers > 8) workers = 1;
    c.data = argv[2];
    list_photos(&c);
    templates(&c, argv[1], argv[3], workers);
    size_t ok = 0;
    for (size_t i = 0; i < c.n; i++) ok += c.ph[i].ok;
    printf("# LFW (deep-funneled) in %s/lfw: %zu photos of %zu identities, a template for %zu"
           " (av_face_template: the subject face)\n",
           c.data, c.n, c.npeople, ok);
    for (int k = 0; k < S__COUNT; k++) {
        g_kind = (enum score_kind)k;
        printf("\n# Score: %s; shipped thresholds %.3f single photo, %.3f per frame (%s)\n", scales[k].name,
               (double)SHIP_PHOTO, (double)SHIP_FRAME, scales[k].ship_how);
        if (k != S_FR)
            printf("confirming chip: %s alignment%s%s\n", align == AV_CONFIRM_ALIGN_SP5 ? "sp5" : "lm68",
                   flip ? ", mirror averaged" : "",
                   c.align == AV_CONFIRM_ALIGN_SHIPPED ? " (AV_CONFIRM_ALIGN_SHIPPED)" : " (NOT the shipped chip)");
        if (k == S_FUSED)
            printf("z-normalisation (fuse.h): fr_feature mean %.4f sd %.4f, dlib mean %.4f sd %.4f\n",
                   (double)AV_FUSE_FR_MEAN, (double)AV_FUSE_FR_SD, (double)AV_FUSE_CONFIRM_MEAN,
                   (double)AV_FUSE_CONFIRM_SD);
        verification(&c);
        det(&c);
        open_set(&c);
        fflush(stdout);
    }
    return 0;
}
