/* bench_confirm.c: track decisions on a walk-by clip with many people enrolled (bench/confirm.sh): the
 * clip's walkers enrolled with their photos (both models), plus N distractor identities from LFW (the
 * `_0001` photos' templates from bench_calib's caches), the clip's frames sampled at F fps, detected,
 * embedded and tracked offline as the analysis stage does (tracker, margin, confirmation by the
 * confirming model through src/analysis/confirm.c). Every frame is analysed once and cached, then the
 * clip is played P times, each play sampled at another phase (play k starts k/P of a sampling interval
 * later), so each play's frames differ.
 * Usage: bench_confirm --models DIR --data DIR --clip CLIP.mp4 --cache FILE [--distractors N] [--plays P]
 *        [--fps F] [--min-face PX] [--threshold T] [--header]
 * The ground truth is CLIP.json: walkers (label, t, t_end, image: the LFW photo the walker was made
 * from), enrol (label -> photo relative to DATA). A decision belongs to the walker its track's crops
 * resemble most (fr similarity to the walker's own source photo, among the walkers on screen then). */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/fuse.h"
#include "attendd/gallery.h"
#include "attendd/tracker.h"
#include "attendd/uuid.h"
#include "attendd/vision.h"
#include "src/analysis/pipeline_internal.h"

#define MAX_WALKERS 32
#define MAX_FACES 16
#define NAME_LEN 96
#define CALIB_MAGIC "ATTCAL01"
#define CALIB_RULE "attendd-template-subject-v2"
#define CALIB_RULE2 "dlib-resnet-v1-chip150-pad025-lm68"
#define COOLDOWN_S 120.0 /* the rules' default: one event per person per pass */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_confirm: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

struct walker {
    char label[NAME_LEN];
    double t, t_end;         /* on screen, clip seconds */
    bool enrolled;           /* in CLIP.json's enrol */
    float src[AV_EMBED_DIM]; /* template of the photo the walker was made from (the oracle) */
    att_uuid id;             /* enrolled: the person's id */
};
static struct walker W[MAX_WALKERS];
static size_t NW, NENROLLED;

/* One analysed frame: its faces with landmarks, both embeddings, liveness, and whose face it is. */
struct cframe {
    size_t n;
    av_face face[MAX_FACES];
    float emb[MAX_FACES][AV_EMBED_DIM];
    float conf[MAX_FACES][AV_CONFIRM_DIM]; /* confirming embedding, made when first asked for */
    bool have_conf[MAX_FACES];
    av_image *crop[MAX_FACES]; /* the face with room around it, for that embedding */
    av_face cface[MAX_FACES];  /* the face in crop's coordinates */
    float live[MAX_FACES];
    int walker[MAX_FACES]; /* index into W, -1 when no walker is on screen */
};
static struct cframe *FR;
static size_t NFRAMES;
static av_confirm_net *CN;
static double CLIP_FPS;
static int CLIP_W, CLIP_H; /* frame size, from CLIP.json */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load_truth(const char *clip, const char *data, av_pipeline *vp)
{
    char path[1200];
    snprintf(path, sizeof path, "%.*s.json", (int)(strlen(clip) - 4), clip);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) die("%s: %s", path, je.text);
    CLIP_FPS = json_number_value(json_object_get(j, "fps"));
    CLIP_W = (int)json_integer_value(json_object_get(j, "width"));
    CLIP_H = (int)json_integer_value(json_object_get(j, "height"));
    if (CLIP_FPS <= 0 || CLIP_W <= 0 || CLIP_H <= 0) die("%s: fps, width and height are required", path);
    json_t *enrol = json_object_get(j, "enrol"), *ws = json_object_get(j, "walkers"), *w;
    size_t i;
    json_array_foreach(ws, i, w)
    {
        if (NW == MAX_WALKERS) die("too many walkers");
        struct walker *x = &W[NW++];
        snprintf(x->label, sizeof x->label, "%s", json_string_value(json_object_get(w, "label")));
        x->t = json_number_value(json_object_get(w, "t"));
        x->t_end = json_number_value(json_object_get(w, "t_end"));
        x->enrolled = json_object_get(enrol, x->label) != NULL;
        NENROLLED += x->enrolled;
        snprintf(path, sizeof path, "%s/lfw/images/%s/%s", data, x->label,
                 json_string_value(json_object_get(w, "image")));
        av_image *img;
        av_err e;
        av_face f;
        if (av_image_load(path, 0, &img, &e) != AV_OK || av_face_template(vp, img, x->src, &f, &e) != AV_OK)
            die("%s: %s", path, e.msg);
        av_image_free(img);
        snprintf(path, sizeof path, "00000000-0000-4000-8000-%012zx", NW);
        att_uuid_parse(path, &x->id);
    }
    json_decref(j);
}

