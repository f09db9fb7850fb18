/* Attendance rules (src/attendance/rules.c): roles, cooldown, night shifts, max shift, late
 * decisions, eviction and seeding. */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "attendd/rules.h"
#include "attendd/uuid.h"
#include "support.h"

#define SEC 1000000LL
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
/* 2024-03-04 00:00:00 UTC, in µs */
#define DAY0 (1709510400LL * SEC)

static void uid(att_uuid *u, unsigned n)
{
    memset(u->b, 0, sizeof u->b);
    u->b[0] = 0x42;
    memcpy(u->b + 12, &n, sizeof n);
}

static rules *mk(int64_t cooldown, int64_t max_shift)
{
    struct rules_config c = {.cooldown_us = cooldown, .max_shift_us = max_shift};
    rules *r = NULL;
    ck_assert_int_eq(rules_new(&c, &r), ATT_OK);
    return r;
}

/* Apply one live decision for person p seen by camera cam with role at ts. */
static struct rules_result punch(rules *r, unsigned p, unsigned cam, enum camera_role role, int64_t ts)
{
    struct rules_decision d = {.role = role, .ts_us = ts, .similarity = 0.7f, .liveness = 0.95f, .live = true};
    uid(&d.person, p);
    uid(&d.camera, 1000 + cam);
    struct rules_result res;
    ck_assert_int_eq(rules_apply(r, &d, &res), ATT_OK);
    return res;
}

/* The result expression is evaluated once (it usually is a punch()). */
#define ASSERT_EMIT(res, k)                                             \
    do {                                                                \
        struct rules_result r_ = (res);                                 \
        ck_assert_str_eq(rules_reason_name(r_.reason), "emit");         \
        ck_assert_str_eq(event_kind_name(r_.kind), event_kind_name(k)); \
    } while (0)
#define ASSERT_NONE(res, why)                                                   \
    do {                                                                        \
        struct rules_result r_ = (res);                                         \
        ck_assert_str_eq(rules_reason_name(r_.reason), rules_reason_name(why)); \
        ck_assert_int_eq(r_.kind, EVENT_KIND_NONE);                             \
    } while (0)

START_TEST(roles_in_out_auto)
{
    rules *r = mk(0, 0); /* defaults: 120 s, 16 h */
    int64_t t = DAY0 + 7 * HOUR;
    ASSERT_EMIT(punch(r, 1, 1, CAMERA_ROLE_IN, t), EVENT_KIND_IN);
    ASSERT_EMIT(punch(r, 2, 1, CAMERA_ROLE_OUT, t), EVENT_KIND_OUT); /* other person: no cooldown */
    ASSERT_EMIT(punch(r, 3, 1, CAMERA_ROLE_AUTO, t), EVENT_KIND_IN);
    struct rules_result o = punch(r, 3, 1, CAMERA_ROLE_AUTO, t + 8 * HOUR);
    ASSERT_EMIT(o, EVENT_KIND_OUT);
    ck_assert_int_eq(o.closes_in_ts_us, t);
    ASSERT_EMIT(punch(r, 3, 1, CAMERA_ROLE_AUTO, t + 9 * HOUR), EVENT_KIND_IN);
    /* an `out` with no open shift is still an out, closing nothing */
    o = punch(r, 4, 2, CAMERA_ROLE_OUT, t);
    ASSERT_EMIT(o, EVENT_KIND_OUT);
    ck_assert_int_eq(o.closes_in_ts_us, 0);
    /* `in` over an open `in`: the earlier one is reported as missing its clock-out */
    struct rules_result i2 = punch(r, 1, 1, CAMERA_ROLE_IN, t + 2 * HOUR);
    ASSERT_EMIT(i2, EVENT_KIND_IN);
    ck_assert_int_eq(i2.missing_out_ts_us, t);

    enum camera_role role;
    ck_assert_int_eq(camera_role_parse("auto", &role), ATT_OK);
    ck_assert_int_eq(role, CAMERA_ROLE_AUTO);
    ck_assert_int_eq(camera_role_parse("inout", &role), ATT_E_INVALID);
    struct rules_decision bad = {.role = (enum camera_role)7, .live = true};
    struct rules_result res;
    ck_assert_int_eq(rules_apply(r, &bad, &res), ATT_E_INVALID);
    rules_free(r);
}
END_TEST

