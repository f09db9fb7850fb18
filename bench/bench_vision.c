/* bench_vision.c: per-stage timings of the C vision pipeline on this machine — detection per frame
 * (1080p corridor frame 50, 720p shift-change frame 100; tiled default plan and whole-frame pass),
 * landmarks+alignment, embedding single and batched, liveness per face — with 1 OpenCV thread,
 * 2 OpenCV threads, and 2 workers x 1 thread (one pipeline each, the daemon's layout).
 * Each figure is the best of 7 measurements. 1t is the CPU time of the calling thread (with one
 * OpenCV thread all work runs there), which other processes on this shared machine do not inflate;
 * 2t and 2w are wall time. Output: one tab-separated line per stage, "stage  ms_1t  ms_2t  ms_2w  note".
 * Usage: bench_vision MODELS_DIR DATA_DIR [--stock] [--quick] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/vision.h"

#define MAXF 64

struct bench {
    const av_models *models;
    unsigned flags;
    av_image *f1080, *f720;
    av_face faces[MAXF]; /* faces of the 1080p frame, with landmarks */
    size_t nfaces;
    av_crop crops[16]; /* aligned crops, cycled to 16 */
    int quick;
};

struct stage {
    const char *name;
    const char *note;
    int per;  /* items per run (faces), for ms/face; 1 = ms/frame */
    int reps; /* runs per measurement */
    void (*run)(struct bench *b, av_pipeline *p);
};

static double clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static void die(const char *what, const av_err *e)
{
    fprintf(stderr, "bench_vision: %s: %s\n", what, e->msg);
    exit(1);
}

static void detect(av_pipeline *p, const av_image *img, int min_face)
{
    av_detect_opts o;
    av_detect_opts_init(&o);
    o.landmarks = 0;
    o.min_face_px = min_face;
    av_face f[MAXF];
    size_t n;
    av_err e;
    if (av_detect(p, img, NULL, &o, f, MAXF, &n, &e) != AV_OK) die("detect", &e);
}

static void run_det1080(struct bench *b, av_pipeline *p) { detect(p, b->f1080, 40); }
static void run_det1080_whole(struct bench *b, av_pipeline *p) { detect(p, b->f1080, 0); }
static void run_det720(struct bench *b, av_pipeline *p) { detect(p, b->f720, 40); }
static void run_det720_whole(struct bench *b, av_pipeline *p) { detect(p, b->f720, 0); }

static void run_lmk_align(struct bench *b, av_pipeline *p)
{
    av_face f[MAXF];
    av_crop c;
    av_err e;
    memcpy(f, b->faces, b->nfaces * sizeof f[0]);
    if (av_landmarks(p, b->f1080, f, b->nfaces, &e) != AV_OK) die("landmarks", &e);
    for (size_t i = 0; i < b->nfaces; i++)
        if (av_align(b->f1080, &f[i], &c, &e) != AV_OK) die("align", &e);
}

static void run_embed1(struct bench *b, av_pipeline *p)
{
    static __thread float out[AV_EMBED_DIM];
    av_err e;
    for (int i = 0; i < 4; i++)
        if (av_embed(p, &b->crops[i], 1, out, &e) != AV_OK) die("embed", &e);
}

static void run_embed16(struct bench *b, av_pipeline *p)
{
    static __thread float out[16 * AV_EMBED_DIM];
    av_err e;
    if (av_embed(p, b->crops, 16, out, &e) != AV_OK) die("embed", &e);
}

static void run_liveness(struct bench *b, av_pipeline *p)
{
    float live[MAXF];
    av_err e;
    if (av_liveness(p, b->f1080, b->faces, b->nfaces, live, &e) != AV_OK) die("liveness", &e);
}

#define SAMPLES 7

/* Best of SAMPLES measurements of reps runs, in ms per item, on clock `id`. */
static double measure(struct bench *b, av_pipeline *p, const struct stage *s, clockid_t id)
{
    double best = 1e300;
    s->run(b, p); /* warm-up: allocations, shape set-up */
    for (int k = 0; k < SAMPLES; k++) {
        double t = clock_ms(id);
        for (int r = 0; r < s->reps; r++) s->run(b, p);
        double v = (clock_ms(id) - t) / s->reps / s->per;
        if (v < best) best = v;
    }
    return best;
}

struct worker {
    struct bench *b;
    const struct stage *s;
    av_pipeline *p;
    pthread_barrier_t *bar;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->s->run(w->b, w->p);
    for (int k = 0; k < SAMPLES; k++) {
        pthread_barrier_wait(w->bar); /* start together */
        for (int r = 0; r < w->s->reps; r++) w->s->run(w->b, w->p);
        pthread_barrier_wait(w->bar); /* both done */
    }
    return NULL;
}