/* Enrol the clip's enrolled walkers from their enrolment photos, with both models. */
static void enrol_walkers(gal *g, const char *clip, const char *data, av_pipeline *vp, av_confirm_net *cn)
{
    char path[1200];
    snprintf(path, sizeof path, "%.*s.json", (int)(strlen(clip) - 4), clip);
    json_t *j = json_load_file(path, 0, NULL);
    json_t *enrol = json_object_get(j, "enrol");
    for (size_t i = 0; i < NW; i++) {
        if (!W[i].enrolled) continue;
        snprintf(path, sizeof path, "%s/%s", data, json_string_value(json_object_get(enrol, W[i].label)));
        av_image *img;
        av_err e;
        av_face f;
        float emb[AV_EMBED_DIM], conf[AV_CONFIRM_DIM];
        if (av_image_load(path, 0, &img, &e) != AV_OK || av_face_template(vp, img, emb, &f, &e) != AV_OK ||
            av_confirm_embed(cn, img, &f, AV_CONFIRM_ALIGN_SHIPPED, conf, &e) != AV_OK)
            die("%s: %s", path, e.msg);
        av_image_free(img);
        char pid[ATT_UUID_STR];
        att_uuid_format(&W[i].id, pid);
        if (gal_face_add(g, pid, pid, emb) != ATT_OK || gal_face_set_confirm(g, pid, conf) != ATT_OK)
            die("gallery refused %s", W[i].label);
    }
    json_decref(j);
}

/* ---- distractors from bench_calib's caches ------------------------------------------------- */

struct cache {
    size_t n;
    char (*name)[NAME_LEN];
    int32_t *good;
    float *v; /* n x dim */
};

static bool cache_read(const char *file, const char *rule, size_t dim, struct cache *c)
{
    FILE *f = fopen(file, "rb");
    if (!f) return false;
    char magic[8], r[64];
    uint64_t n;
    bool ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, CALIB_MAGIC, 8) && fread(r, 64, 1, f) == 1 &&
        !strncmp(r, rule, 64) && fread(&n, sizeof n, 1, f) == 1 && n < 1000000;
    if (ok) {
        c->n = n;
        c->name = calloc(n, sizeof *c->name);
        c->good = calloc(n, sizeof *c->good);
        c->v = calloc(n * dim, sizeof *c->v);
        if (!c->name || !c->good || !c->v) die("out of memory");
        for (size_t i = 0; ok && i < n; i++)
            ok = fread(c->name[i], NAME_LEN, 1, f) == 1 && fread(&c->good[i], sizeof *c->good, 1, f) == 1 &&
                fread(c->v + i * dim, sizeof(float), dim, f) == dim;
    }
    fclose(f);
    return ok;
}

static bool is_walker(const char *name)
{
    for (size_t i = 0; i < NW; i++) {
        size_t l = strlen(W[i].label);
        if (!strncmp(name, W[i].label, l) && name[l] == '/') return true;
    }
    return false;
}