START_TEST(cooldown_same_and_second_camera)
{
    rules *r = mk(120 * SEC, 16 * HOUR);
    int64_t t = DAY0 + 6 * HOUR;
    ASSERT_EMIT(punch(r, 1, 1, CAMERA_ROLE_AUTO, t), EVENT_KIND_IN);
    struct rules_result c = punch(r, 1, 1, CAMERA_ROLE_AUTO, t + 2 * SEC);
    ASSERT_NONE(c, RULES_COOLDOWN);
    ck_assert_int_eq(c.last_ts_us, t);
    /* the same pass seen by a second camera, even an `out` one */
    ASSERT_NONE(punch(r, 1, 2, CAMERA_ROLE_AUTO, t + 1 * SEC), RULES_DUPLICATE_CAMERA);
    ASSERT_NONE(punch(r, 1, 3, CAMERA_ROLE_OUT, t + 119 * SEC), RULES_DUPLICATE_CAMERA);
    /* suppressed decisions do not extend the window: at exactly cooldown it punches again */
    ASSERT_EMIT(punch(r, 1, 1, CAMERA_ROLE_AUTO, t + 120 * SEC), EVENT_KIND_OUT);
    /* another person is independent */
    ASSERT_EMIT(punch(r, 2, 1, CAMERA_ROLE_AUTO, t + 3 * SEC), EVENT_KIND_IN);

    struct rules_stats st;
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.emitted, 3);
    ck_assert_uint_eq(st.suppressed, 3);
    rules_free(r);
}
END_TEST

START_TEST(not_live_never_punches)
{
    rules *r = mk(0, 0);
    struct rules_decision d = {.role = CAMERA_ROLE_IN, .ts_us = DAY0, .live = false};
    uid(&d.person, 9);
    struct rules_result res;
    ck_assert_int_eq(rules_apply(r, &d, &res), ATT_OK);
    ASSERT_NONE(res, RULES_NOT_LIVE);
    struct rules_shift sh;
    ck_assert_int_eq(rules_open_shift(r, &d.person, DAY0, &sh), ATT_OK);
    ck_assert_int_eq(sh.state, RULES_SHIFT_NONE);
    /* and it left no state behind: a live pass a second later punches */
    ASSERT_EMIT(punch(r, 9, 1, CAMERA_ROLE_AUTO, DAY0 + SEC), EVENT_KIND_IN);
    rules_free(r);
}
END_TEST

START_TEST(night_shift_across_midnight)
{
    rules *r = mk(0, 0);
    int64_t in = DAY0 + 20 * HOUR;             /* 20:00 */
    int64_t out = DAY0 + 24 * HOUR + 5 * HOUR; /* 05:00 next day */
    ASSERT_EMIT(punch(r, 7, 1, CAMERA_ROLE_AUTO, in), EVENT_KIND_IN);
    struct rules_shift sh;
    att_uuid p;
    uid(&p, 7);
    ck_assert_int_eq(rules_open_shift(r, &p, DAY0 + 24 * HOUR + 1, &sh), ATT_OK); /* just past midnight */
    ck_assert_int_eq(sh.state, RULES_SHIFT_OPEN);
    ck_assert_int_eq(sh.in_ts_us, in);
    struct rules_result o = punch(r, 7, 2, CAMERA_ROLE_AUTO, out);
    ASSERT_EMIT(o, EVENT_KIND_OUT);
    ck_assert_int_eq(o.closes_in_ts_us, in);
    ck_assert_int_eq(rules_open_shift(r, &p, out, &sh), ATT_OK);
    ck_assert_int_eq(sh.state, RULES_SHIFT_NONE);
    /* next evening: a new clock-in */
    ASSERT_EMIT(punch(r, 7, 1, CAMERA_ROLE_AUTO, DAY0 + 44 * HOUR), EVENT_KIND_IN);
    rules_free(r);
}
END_TEST

