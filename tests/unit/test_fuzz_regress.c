/* Replays the fuzz seeds (fuzz/corpus/<target>) and the stored crashers (tests/fixtures/fuzz-regress/
 * <target>) through the fuzz drivers, so every input must pass the drivers' invariants again and give
 * the outcome its file name starts with ("<outcome>.<what>"); plus the spool codec fix they found. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/drivers.h"
#include "support.h"

struct input {
    char name[256];
    uint8_t *data;
    size_t len;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

/* Every regular file of ATTENDD_SRCDIR/rel, sorted by name; *n may be 0 (no such directory). */
static struct input *read_dir(const char *rel, size_t *n)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", ts_env("ATTENDD_SRCDIR"), rel);
    *n = 0;
    struct input *v = NULL;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        long len = ftell(f);
        ck_assert(len >= 0);
        rewind(f);
        v = realloc(v, (*n + 1) * sizeof *v);
        ck_assert_ptr_nonnull(v);
        struct input *in = &v[(*n)++];
        snprintf(in->name, sizeof in->name, "%s", de->d_name);
        in->len = (size_t)len;
        in->data = malloc(in->len ? in->len : 1);
        ck_assert_ptr_nonnull(in->data);
        ck_assert_uint_eq(fread(in->data, 1, in->len, f), in->len);
        fclose(f);
    }
    closedir(d);
    if (*n) qsort(v, *n, sizeof *v, by_name);
    return v;
}

static void free_inputs(struct input *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].data);
    free(v);
}

/* The expected outcome: the file name up to its first '.'. */
static void expected(const char *name, char *out, size_t len)
{
    size_t k = strcspn(name, ".");
    snprintf(out, len, "%.*s", (int)k, name);
}

/* The outcome of one input of target t, as text comparable with the file-name prefix. */
static void outcome(const char *t, const struct input *in, char *out, size_t len)
{
    if (strcmp(t, "json_body") == 0) {
        snprintf(out, len, "%s", att_err_code(fz_json_body(in->data, in->len)));
    } else if (strcmp(t, "decode") == 0) {
        snprintf(out, len, "%s", av_status_name(fz_decode(in->data, in->len)));
    } else if (strcmp(t, "config") == 0) {
        snprintf(out, len, "%s", att_err_code(fz_config(in->data, in->len)));
    } else if (strcmp(t, "spool") == 0) {
        snprintf(out, len, "%zu", fz_spool(in->data, in->len));
    } else if (strcmp(t, "query") == 0) {
        snprintf(out, len, "%s", fz_query(in->data, in->len) ? "ok" : "no");
    } else {
        ck_abort_msg("unknown fuzz target %s", t);
    }
}

static const char *const targets[] = {"json_body", "decode", "config", "spool", "query"};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* Seeds: each one's outcome is the one its name states, and both valid and refused inputs exist
 * (a corpus of only refusals would not reach the checks behind the parser). */
START_TEST(seeds_give_their_outcome)
{
    const char *t = targets[_i];
    char rel[128];
    snprintf(rel, sizeof rel, "fuzz/corpus/%s", t);
    size_t n;
    struct input *v = read_dir(rel, &n);
    ck_assert_msg(n >= 5, "%s: %zu seeds, expected at least 5", rel, n);
    size_t accepted = 0;
    for (size_t i = 0; i < n; i++) {
        char want[64], got[64];
        expected(v[i].name, want, sizeof want);
        outcome(t, &v[i], got, sizeof got);
        ck_assert_msg(strcmp(want, got) == 0, "%s/%s: outcome %s, expected %s", rel, v[i].name, got, want);
        if (strcmp(got, "ok") == 0 || (strcmp(t, "spool") == 0 && strcmp(got, "0") != 0)) accepted++;
    }
    ck_assert_msg(accepted > 0 && accepted < n, "%s: %zu of %zu seeds accepted", rel, accepted, n);
    free_inputs(v, n);
}
END_TEST

/* Stored crashers (none for a target is fine): each passes the invariants and gives its outcome. */
START_TEST(crashers_stay_fixed)
{
    const char *t = targets[_i];
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fixtures/fuzz-regress/%s", t);
    size_t n;
    struct input *v = read_dir(rel, &n);
    for (size_t i = 0; i < n; i++) {
        char want[64], got[64];
        expected(v[i].name, want, sizeof want);
        outcome(t, &v[i], got, sizeof got);
        ck_assert_msg(strcmp(want, got) == 0, "%s/%s: outcome %s, expected %s", rel, v[i].name, got, want);
    }
    free_inputs(v, n);
}
END_TEST

/* The spool target's find: a similarity or liveness that is no finite float. Decoding refuses it
 * (it could not be written back), and encoding refuses NaN/inf instead of writing a record whose
 * "nan" no decoder reads (which would lose the event at the next open). */
START_TEST(spool_rejects_non_finite_scores)
{
    ck_assert_int_eq(fz_spool((const uint8_t *)"x", 1), 0);
    struct att_event ev = {
        .kind = EVENT_KIND_IN, .ts_us = 1714546800000000LL, .similarity = 0.5f, .liveness = 0.9f, .source = "camera"};
    char buf[SPOOL_PAYLOAD_MAX];
    size_t len;
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_OK);
    fz_spool_roundtrip(&ev);
    ev.similarity = NAN;
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_E_INVALID);
    ev.similarity = 0.5f;
    ev.liveness = -INFINITY;
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_E_INVALID);
    ev.liveness = -1.0f; /* "not measured" (tracker.h) stays valid */
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_OK);

    static const char big[] = "{\"v\":1,\"id\":\"0b0e7a36-5d44-4b52-9a8e-2d1c7a5e9f01\","
                              "\"person\":\"0b0e7a36-5d44-4b52-9a8e-2d1c7a5e9f01\","
                              "\"camera\":\"0b0e7a36-5d44-4b52-9a8e-2d1c7a5e9f01\",\"kind\":\"in\",\"ts\":1,"
                              "\"sim\":1e39,\"live\":0.5,\"source\":\"camera\"}";
    struct att_event back;
    ck_assert_int_eq(spool_event_decode(big, strlen(big), &back), ATT_E_INVALID);
    char fine[sizeof big];
    snprintf(fine, sizeof fine, "%s", big);
    memcpy(strstr(fine, "1e39"), "1e-9", 4); /* the same payload with a float-sized score decodes */
    ck_assert_int_eq(spool_event_decode(fine, strlen(fine), &back), ATT_OK);
}
END_TEST

Suite *fuzz_regress_suite(void)
{
    Suite *s = suite_create("fuzz_regress");
    TCase *t = tcase_create("replay");
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, seeds_give_their_outcome, 0, (int)NTARGETS);
    tcase_add_loop_test(t, crashers_stay_fixed, 0, (int)NTARGETS);
    tcase_add_test(t, spool_rejects_non_finite_scores);
    suite_add_tcase(s, t);
    return s;
}