/* The `_0001` photo of the first n LFW identities that are not walkers of the clip, both models. */
static size_t enrol_distractors(gal *g, const struct cache *fr, const struct cache *cf, size_t n)
{
    if (fr->n != cf->n) die("the two caches hold different photo lists");
    size_t done = 0;
    for (size_t i = 0; i < fr->n && done < n; i++) {
        const char *nm = fr->name[i];
        if (strcmp(nm, cf->name[i]) != 0) die("the two caches hold different photo lists");
        if (!strstr(nm, "_0001.") || !fr->good[i] || !cf->good[i] || is_walker(nm)) continue;
        char pid[ATT_UUID_STR];
        snprintf(pid, sizeof pid, "00000000-0000-4000-9000-%012zx", done + 1);
        if (gal_face_add(g, pid, pid, fr->v + i * AV_EMBED_DIM) != ATT_OK ||
            gal_face_set_confirm(g, pid, cf->v + i * AV_CONFIRM_DIM) != ATT_OK)
            die("gallery refused distractor %s", nm);
        done++;
    }
    return done;
}

/* ---- one pass over the clip: every frame analysed once ------------------------------------ */

static void analyse_clip(const char *clip, int min_face, av_pipeline *vp)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt bgr24 -", clip);
    FILE *pf = popen(cmd, "r");
    if (!pf) die("cannot run ffmpeg");
    int w = CLIP_W, h = CLIP_H;
    size_t bytes = (size_t)w * h * 3, cap = 1024;
    uint8_t *buf = malloc(bytes);
    FR = calloc(cap, sizeof *FR);
    if (!buf || !FR) die("out of memory");
    double t0 = mono_s();
    while (fread(buf, 1, bytes, pf) == bytes) {
        if (NFRAMES == cap) die("clip longer than %zu frames", cap);
        struct cframe *c = &FR[NFRAMES];
        double ts = (double)NFRAMES / CLIP_FPS;
        av_image *img;
        av_err e;
        av_detect_opts o;
        av_detect_opts_init(&o);
        o.min_face_px = min_face;
        o.landmarks = 1;
        if (av_image_wrap_bgr(buf, w, h, (size_t)w * 3, &img, &e) != AV_OK ||
            av_detect(vp, img, NULL, &o, c->face, MAX_FACES, &c->n, &e) != AV_OK)
            die("frame %zu: %s", NFRAMES, e.msg);
        if (c->n > MAX_FACES) c->n = MAX_FACES;
        if (c->n) {
            av_crop crops[MAX_FACES];
            for (size_t i = 0; i < c->n; i++)
                if (av_align(img, &c->face[i], &crops[i], &e) != AV_OK) die("align: %s", e.msg);
            if (av_embed(vp, crops, c->n, &c->emb[0][0], &e) != AV_OK ||
                av_liveness(vp, img, c->face, c->n, c->live, &e) != AV_OK)
                die("frame %zu: %s", NFRAMES, e.msg);
            for (size_t i = 0; i < c->n; i++) {
                /* keep the face with twice its size around it (dlib's chip reaches 1.5x with its
                   padding), clipped to the frame: the confirming embedding is made only if asked */
                const av_face *f = &c->face[i];
                float fw = f->box.x2 - f->box.x1, fh = f->box.y2 - f->box.y1, m = 2.0f * (fw > fh ? fw : fh);
                int x0 = (int)fmaxf(0.0f, f->box.x1 - m), y0 = (int)fmaxf(0.0f, f->box.y1 - m);
                int x1 = (int)fminf((float)w, f->box.x2 + m), y1 = (int)fminf((float)h, f->box.y2 + m);
                if (av_image_from_bgr(buf + ((size_t)y0 * w + x0) * 3, x1 - x0, y1 - y0, (size_t)w * 3, &c->crop[i],
                                      &e) != AV_OK)
                    die("crop: %s", e.msg);
                c->cface[i] = *f;
                av_face *cf = &c->cface[i];
                cf->box.x1 -= x0, cf->box.x2 -= x0, cf->box.y1 -= y0, cf->box.y2 -= y0;
                for (int k = 0; k < AV_N_LANDMARKS; k++) cf->lm68[k].x -= x0, cf->lm68[k].y -= y0;
                for (int k = 0; k < 5; k++) cf->pts5[k].x -= x0, cf->pts5[k].y -= y0;
                if (NFRAMES % 100 == 50 && i == 0) { /* the crop gives the frame's embedding */
                    float a1[AV_CONFIRM_DIM], a2[AV_CONFIRM_DIM];
                    if (av_confirm_embed(CN, img, f, AV_CONFIRM_ALIGN_SHIPPED, a1, &e) != AV_OK ||
                        av_confirm_embed(CN, c->crop[i], cf, AV_CONFIRM_ALIGN_SHIPPED, a2, &e) != AV_OK)
                        die("confirming embedding: %s", e.msg);
                    float sim = av_confirm_similarity(a1, a2);
                    if (sim < 0.999f) die("frame %zu: the face's crop embeds differently (%.4f)", NFRAMES, sim);
                }
                /* whose face: the walker on screen whose own photo it resembles most */
                int best = -1;
                float bs = -2.0f;
                for (size_t k = 0; k < NW; k++) {
                    if (ts < W[k].t - 0.3 || ts > W[k].t_end + 0.3) continue;
                    float s = av_similarity(c->emb[i], W[k].src);
                    if (s > bs) {
                        bs = s;
                        best = (int)k;
                    }
                }
                c->walker[i] = best;
            }
        }
        av_image_free(img);
        NFRAMES++;
        if (NFRAMES % 100 == 0)
            fprintf(stderr, "bench_confirm: %zu frames analysed (%.0f s)\n", NFRAMES, mono_s() - t0);
    }
    pclose(pf);
    free(buf);
    if (!NFRAMES) die("%s: no frame decoded", clip);
    fprintf(stderr, "bench_confirm: %zu frames analysed in %.0f s\n", NFRAMES, mono_s() - t0);
}