START_TEST(max_shift_expiry)
{
    rules *r = mk(120 * SEC, 16 * HOUR);
    int64_t in = DAY0 + 8 * HOUR;
    att_uuid p;
    uid(&p, 5);
    ASSERT_EMIT(punch(r, 5, 1, CAMERA_ROLE_AUTO, in), EVENT_KIND_IN);
    struct rules_shift sh;
    ck_assert_int_eq(rules_open_shift(r, &p, in + 16 * HOUR - 1, &sh), ATT_OK);
    ck_assert_int_eq(sh.state, RULES_SHIFT_OPEN);
    ck_assert_int_eq(rules_open_shift(r, &p, in + 16 * HOUR, &sh), ATT_OK);
    ck_assert_int_eq(sh.state, RULES_SHIFT_MISSING_OUT);
    ck_assert_int_eq(sh.in_ts_us, in);
    /* forgot to clock out: the next auto pass, 17 h later, is a clock-in again */
    struct rules_result r2 = punch(r, 5, 1, CAMERA_ROLE_AUTO, in + 17 * HOUR);
    ASSERT_EMIT(r2, EVENT_KIND_IN);
    ck_assert_int_eq(r2.missing_out_ts_us, in);
    /* an explicit `out` after expiry closes nothing */
    int64_t in6 = in + 17 * HOUR + MIN;
    ASSERT_EMIT(punch(r, 6, 1, CAMERA_ROLE_IN, in6), EVENT_KIND_IN);
    struct rules_result r3 = punch(r, 6, 2, CAMERA_ROLE_OUT, in6 + 20 * HOUR);
    ASSERT_EMIT(r3, EVENT_KIND_OUT);
    ck_assert_int_eq(r3.closes_in_ts_us, 0);
    rules_free(r);
}
END_TEST

START_TEST(out_of_order_is_deterministic)
{
    rules *r = mk(120 * SEC, 16 * HOUR);
    int64_t t = DAY0 + 9 * HOUR;
    ASSERT_EMIT(punch(r, 1, 1, CAMERA_ROLE_AUTO, t), EVENT_KIND_IN);
    /* a slower camera reports the same pass 30 s earlier: a duplicate, not a new punch */
    ASSERT_NONE(punch(r, 1, 2, CAMERA_ROLE_AUTO, t - 30 * SEC), RULES_DUPLICATE_CAMERA);
    /* a decision from 10 minutes before the last punch arrives late: dropped, state unchanged */
    struct rules_result late = punch(r, 1, 2, CAMERA_ROLE_OUT, t - 10 * MIN);
    ASSERT_NONE(late, RULES_LATE);
    ck_assert_int_eq(late.last_ts_us, t);
    ASSERT_EMIT(punch(r, 1, 1, CAMERA_ROLE_AUTO, t + 8 * HOUR), EVENT_KIND_OUT);
    /* a person with no state, older than the newest time seen minus max shift: late too */
    ASSERT_NONE(punch(r, 99, 1, CAMERA_ROLE_AUTO, t + 8 * HOUR - 17 * HOUR), RULES_LATE);
    struct rules_stats st;
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.late, 2);

    /* same inputs in any order within the cooldown give one event */
    rules *a = mk(120 * SEC, 16 * HOUR), *b = mk(120 * SEC, 16 * HOUR);
    ASSERT_EMIT(punch(a, 1, 1, CAMERA_ROLE_AUTO, t), EVENT_KIND_IN);
    ASSERT_NONE(punch(a, 1, 2, CAMERA_ROLE_AUTO, t + 5 * SEC), RULES_DUPLICATE_CAMERA);
    ASSERT_EMIT(punch(b, 1, 2, CAMERA_ROLE_AUTO, t + 5 * SEC), EVENT_KIND_IN);
    ASSERT_NONE(punch(b, 1, 1, CAMERA_ROLE_AUTO, t), RULES_DUPLICATE_CAMERA);
    rules_free(a);
    rules_free(b);
    rules_free(r);
}
END_TEST

START_TEST(eviction_bounds_memory)
{
    rules *r = mk(120 * SEC, 16 * HOUR);
    int64_t t = DAY0;
    /* interleave old and recent persons so eviction has to repair probe chains */
    for (unsigned p = 0; p < 2000; p++)
        ASSERT_EMIT(punch(r, p, 1, CAMERA_ROLE_IN, (p % 2) ? t : t + 10 * HOUR), EVENT_KIND_IN);
    struct rules_stats st;
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.persons, 2000);
    ck_assert_uint_eq(rules_evict(r, t + 16 * HOUR), 1000);
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.persons, 1000);
    ck_assert_uint_eq(st.evicted, 1000);
    for (unsigned p = 0; p < 2000; p++) {
        att_uuid u;
        uid(&u, p);
        struct rules_shift sh;
        ck_assert_int_eq(rules_open_shift(r, &u, t + 16 * HOUR, &sh), ATT_OK);
        ck_assert_int_eq(sh.state, (p % 2) ? RULES_SHIFT_NONE : RULES_SHIFT_OPEN);
    }
    /* apply() sweeps by itself as capture time moves on */
    ASSERT_EMIT(punch(r, 5000, 1, CAMERA_ROLE_AUTO, t + 27 * HOUR), EVENT_KIND_IN);
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.persons, 1);
    rules_free(r);

    /* hard cap: the oldest punch goes first */
    struct rules_config c = {.max_persons = 10};
    ck_assert_int_eq(rules_new(&c, &r), ATT_OK);
    for (unsigned p = 0; p < 11; p++) punch(r, p, 1, CAMERA_ROLE_IN, t + p * SEC);
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.persons, 10);
    ck_assert_uint_eq(st.evicted_forced, 1);
    att_uuid u0;
    uid(&u0, 0);
    struct rules_shift sh;
    rules_open_shift(r, &u0, t + 20 * SEC, &sh);
    ck_assert_int_eq(sh.state, RULES_SHIFT_NONE);
    rules_free(r);
}
END_TEST