/* Two threads, one pipeline each, OpenCV at 1 thread: best wall time per item over both. */
static double measure_workers(struct bench *b, av_pipeline *p2[2], const struct stage *s)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 3);
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){b, s, p2[i], &bar};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    double best = 1e300;
    for (int k = 0; k < SAMPLES; k++) {
        pthread_barrier_wait(&bar);
        double t = now_ms();
        pthread_barrier_wait(&bar);
        double v = (now_ms() - t) / (2.0 * s->reps * s->per);
        if (v < best) best = v;
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_vision MODELS_DIR DATA_DIR [--stock] [--quick]\n");
        return 2;
    }
    struct bench b;
    memset(&b, 0, sizeof b);
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--stock")) b.flags |= AV_PIPE_STOCK_LAYERS;
        else if (!strcmp(argv[i], "--quick")) b.quick = 1;
    }
    av_err e;
    av_models *m;
    if (av_models_load(argv[1], 0, &m, &e) != AV_OK) die("models", &e);
    b.models = m;
    char path[1024];
    snprintf(path, sizeof path, "%s/video/corridor-1080p25.mp4", argv[2]);
    if (av_image_from_video(path, 50, &b.f1080, &e) != AV_OK) die(path, &e);
    snprintf(path, sizeof path, "%s/video/shift-change.mp4", argv[2]);
    if (av_image_from_video(path, 100, &b.f720, &e) != AV_OK) die(path, &e);

    av_pipeline *p, *p2[2];
    if (av_pipeline_new(m, b.flags, &p, &e) != AV_OK || av_pipeline_new(m, b.flags, &p2[0], &e) != AV_OK ||
        av_pipeline_new(m, b.flags, &p2[1], &e) != AV_OK)
        die("pipeline", &e);
    av_set_num_threads(1, &e);
    if (av_detect(p, b.f1080, NULL, NULL, b.faces, MAXF, &b.nfaces, &e) != AV_OK || b.nfaces == 0)
        die("faces for the per-face stages", &e);
    if (b.nfaces > MAXF) b.nfaces = MAXF;
    for (int i = 0; i < 16; i++)
        if (av_align(b.f1080, &b.faces[i % b.nfaces], &b.crops[i], &e) != AV_OK) die("align", &e);

    av_detect_opts o;
    av_detect_opts_init(&o);
    char n1080[64], n720[64];
    snprintf(n1080, sizeof n1080, "%d passes", av_detect_plan(1920, 1080, &o));
    snprintf(n720, sizeof n720, "%d passes", av_detect_plan(1280, 720, &o));
    int q = b.quick ? 1 : 0;
    const struct stage stages[] = {
        {"detect_1080p_tiled", n1080, 1, q ? 1 : 3, run_det1080},
        {"detect_1080p_whole", "1 pass", 1, q ? 3 : 10, run_det1080_whole},
        {"detect_720p_tiled", n720, 1, q ? 1 : 3, run_det720},
        {"detect_720p_whole", "1 pass", 1, q ? 3 : 10, run_det720_whole},
        {"landmarks_align", "per face", (int)b.nfaces, q ? 2 : 5, run_lmk_align},
        {"embed_single", "per face, batch 1", 4, q ? 1 : 3, run_embed1},
        {"embed_batch16", "per face, batch 16", 16, 1, run_embed16},
        {"liveness", "per face", (int)b.nfaces, q ? 1 : 3, run_liveness},
    };
    printf("# C pipeline%s, %zu faces in the 1080p frame; ms per frame or per face, best of 7\n",
           (b.flags & AV_PIPE_STOCK_LAYERS) ? " (stock OpenCV layers)" : "", b.nfaces);
    printf("stage\tc_1t\tc_2t\tc_2w\tnote\n");
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        const struct stage *s = &stages[i];
        av_set_num_threads(1, &e);
        double t1 = measure(&b, p, s, CLOCK_THREAD_CPUTIME_ID); /* all work is on this thread */
        av_set_num_threads(2, &e);
        double t2 = measure(&b, p, s, CLOCK_MONOTONIC);
        av_set_num_threads(1, &e);
        double tw = measure_workers(&b, p2, s);
        printf("%s\t%.2f\t%.2f\t%.2f\t%s\n", s->name, t1, t2, tw, s->note);
        fflush(stdout);
    }
    av_pipeline_free(p);
    av_pipeline_free(p2[0]);
    av_pipeline_free(p2[1]);
    av_image_free(b.f1080);
    av_image_free(b.f720);
    av_models_free(m);
    return 0;
}