/* ---- plays ----------------------------------------------------------------------------------- */

struct tally {
    int recognised;      /* enrolled walkers with an event for themselves */
    int stranger_passes; /* strangers whose pass reached recognition */
    int stranger_events; /* events of a stranger's track */
    int wrong_events;    /* events naming another person than the enrolled walker */
    int second;          /* decisions after the first for the same walker (merged by the cooldown) */
    uint64_t confirms, refused, lookalike;
};

static int walker_of_person(const att_uuid *p)
{
    for (size_t i = 0; i < NW; i++)
        if (W[i].enrolled && att_uuid_eq(&W[i].id, p)) return (int)i;
    return -1;
}

static struct tally play(gal *g, const struct trk_params *prm, double fps, double phase)
{
    struct tally t = {0};
    trk_tracker *trk;
    if (trk_new(prm, &trk) != ATT_OK) die("tracker parameters");
    enum { MAXT = 4096 };
    static int votes[MAXT][MAX_WALKERS];
    static bool recog_seen[MAXT];
    memset(votes, 0, sizeof votes);
    memset(recog_seen, 0, sizeof recog_seen);
    bool got[MAX_WALKERS] = {0}, stranger_seen[MAX_WALKERS] = {0};
    int decided_for[MAX_WALKERS] = {0};
    double last_event[MAX_WALKERS + 1];
    for (size_t i = 0; i <= MAX_WALKERS; i++) last_event[i] = -1e9;
    for (size_t s = 0;; s++) {
        double ts = phase + (double)s / fps;
        size_t fi = (size_t)ceil(ts * CLIP_FPS - 1e-9);
        if (fi >= NFRAMES) break;
        const struct cframe *c = &FR[fi];
        struct trk_det dets[MAX_FACES];
        struct trk_assign as[MAX_FACES];
        for (size_t i = 0; i < c->n; i++)
            dets[i] = (struct trk_det){.x = c->face[i].box.x1,
                                       .y = c->face[i].box.y1,
                                       .w = c->face[i].box.x2 - c->face[i].box.x1,
                                       .h = c->face[i].box.y2 - c->face[i].box.y1,
                                       .score = c->face[i].score};
        int64_t ts_us = (int64_t)fi * (int64_t)(1e6 / CLIP_FPS);
        if (trk_update(trk, ts_us, dets, c->n, as) != ATT_OK) die("tracker");
        for (size_t i = 0; i < c->n; i++) {
            uint32_t id = as[i].track_id;
            if (!id || id >= MAXT) continue;
            if (c->walker[i] >= 0) votes[id][c->walker[i]]++;
            if (!as[i].want_recog) continue;
            /* recognition as src/analysis/recognize.c makes it */
            struct gal_match m[2];
            size_t n = 0;
            struct trk_recog r = {.liveness = -1.0f, .second = -1.0f, .quality = c->face[i].score};
            if (gal_topk(g, c->emb[i], 2, m, &n) != ATT_OK) die("gallery search");
            if (n > 0) {
                r.matched = true;
                r.person = m[0].person;
                r.similarity = m[0].similarity;
                if (n > 1) {
                    r.second = m[1].similarity;
                    r.second_person = m[1].person;
                }
                if (r.similarity >= prm->sim_threshold) r.liveness = c->live[i];
            }
            recog_seen[id] = true;
            if (trk_add_recognition(trk, id, ts_us, &r) != ATT_OK) die("recognition");
        }
        /* confirmations as src/analysis/pipeline.c answers them, from the cached embeddings */
        struct trk_confirm_req rq;
        while (trk_pop_confirm(trk, &rq)) {
            struct trk_confirmation cf;
            bool need = false;
            size_t i;
            for (i = 0; i < c->n && as[i].track_id != rq.track_id; i++) {
            }
            if (i == c->n || confirm_need(g, &rq, &cf, &need) != ATT_OK) die("confirmation");
            if (need) {
                struct cframe *cw = &FR[fi];
                av_err e;
                if (!cw->have_conf[i] &&
                    av_confirm_embed(CN, cw->crop[i], &cw->cface[i], AV_CONFIRM_ALIGN_SHIPPED, cw->conf[i], &e) !=
                        AV_OK)
                    die("confirming embedding: %s", e.msg);
                cw->have_conf[i] = true;
                if (confirm_fuse(g, &rq, c->conf[i], &cf) != ATT_OK) die("confirmation");
                t.confirms++;
            }
            bool decided;
            if (trk_confirm(trk, rq.track_id, &cf, &decided) != ATT_OK) die("trk_confirm");
            if (rq.kind == TRK_CONFIRM_LOOKALIKE && need) {
                int pw = walker_of_person(&rq.person), tw = c->walker[i];
                fprintf(stderr,
                        "bench_confirm:   phase %.3f s: look-alike at %.2f s, crop of %s, named %s: fused %.2f "
                        "against %.2f of the runner-up: %s\n",
                        phase, (double)ts_us / 1e6, tw >= 0 ? W[tw].label : "?", pw >= 0 ? W[pw].label : "a distractor",
                        cf.fused, cf.runner_up_fused, decided ? "decided" : "refused");
            }
            if (!decided) t.refused++;
        }
        struct trk_decision d;
        while (trk_pop_decision(trk, &d)) {
            int wk = -1, bv = 0;
            for (size_t k = 0; k < NW; k++)
                if (d.track_id < MAXT && votes[d.track_id][k] > bv) {
                    bv = votes[d.track_id][k];
                    wk = (int)k;
                }
            int pw = walker_of_person(&d.person);
            /* the rules' cooldown: one event per person per pass (distractors share one slot: rare) */
            size_t slot = pw >= 0 ? (size_t)pw : MAX_WALKERS;
            double dts = (double)d.ts_us / 1e6;
            bool event = dts - last_event[slot] >= COOLDOWN_S;
            if (event) last_event[slot] = dts;
            if (wk >= 0 && W[wk].enrolled && pw == wk) {
                if (decided_for[wk]++ == 0) got[wk] = true;
                else t.second++;
            } else if (event) {
                if (wk >= 0 && !W[wk].enrolled) t.stranger_events++;
                else t.wrong_events++;
                char who[ATT_UUID_STR];
                att_uuid_format(&d.person, who);
                fprintf(stderr, "bench_confirm:   phase %.3f s: %s event at %.2f s, track of %s, named %s (%s %.2f)\n",
                        phase, wk >= 0 && !W[wk].enrolled ? "stranger" : "wrong-person", dts,
                        wk >= 0 ? W[wk].label : "?", pw >= 0 ? W[pw].label : who,
                        d.confirmed ? "confirmed, fused" : "unconfirmed", d.fused);
            }
        }
        for (size_t i = 0; i < c->n; i++) {
            uint32_t id = as[i].track_id;
            if (id && id < MAXT && recog_seen[id] && c->walker[i] >= 0 && !W[c->walker[i]].enrolled)
                stranger_seen[c->walker[i]] = true;
        }
    }
    for (size_t k = 0; k < NW; k++) {
        t.recognised += got[k];
        t.stranger_passes += stranger_seen[k];
        if (W[k].enrolled && !got[k])
            fprintf(stderr, "bench_confirm:   phase %.3f s: %s not recognised\n", phase, W[k].label);
    }
    struct trk_stats st;
    trk_get_stats(trk, &st);
    t.lookalike = st.confirm_lookalike;
    trk_free(trk);
    return t;
}