START_TEST(seeding_from_database)
{
    rules *r = mk(120 * SEC, 16 * HOUR);
    int64_t t = DAY0 + 22 * HOUR;
    att_uuid a, b, c;
    uid(&a, 1);
    uid(&b, 2);
    uid(&c, 3);
    ck_assert_int_eq(rules_seed(r, &a, EVENT_KIND_IN, t), ATT_OK); /* night shift still open */
    ck_assert_int_eq(rules_seed(r, &b, EVENT_KIND_OUT, t), ATT_OK);
    ck_assert_int_eq(rules_seed(r, &c, EVENT_KIND_IN, t - 2 * HOUR), ATT_OK);
    ck_assert_int_eq(rules_seed(r, &c, EVENT_KIND_OUT, t - 3 * HOUR), ATT_OK); /* older: ignored */
    ck_assert_int_eq(rules_seed(r, &c, EVENT_KIND_NONE, t), ATT_E_INVALID);
    struct rules_shift sh;
    rules_open_shift(r, &c, t, &sh);
    ck_assert_int_eq(sh.state, RULES_SHIFT_OPEN);
    ck_assert_int_eq(sh.in_ts_us, t - 2 * HOUR);

    /* restart just after a punch: the seeded punch still holds the cooldown */
    ASSERT_NONE(punch(r, 1, 1, CAMERA_ROLE_AUTO, t + 30 * SEC), RULES_DUPLICATE_CAMERA);
    struct rules_result o = punch(r, 1, 1, CAMERA_ROLE_AUTO, t + 7 * HOUR);
    ASSERT_EMIT(o, EVENT_KIND_OUT);
    ck_assert_int_eq(o.closes_in_ts_us, t);
    ASSERT_EMIT(punch(r, 2, 1, CAMERA_ROLE_AUTO, t + 7 * HOUR), EVENT_KIND_IN);
    rules_free(r);
}
END_TEST

START_TEST(config_validation)
{
    rules *r = NULL;
    struct rules_config c = {.cooldown_us = 2 * HOUR, .max_shift_us = HOUR};
    ck_assert_int_eq(rules_new(&c, &r), ATT_E_INVALID);
    c = (struct rules_config){.cooldown_us = -1};
    ck_assert_int_eq(rules_new(&c, &r), ATT_E_INVALID);
    ck_assert_int_eq(rules_new(NULL, &r), ATT_OK);
    rules_free(r);
    rules_free(NULL);
}
END_TEST

struct worker_arg {
    rules *r;
    unsigned base;
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    for (unsigned i = 0; i < 500; i++) {
        struct rules_decision d = {.role = CAMERA_ROLE_AUTO, .ts_us = DAY0 + i * SEC, .live = true};
        uid(&d.person, a->base + i);
        struct rules_result res;
        if (rules_apply(a->r, &d, &res) != ATT_OK || res.reason != RULES_EMIT) return (void *)1;
    }
    return NULL;
}

START_TEST(threads_share_one_engine)
{
    rules *r = mk(0, 0);
    pthread_t th[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){r, (unsigned)i * 10000};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        ck_assert_ptr_null(ret);
    }
    struct rules_stats st;
    rules_get_stats(r, &st);
    ck_assert_uint_eq(st.emitted, 2000);
    ck_assert_uint_eq(st.persons, 2000);
    rules_free(r);
}
END_TEST

Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    ts_tcase(s, "core", 0, NULL, NULL, roles_in_out_auto, cooldown_same_and_second_camera, not_live_never_punches,
             night_shift_across_midnight, max_shift_expiry, out_of_order_is_deterministic, eviction_bounds_memory,
             seeding_from_database, config_validation, threads_share_one_engine, NULL);
    return s;
}