static void run(const char *setup, gal *g, const struct trk_params *prm, double fps, int plays)
{
    int min_rec = 1 << 30, sp = 0, se = 0, we = 0, sec = 0, all12 = 0;
    uint64_t cr = 0, rf = 0, la = 0;
    struct tally first = {0};
    for (int k = 0; k < plays; k++) {
        struct tally t = play(g, prm, fps, (double)k / plays / fps);
        if (k == 0) first = t;
        if (t.recognised < min_rec) min_rec = t.recognised;
        all12 += t.recognised == (int)NENROLLED;
        sp += t.stranger_passes;
        se += t.stranger_events;
        we += t.wrong_events;
        sec += t.second;
        cr += t.confirms;
        rf += t.refused;
        la += t.lookalike;
        printf("| %s | %d | %d/%zu | %d | %d | %d | %d | %llu / %llu / %llu |\n", setup, k + 1, t.recognised, NENROLLED,
               t.stranger_passes, t.stranger_events, t.wrong_events, t.second, (unsigned long long)t.confirms,
               (unsigned long long)t.refused, (unsigned long long)t.lookalike);
        fflush(stdout);
    }
    printf("\n%s, one play (phase 0): recognised %d/%zu, stranger events %d, wrong-person events %d, second "
           "decisions %d\n",
           setup, first.recognised, NENROLLED, first.stranger_events, first.wrong_events, first.second);
    printf("%s, %d plays: all %zu recognised in %d plays (fewest %d), stranger passes %d, stranger events %d, "
           "wrong-person events %d, second decisions %d, confirmations run %llu, refused %llu, look-alikes "
           "decided %llu\n\n",
           setup, plays, NENROLLED, all12, min_rec, sp, se, we, sec, (unsigned long long)cr, (unsigned long long)rf,
           (unsigned long long)la);
}

int main(int argc, char **argv)
{
    const char *models = NULL, *data = NULL, *clip = NULL, *cache = NULL;
    int distractors = 2000, plays = 20, min_face = 40;
    double fps = 6.0, thr = 0.40;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--clip") && i + 1 < argc) clip = argv[++i];
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
        else if (!strcmp(argv[i], "--distractors") && i + 1 < argc) distractors = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--plays") && i + 1 < argc) plays = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fps") && i + 1 < argc) fps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--min-face") && i + 1 < argc) min_face = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) thr = atof(argv[++i]);
        else die("unknown argument %s", argv[i]);
    }
    if (!models || !data || !clip || !cache || plays < 1 || fps <= 0 || distractors < 0 || strlen(clip) < 5)
        die("usage: --models DIR --data DIR --clip CLIP.mp4 --cache FILE [--distractors N] [--plays P] [--fps F] "
            "[--min-face PX] [--threshold T]");
    struct cache fr = {0}, cf = {0};
    char cache2[1200];
    snprintf(cache2, sizeof cache2, "%s.%s", cache, CALIB_RULE2);
    if (distractors &&
        (!cache_read(cache, CALIB_RULE, AV_EMBED_DIM, &fr) || !cache_read(cache2, CALIB_RULE2, AV_CONFIRM_DIM, &cf)))
        die("the LFW template caches %s and %s are missing or stale: run bench/calib.sh first", cache, cache2);

    av_err e;
    av_models *m;
    av_confirm_models *cm;
    av_pipeline *vp;
    av_confirm_net *cn;
    if (av_set_num_threads(1, &e) != AV_OK || av_models_load(models, 0, &m, &e) != AV_OK ||
        av_pipeline_new(m, 0, &vp, &e) != AV_OK || av_confirm_models_load(models, 0, &cm, &e) != AV_OK ||
        av_confirm_net_new(cm, &cn, &e) != AV_OK)
        die("models: %s", e.msg);
    load_truth(clip, data, vp);
    CN = cn;
    analyse_clip(clip, min_face, vp);

    struct trk_params confirm, alone;
    trk_params_defaults(&confirm);
    confirm.sim_threshold = (float)thr; /* the daemon's track_match_threshold */
    confirm.confirm_max = PIPELINE_CONFIRM_MAX;
    alone = confirm;
    alone.confirm_max = 0;

    gal *small = gal_new(), *big = gal_new();
    if (!small || !big) die("out of memory");
    enrol_walkers(small, clip, data, vp, cn);
    enrol_walkers(big, clip, data, vp, cn);
    size_t nd = enrol_distractors(big, &fr, &cf, (size_t)distractors);
    printf("clip %s, %zu walkers (%zu enrolled), frames sampled at %.0f fps, detection min face %d px, "
           "track_match_threshold %.2f, margin_min %.2f, agree %d of %d, confirmation: fused >= %.1f, look-alike "
           "fused >= %.1f and lead %.1f, at most %d per track\n\n",
           clip, NW, NENROLLED, fps, min_face, thr, confirm.margin_min, confirm.agree_k, confirm.window_m,
           confirm.confirm_fused, confirm.confirm_lookalike_fused, confirm.confirm_margin, confirm.confirm_max);
    printf("| setup | play | recognised | stranger passes | stranger events | wrong-person events | second "
           "decisions | confirmations run / refused / look-alikes decided |\n| --- | --- | --- | --- | --- | --- | "
           "--- | --- |\n");
    char setup[128];
    snprintf(setup, sizeof setup, "%zu enrolled, confirmed", NENROLLED);
    run(setup, small, &confirm, fps, plays);
    snprintf(setup, sizeof setup, "%zu enrolled, confirmed", NENROLLED + nd);
    run(setup, big, &confirm, fps, plays);
    snprintf(setup, sizeof setup, "%zu enrolled, first model alone", NENROLLED + nd);
    run(setup, big, &alone, fps, plays);

    gal_free(small);
    gal_free(big);
    av_confirm_net_free(cn);
    av_confirm_models_free(cm);
    av_pipeline_free(vp);
    av_models_free(m);
    free(FR);
    return 0;
}
