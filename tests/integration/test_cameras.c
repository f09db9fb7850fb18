/* Cameras: camera_mgr on its own (tags, in-place changes, removal, sync), and /api/v1/cameras
 * through the real daemon and a real RTSP server: live states, failures and recovery, 422/409,
 * auth, restart/load from the database, and credentials never shown or logged. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attendd/camera_mgr.h"
#include "attendd/uuid.h"
#include "attendd/vision.h"
#include "support.h"
#include "support_api.h"
#include "support_rtsp.h"

/* ---- camera_mgr --------------------------------------------------------------------------------- */

#define ID_A "11111111-1111-4111-8111-111111111111"
#define ID_B "22222222-2222-4222-8222-222222222222"
#define ID_C "33333333-3333-4333-8333-333333333333"

static void def_init(struct camera_def *d, const char *id, const char *name, const char *url)
{
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "%s", id);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->url, sizeof d->url, "%s", url);
    d->role = CAMERA_ROLE_IN;
    d->analysis_fps = 5;
    d->enabled = true;
}

static void expect_invalid(camera_mgr *m, const struct camera_def *d, const char *prefix)
{
    char err[256] = "";
    ck_assert_int_eq(camera_mgr_apply(m, d, err, sizeof err), ATT_E_INVALID);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "err '%s', want prefix '%s'", err, prefix);
}

/* The next frame of any camera (10 s at most). */
static cap_frame *pop(cap_frame_queue *q)
{
    cap_frame *f = NULL;
    long long t0 = ts_now_ms();
    while (!f && ts_now_ms() - t0 < 10000) ck_assert_int_eq(cap_queue_pop(q, 1000, &f), ATT_OK);
    ck_assert_msg(f != NULL, "no frame within 10 s");
    return f;
}

START_TEST(mgr_tags_changes_remove)
{
    char err[256];
    ck_assert_int_eq(cap_global_init(err, sizeof err), ATT_OK); /* as main() does: fast RTSP opens */
    char *clip = ts_data_path("video/shift-change.mp4");
    cap_frame_queue *q = NULL;
    camera_mgr *m = NULL;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    ck_assert_int_eq(camera_mgr_new(q, &m), ATT_OK);
    ck_assert(!camera_mgr_loaded(m));

    struct camera_def a, b;
    def_init(&a, ID_A, "ward-a", clip);
    ck_assert_msg(camera_mgr_apply(m, &a, err, sizeof err) == ATT_OK, "%s", err);

    /* bad definitions change nothing and say which field */
    b = a;
    snprintf(b.url, sizeof b.url, "http://127.0.0.1/x");
    expect_invalid(m, &b, "url:");
    b = a;
    snprintf(b.url, sizeof b.url, "videos/x.mp4");
    expect_invalid(m, &b, "url:");
    b = a;
    b.analysis_fps = 0;
    expect_invalid(m, &b, "analysis_fps:");
    b = a;
    b.analysis_fps = 1000;
    expect_invalid(m, &b, "analysis_fps:");
    b = a;
    b.has_roi = true;
    b.roi = (struct camera_roi){0, 0, 0, 10};
    expect_invalid(m, &b, "roi:");
    b = a;
    b.role = (enum camera_role)7;
    expect_invalid(m, &b, "role:");
    b = a;
    snprintf(b.id, sizeof b.id, "not-a-uuid");
    expect_invalid(m, &b, "id:");

    /* frames carry a tag that maps back to the camera and its current role */
    cap_frame *f = pop(q);
    uint64_t tag_a = f->tag;
    ck_assert_uint_eq(f->camera_id.b[0], 0x11);
    cap_frame_free(f);
    att_uuid uid;
    char id[ATT_UUID_STR];
    enum camera_role role;
    ck_assert_int_eq(camera_mgr_lookup(m, tag_a, &uid, &role), ATT_OK);
    att_uuid_format(&uid, id);
    ck_assert_str_eq(id, ID_A);
    ck_assert_int_eq(role, CAMERA_ROLE_IN);
    a.role = CAMERA_ROLE_AUTO; /* in place: same tag, new role */
    ck_assert_int_eq(camera_mgr_apply(m, &a, err, sizeof err), ATT_OK);
    ck_assert_int_eq(camera_mgr_lookup(m, tag_a, &uid, &role), ATT_OK);
    ck_assert_int_eq(role, CAMERA_ROLE_AUTO);
    ck_assert_int_eq(camera_mgr_add_faces_seen(m, tag_a, 3), ATT_OK);
    ck_assert_int_eq(camera_mgr_add_faces_seen(m, tag_a, 2), ATT_OK);
    uint64_t faces = 0;
    ck_assert_int_eq(camera_mgr_faces_seen(m, ID_A, &faces), ATT_OK);
    ck_assert_uint_eq(faces, 5);
    /* the analysis stage's report: nothing until the first, then the last one */
    struct camera_analysis an;
    ck_assert_int_eq(camera_mgr_analysis(m, ID_A, &an), ATT_OK);
    ck_assert_str_eq(an.need, "");
    ck_assert_uint_eq(an.deficit, 0);
    struct camera_analysis rep = {.need = "visitor", .deficit_fps = 1.5, .deficit = 42};
    ck_assert_int_eq(camera_mgr_set_analysis(m, tag_a, &rep), ATT_OK);
    ck_assert_int_eq(camera_mgr_analysis(m, ID_A, &an), ATT_OK);
    ck_assert_str_eq(an.need, "visitor");
    ck_assert(an.deficit_fps == 1.5);
    ck_assert_uint_eq(an.deficit, 42);
    ck_assert_int_eq(camera_mgr_analysis(m, ID_B, &an), ATT_E_NOT_FOUND);
    ck_assert_int_eq(camera_mgr_set_analysis(m, tag_a + 1000, &rep), ATT_E_NOT_FOUND);

    struct cap_status st;
    ck_assert_int_eq(camera_mgr_status(m, ID_A, &st), ATT_OK);
    ck_assert(st.state == CAP_CONNECTING || st.state == CAP_STREAMING);
    ck_assert_int_eq(camera_mgr_status(m, ID_B, &st), ATT_E_NOT_FOUND);

    /* disable in place */
    a.enabled = false;
    ck_assert_int_eq(camera_mgr_apply(m, &a, err, sizeof err), ATT_OK);
    long long t0 = ts_now_ms();
    do {
        ck_assert_int_eq(camera_mgr_status(m, ID_A, &st), ATT_OK);
        if (st.state != CAP_DISABLED) ts_sleep_ms(50);
    } while (st.state != CAP_DISABLED && ts_now_ms() - t0 < 5000);
    ck_assert_str_eq(cap_state_name(st.state), "disabled");
    uint64_t frames_before = st.frames_in;
    ck_assert_uint_gt(frames_before, 0);

    /* a URL change reopens: same tag, counters carried over */
    a.enabled = true;
    snprintf(a.url, sizeof a.url, "%s/video/corridor-1080p25.mp4", ts_env("ATTENDD_DATA"));
    ck_assert_msg(camera_mgr_apply(m, &a, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_int_eq(camera_mgr_status(m, ID_A, &st), ATT_OK);
    ck_assert_uint_ge(st.frames_in, frames_before);
    do {
        f = pop(q);
        ck_assert_uint_eq(f->tag, tag_a);
        cap_frame_free(f);
    } while (0);

    /* a second camera, a list, then removal: the old tag resolves no more, and is never reused */
    def_init(&b, ID_B, "ward-b", clip);
    b.enabled = false;
    ck_assert_int_eq(camera_mgr_apply(m, &b, err, sizeof err), ATT_OK);
    char ids[4][ATT_UUID_STR];
    ck_assert_uint_eq(camera_mgr_list(m, ids, 4), 2);
    ck_assert_str_eq(ids[0], ID_A);
    ck_assert_str_eq(ids[1], ID_B);
    ck_assert_int_eq(camera_mgr_remove(m, ID_A), ATT_OK);
    ck_assert_int_eq(camera_mgr_remove(m, ID_A), ATT_E_NOT_FOUND);
    ck_assert_int_eq(camera_mgr_lookup(m, tag_a, &uid, &role), ATT_E_NOT_FOUND);
    ck_assert_int_eq(camera_mgr_add_faces_seen(m, tag_a, 1), ATT_E_NOT_FOUND);
    ck_assert_int_eq(camera_mgr_set_analysis(m, tag_a, &rep), ATT_E_NOT_FOUND);
    a.enabled = true;
    ck_assert_int_eq(camera_mgr_apply(m, &a, err, sizeof err), ATT_OK);
    for (;;) { /* frames of the removed instance may still be queued: they no longer resolve */
        f = pop(q);
        uint64_t t = f->tag;
        cap_frame_free(f);
        if (t == tag_a) {
            ck_assert_int_eq(camera_mgr_lookup(m, t, &uid, &role), ATT_E_NOT_FOUND);
            continue;
        }
        ck_assert_uint_gt(t, tag_a);
        ck_assert_int_eq(camera_mgr_lookup(m, t, &uid, &role), ATT_OK);
        att_uuid_format(&uid, id);
        ck_assert_str_eq(id, ID_A);
        break;
    }
    ck_assert_int_eq(camera_mgr_faces_seen(m, ID_A, &faces), ATT_OK);
    ck_assert_uint_eq(faces, 0);

    /* start-up sync: drops what is not listed, starts the rest, and lists a stored definition this
     * build refuses as not running, with the reason */
    struct camera_def defs[2];
    def_init(&defs[0], ID_B, "ward-b", clip);
    defs[0].enabled = false;
    def_init(&defs[1], ID_C, "ward-c", "ftp://127.0.0.1/x");
    size_t failed = 0;
    ck_assert_int_eq(camera_mgr_sync(m, defs, 2, &failed), ATT_E_INVALID);
    ck_assert_uint_eq(failed, 1);
    ck_assert_int_eq(camera_mgr_status(m, ID_A, &st), ATT_E_NOT_FOUND);
    ck_assert_int_eq(camera_mgr_status(m, ID_C, &st), ATT_OK);
    ck_assert_int_eq(st.state, CAP_ERROR);
    ck_assert_msg(strstr(st.last_error, "url"), "last_error: %s", st.last_error);
    ck_assert_int_eq(camera_mgr_status(m, ID_B, &st), ATT_OK);
    ck_assert_int_eq(st.state, CAP_DISABLED);
    /* fixed later through the API: the stub becomes a running camera */
    defs[1].enabled = false;
    snprintf(defs[1].url, sizeof defs[1].url, "%s", clip);
    ck_assert_int_eq(camera_mgr_apply(m, &defs[1], err, sizeof err), ATT_OK);
    ck_assert_int_eq(camera_mgr_status(m, ID_C, &st), ATT_OK);
    ck_assert_int_eq(st.state, CAP_DISABLED);
    ck_assert_str_eq(st.last_error, "");
    camera_mgr_set_loaded(m);
    ck_assert(camera_mgr_loaded(m));

    camera_mgr_free(m);
    cap_queue_free(q);
    free(clip);
}
END_TEST

/* ---- through the daemon ---------------------------------------------------------------------------- */

/* the restart case stops PostgreSQL: it runs on a private cluster, not the run's */
static struct ts_pg g_pg;
static struct ts_daemon D;
static struct ts_rtsp R;
static char g_conninfo[600], g_clip_url[128];
static int g_up;

static void api_setup(void)
{
    g_up = 0;
    ck_assert_int_eq(ts_db_new(g_conninfo, sizeof g_conninfo), 0);
    char *clip = ts_data_path("video/shift-change.mp4");
    ck_assert_int_eq(ts_rtsp_start(&R, clip, 0, 0), 0);
    free(clip);
    ts_rtsp_url(&R, 0, g_clip_url, sizeof g_clip_url);
    memset(&D, 0, sizeof D);
    ck_assert_int_eq(ts_daemon_start(&D, g_conninfo, NULL), 0);
    g_up = 1;
}

static void api_teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    ts_rtsp_stop(&R);
    ts_db_drop(g_conninfo);
}

/* One request against the daemon d; body is JSON or NULL. */
static struct ts_resp call(const struct ts_daemon *d, const char *method, const char *path, const char *token,
                           const char *body)
{
    char u[512];
    snprintf(u, sizeof u, "%s%s", d->url, path);
    struct ts_resp r;
    ck_assert_int_eq(ts_http(method, u, token, body, body ? strlen(body) : 0, body ? "application/json" : NULL, &r), 0);
    return r;
}

/* The request's JSON answer, after checking its status. */
static json_t *call_json(const struct ts_daemon *d, const char *method, const char *path, const char *token,
                         const char *body, long want)
{
    struct ts_resp r = call(d, method, path, token, body);
    ck_assert_msg(r.status == want, "%s %s %s: status %ld, want %ld: %s", method, path, body ? body : "", r.status,
                  want, r.body);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, r.body);
    ts_resp_free(&r);
    return j;
}

/* POST a camera (extra: more JSON members as an object text, or NULL); its id into id_out. */
static json_t *create_on(const struct ts_daemon *d, const char *name, const char *url, const char *extra,
                         char id_out[ATT_UUID_STR])
{
    json_t *b = json_pack("{s:s, s:s}", "name", name, "url", url);
    if (extra) {
        json_error_t e;
        json_t *x = json_loads(extra, 0, &e);
        ck_assert_msg(x != NULL, "bad extra %s", extra);
        json_object_update(b, x);
        json_decref(x);
    }
    char *txt = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    json_t *j = call_json(d, "POST", "/api/v1/cameras", d->admin_token, txt, 201);
    free(txt);
    snprintf(id_out, ATT_UUID_STR, "%s", ts_jstr_opt(j, "id"));
    return j;
}

static json_t *create(const char *name, const char *url, const char *extra, char id_out[ATT_UUID_STR])
{
    return create_on(&D, name, url, extra, id_out);
}

static json_t *get_cam_on(const struct ts_daemon *d, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    return call_json(d, "GET", path, d->hr_token, NULL, 200);
}

static json_t *get_cam(const char *id) { return get_cam_on(&D, id); }

static json_t *patch_cam(const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    return call_json(&D, "PATCH", path, D.admin_token, body, 200);
}

static void delete_cam(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    struct ts_resp r = call(&D, "DELETE", path, D.admin_token, NULL);
    ck_assert_msg(r.status == 204, "DELETE %s: %ld %s", id, r.status, r.body);
    ts_resp_free(&r);
}

/* Poll GET until state is one of want ("a|b"), up to timeout_ms; returns the answer (decref it) and
 * the time waited in *waited (may be NULL). A non-200 answer (database away) is retried. */
static json_t *wait_state_on(const struct ts_daemon *d, const char *id, const char *want, int timeout_ms,
                             long long *waited)
{
    long long t0 = ts_now_ms();
    char last[64] = "(no answer)", err[512] = "";
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    for (;;) {
        struct ts_resp r = call(d, "GET", path, d->hr_token, NULL);
        json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        ts_resp_free(&r);
        if (j) {
            const char *s = ts_jstr_opt(j, "state");
            snprintf(last, sizeof last, "%s", s ? s : "?");
            snprintf(err, sizeof err, "%s", ts_jstr_opt(j, "last_error") ? ts_jstr_opt(j, "last_error") : "");
            char pat[80];
            snprintf(pat, sizeof pat, "|%s|", last);
            char wants[80];
            snprintf(wants, sizeof wants, "|%s|", want);
            if (strstr(wants, pat)) {
                if (waited) *waited = ts_now_ms() - t0;
                return j;
            }
            json_decref(j);
        }
        ck_assert_msg(ts_now_ms() - t0 < timeout_ms, "camera %s: state %s after %d ms, want %s (last_error: %s)", id,
                      last, timeout_ms, want, err);
        ts_sleep_ms(200);
    }
}

static json_t *wait_state(const char *id, const char *want, int timeout_ms, long long *waited)
{
    return wait_state_on(&D, id, want, timeout_ms, waited);
}

/* A 4xx problem answer naming field (NULL: no field check). */
static void expect_problem(const char *method, const char *path, const char *body, long status, const char *field)
{
    ts_expect_problem(call_json(&D, method, path, D.admin_token, body, status), status, status, NULL, field);
}

static bool listed(const char *id)
{
    json_t *j = call_json(&D, "GET", "/api/v1/cameras", D.hr_token, NULL, 200);
    json_t *items = json_object_get(j, "items"), *o;
    size_t i;
    bool found = false;
    json_array_foreach(items, i, o) found = found || strcmp(ts_jstr_opt(o, "id"), id) == 0;
    json_decref(j);
    return found;
}

START_TEST(api_auth_each_route)
{
    ck_assert(g_up);
    char id[ATT_UUID_STR], path[128];
    json_decref(create("auth-cam", g_clip_url, "{\"enabled\": false}", id));
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    struct {
        const char *method, *path, *body;
        long hr_status; /* what an hr token gets */
    } routes[] = {
        {"GET", "/api/v1/cameras", NULL, 200},
        {"POST", "/api/v1/cameras", "{\"name\":\"x\",\"url\":\"/dev/video0\"}", 403},
        {"GET", path, NULL, 200},
        {"PATCH", path, "{\"enabled\":false}", 403},
        {"DELETE", path, NULL, 403},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        struct ts_resp r = call(&D, routes[i].method, routes[i].path, NULL, routes[i].body);
        ck_assert_msg(r.status == 401, "%s %s without a token: %ld", routes[i].method, routes[i].path, r.status);
        ts_resp_free(&r);
        r = call(&D, routes[i].method, routes[i].path, "att_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                 routes[i].body);
        ck_assert_msg(r.status == 401, "%s %s with an unknown token: %ld", routes[i].method, routes[i].path, r.status);
        ts_resp_free(&r);
        r = call(&D, routes[i].method, routes[i].path, D.hr_token, routes[i].body);
        ck_assert_msg(r.status == routes[i].hr_status, "%s %s as hr: %ld, want %ld", routes[i].method, routes[i].path,
                      r.status, routes[i].hr_status);
        ts_resp_free(&r);
    }
    ck_assert(listed(id)); /* hr's attempts changed nothing */
    struct ts_resp r = call(&D, "PUT", path, D.admin_token, "{}");
    ck_assert_int_eq(r.status, 405);
    ts_resp_free(&r);
    delete_cam(id);
}
END_TEST

START_TEST(api_bad_definitions)
{
    ck_assert(g_up);
    const char *P = "/api/v1/cameras";
    char b[1024];
#define BAD(field, ...)                           \
    do {                                          \
        snprintf(b, sizeof b, __VA_ARGS__);       \
        expect_problem("POST", P, b, 422, field); \
    } while (0)
    BAD("url", "{\"name\":\"bad-1\",\"url\":\"http://127.0.0.1/stream\"}");
    BAD("url", "{\"name\":\"bad-2\",\"url\":\"videos/clip.mp4\"}");
    BAD("url", "{\"name\":\"bad-3\",\"url\":\"/dev/sda\"}");
    BAD("url", "{\"name\":\"bad-4\",\"url\":\"rtsp://cam.example/a b\"}");
    BAD("url", "{\"name\":\"bad-5\"}");
    BAD("role", "{\"name\":\"bad-6\",\"url\":\"%s\",\"role\":\"sideways\"}", g_clip_url);
    BAD("analysis_fps", "{\"name\":\"bad-7\",\"url\":\"%s\",\"analysis_fps\":0}", g_clip_url);
    BAD("analysis_fps", "{\"name\":\"bad-8\",\"url\":\"%s\",\"analysis_fps\":1000}", g_clip_url);
    BAD("analysis_fps", "{\"name\":\"bad-9\",\"url\":\"%s\",\"analysis_fps\":\"5\"}", g_clip_url);
    BAD("roi", "{\"name\":\"bad-10\",\"url\":\"%s\",\"roi\":{\"x\":0,\"y\":0,\"w\":0,\"h\":10}}", g_clip_url);
    BAD("roi", "{\"name\":\"bad-11\",\"url\":\"%s\",\"roi\":{\"x\":-1,\"y\":0,\"w\":10,\"h\":10}}", g_clip_url);
    BAD("roi", "{\"name\":\"bad-12\",\"url\":\"%s\",\"roi\":{\"x\":0,\"y\":0,\"w\":10}}", g_clip_url);
    BAD("roi", "{\"name\":\"bad-13\",\"url\":\"%s\",\"roi\":{\"x\":0,\"y\":0,\"w\":10,\"h\":10,\"z\":1}}", g_clip_url);
    BAD("roi", "{\"name\":\"bad-14\",\"url\":\"%s\",\"roi\":[0,0,10,10]}", g_clip_url);
    BAD("colour", "{\"name\":\"bad-15\",\"url\":\"%s\",\"colour\":\"red\"}", g_clip_url);
    BAD("enabled", "{\"name\":\"bad-16\",\"url\":\"%s\",\"enabled\":\"yes\"}", g_clip_url);
    BAD("name", "{\"name\":\"\",\"url\":\"%s\"}", g_clip_url);
    BAD("name", "{\"name\":\"line\\nbreak\",\"url\":\"%s\"}", g_clip_url);
    BAD("name", "{\"name\":\"%0101d\",\"url\":\"%s\"}", 7, g_clip_url);
    BAD("name", "{\"url\":\"%s\"}", g_clip_url);
#undef BAD
    expect_problem("POST", P, "{\"name\":", 400, NULL);
    expect_problem("POST", P, "[1]", 400, NULL);
    {
        char u[256];
        snprintf(u, sizeof u, "%s%s", D.url, P);
        struct ts_resp r;
        ck_assert_int_eq(ts_http("POST", u, D.admin_token, "name=x", 6, "application/x-www-form-urlencoded", &r), 0);
        ck_assert_int_eq(r.status, 415);
        ts_resp_free(&r);
    }
    /* nothing of the above was created */
    json_t *l = call_json(&D, "GET", P, D.hr_token, NULL, 200), *o;
    size_t i;
    json_array_foreach(json_object_get(l, "items"), i, o)
        ck_assert_msg(strncmp(ts_jstr_opt(o, "name"), "bad-", 4) != 0, "%s was created", ts_jstr_opt(o, "name"));
    json_decref(l);

    /* duplicate names: 409 on create and on rename */
    char id1[ATT_UUID_STR], id2[ATT_UUID_STR], path[128];
    json_decref(create("dup-cam", g_clip_url, "{\"enabled\":false}", id1));
    json_decref(create("other-cam", g_clip_url, "{\"enabled\":false}", id2));
    snprintf(b, sizeof b, "{\"name\":\"dup-cam\",\"url\":\"%s\",\"enabled\":false}", g_clip_url);
    expect_problem("POST", P, b, 409, "name");
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id2);
    expect_problem("PATCH", path, "{\"name\":\"dup-cam\"}", 409, "name");

    /* PATCH checks each member like POST; a refused PATCH changes nothing */
    expect_problem("PATCH", path, "{\"analysis_fps\":1000}", 422, "analysis_fps");
    expect_problem("PATCH", path, "{\"url\":\"ftp://127.0.0.1/x\"}", 422, "url");
    expect_problem("PATCH", path, "{\"role\":\"sideways\"}", 422, "role");
    expect_problem("PATCH", path, "{\"roi\":{\"x\":0,\"y\":0,\"w\":10,\"h\":0}}", 422, "roi");
    expect_problem("PATCH", path, "{\"url\":null}", 422, "url");
    expect_problem("PATCH", path, "{\"id\":\"x\"}", 422, "id");
    json_t *j = get_cam(id2);
    ck_assert_str_eq(ts_jstr_opt(j, "name"), "other-cam");
    ck_assert_str_eq(ts_jstr_opt(j, "role"), "auto");
    ck_assert(json_real_value(json_object_get(j, "analysis_fps")) == 6.0);
    ck_assert(json_is_null(json_object_get(j, "roi")));
    json_decref(j);

    /* unknown ids: 404 for every route; a malformed id as well */
    const char *unknown = "/api/v1/cameras/00000000-0000-4000-8000-000000000000";
    const char *malformed = "/api/v1/cameras/not-a-uuid";
    for (int k = 0; k < 2; k++) {
        const char *u = k ? malformed : unknown;
        expect_problem("GET", u, NULL, 404, NULL);
        expect_problem("PATCH", u, "{\"enabled\":true}", 404, NULL);
        expect_problem("DELETE", u, NULL, 404, NULL);
    }
    delete_cam(id1);
    delete_cam(id2);
}
END_TEST

START_TEST(api_streaming_lifecycle)
{
    ck_assert(g_up);
    char id[ATT_UUID_STR];
    json_t *j = create("ward-3 entrance", g_clip_url, "{\"role\":\"in\",\"analysis_fps\":5}", id);
    /* the answer comes before the stream could possibly be open */
    ck_assert_str_eq(ts_jstr_opt(j, "state"), "connecting");
    ck_assert_str_eq(ts_jstr_opt(j, "role"), "in");
    ck_assert_str_eq(ts_jstr_opt(j, "url"), g_clip_url);
    ck_assert(json_is_true(json_object_get(j, "enabled")));
    ck_assert(json_real_value(json_object_get(j, "analysis_fps")) == 5.0);
    ck_assert(json_is_null(json_object_get(j, "roi")));
    ck_assert(json_is_null(json_object_get(j, "last_frame_time")));
    ck_assert_int_eq(ts_jint(j, "frames_analysed"), 0);
    ck_assert_int_eq(ts_jint(j, "faces_seen"), 0);
    json_t *an = json_object_get(j, "analysis"); /* no report from the analysis yet */
    ck_assert(json_is_object(an));
    ck_assert(json_is_null(json_object_get(an, "need")));
    ck_assert(json_number_value(json_object_get(an, "deficit_fps")) == 0);
    ck_assert_int_eq(json_integer_value(json_object_get(an, "deficit_frames")), 0);
    ck_assert_ptr_nonnull(ts_jstr_opt(j, "created_at"));
    json_decref(j);

    long long waited = 0;
    j = wait_state(id, "streaming", 20000, &waited);
    fprintf(stderr, "cameras: POST -> streaming in %lld ms\n", waited);
    ck_assert_ptr_nonnull(ts_jstr_opt(j, "last_frame_time"));
    ck_assert_msg(strncmp(ts_jstr_opt(j, "last_frame_time"), "20", 2) == 0 &&
                      strchr(ts_jstr_opt(j, "last_frame_time"), 'T'),
                  "last_frame_time %s", ts_jstr_opt(j, "last_frame_time"));
    ck_assert(json_is_null(json_object_get(j, "last_error")));
    long long in0 = ts_jint(j, "frames_in"), out0 = ts_jint(j, "frames_analysed") + ts_jint(j, "frames_dropped");
    json_decref(j);
    ts_sleep_ms(3000);
    j = get_cam(id);
    ck_assert_str_eq(ts_jstr_opt(j, "state"), "streaming");
    long long in1 = ts_jint(j, "frames_in"), out1 = ts_jint(j, "frames_analysed") + ts_jint(j, "frames_dropped");
    double fps = json_number_value(json_object_get(j, "input_fps"));
    fprintf(stderr, "cameras: %lld frames in 3 s, input_fps %.1f, sampled %lld (analysed %lld, dropped %lld)\n",
            in1 - in0, fps, out1 - out0, ts_jint(j, "frames_analysed"), ts_jint(j, "frames_dropped"));
    ck_assert_msg(in1 - in0 >= 40, "only %lld frames decoded in 3 s", in1 - in0);
    ck_assert_msg(out1 > out0, "no sampled frame was analysed or dropped in 3 s");
    ck_assert_msg(fps > 10 && fps < 40, "input_fps %.1f", fps);
    json_decref(j);
    ck_assert(listed(id));

    /* disable: state disabled, no frames */
    json_decref(patch_cam(id, "{\"enabled\":false}"));
    j = wait_state(id, "disabled", 10000, &waited);
    ck_assert(json_is_false(json_object_get(j, "enabled")));
    ck_assert(json_number_value(json_object_get(j, "input_fps")) == 0);
    json_decref(j);

    /* enable with an roi, another rate and role: applied in place, streaming again */
    j = patch_cam(id,
                  "{\"enabled\":true,\"roi\":{\"x\":0,\"y\":0,\"w\":640,\"h\":360},\"analysis_fps\":2.5,"
                  "\"role\":\"auto\"}");
    ck_assert_int_eq(ts_jint(json_object_get(j, "roi"), "w"), 640);
    ck_assert(json_real_value(json_object_get(j, "analysis_fps")) == 2.5);
    ck_assert_str_eq(ts_jstr_opt(j, "role"), "auto");
    ck_assert_str_eq(ts_jstr_opt(j, "name"), "ward-3 entrance");
    json_decref(j);
    json_decref(wait_state(id, "streaming", 20000, NULL));
    j = patch_cam(id, "{\"roi\":null,\"name\":\"ward-3 main entrance\"}");
    ck_assert(json_is_null(json_object_get(j, "roi")));
    ck_assert_str_eq(ts_jstr_opt(j, "name"), "ward-3 main entrance");
    ck_assert_int_eq(ts_jint(j, "frames_in") > 0, 1);
    json_decref(j);

    /* delete: gone from the API and from the running cameras */
    delete_cam(id);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    expect_problem("GET", path, NULL, 404, NULL);
    expect_problem("DELETE", path, NULL, 404, NULL);
    ck_assert(!listed(id));
}
END_TEST

/* Files under dir that start like a JPEG (FF D8 FF): a snapshot must never reach the disk. */
static int jpegs_under(const char *dir)
{
    char cmd[512], out[4096] = "";
    snprintf(cmd, sizeof cmd,
             "find '%s' -type f -exec sh -c 'head -c 3 \"$1\" | od -An -tx1 | grep -q \"ff d8 ff\" && echo \"$1\"' "
             "_ {} \\;",
             dir);
    char *argv[] = {"sh", "-c", cmd, NULL};
    ck_assert_int_eq(ts_run(argv, out, sizeof out, 0), 0);
    int n = 0;
    for (char *p = out; (p = strchr(p, '\n')) != NULL; p++) n++;
    if (n) fprintf(stderr, "JPEG files under %s:\n%s", dir, out);
    return n;
}

/* A green pixel of the drawn region of interest: green clearly above blue and red (JPEG-blurred). */
static bool greenish(const uint8_t *p) { return p[1] > 150 && p[1] > p[0] + 60 && p[1] > p[2] + 60; }

START_TEST(api_snapshot)
{
    ck_assert(g_up);
    char id[ATT_UUID_STR], dead[ATT_UUID_STR], off[ATT_UUID_STR], path[160], url[128];
    json_decref(
        create("snap-cam", g_clip_url, "{\"analysis_fps\":2,\"roi\":{\"x\":100,\"y\":80,\"w\":400,\"h\":300}}", id));
    /* nothing listens on this port: the camera never has a frame */
    snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/none", ts_free_port());
    json_decref(create("snap-dead", url, NULL, dead));
    json_decref(create("snap-off", g_clip_url, "{\"enabled\":false}", off));
    long long audits0 = ts_sql_int(g_conninfo, "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot'");

    /* admin only; unknown cameras 404 */
    snprintf(path, sizeof path, "/api/v1/cameras/%s/snapshot", id);
    struct ts_resp r = call(&D, "GET", path, NULL, NULL);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ts_expect_problem(call_json(&D, "GET", path, D.hr_token, NULL, 403), 403, 403, "forbidden", NULL);
    ts_expect_problem(
        call_json(&D, "GET", "/api/v1/cameras/6f1c2a4e-0000-4000-8000-000000000000/snapshot", D.admin_token, NULL, 404),
        404, 404, "not_found", NULL);
    ts_expect_problem(call_json(&D, "GET", "/api/v1/cameras/not-a-uuid/snapshot", D.admin_token, NULL, 404), 404, 404,
                      "not_found", NULL);

    /* no frame yet: 503 with Retry-After; disabled: 409 */
    json_decref(wait_state(dead, "reconnecting|error", 20000, NULL));
    snprintf(path, sizeof path, "/api/v1/cameras/%s/snapshot", dead);
    r = call(&D, "GET", path, D.admin_token, NULL);
    char ra[32];
    ck_assert_msg(r.status == 503, "no frame: %ld %s", r.status, r.body);
    ck_assert_str_eq(r.content_type, "application/problem+json");
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_int_gt(atoi(ra), 0);
    ts_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/cameras/%s/snapshot", off);
    ts_expect_problem(call_json(&D, "GET", path, D.admin_token, NULL, 409), 409, 409, "conflict", NULL);

    /* streaming: the current frame, full size, region of interest drawn */
    json_decref(wait_state(id, "streaming", 20000, NULL));
    snprintf(path, sizeof path, "/api/v1/cameras/%s/snapshot", id);
    r = call(&D, "GET", path, D.admin_token, NULL);
    for (int tries = 0; r.status == 503 && tries < 20; tries++) { /* streaming, first sample on its way */
        ts_resp_free(&r);
        ts_sleep_ms(250);
        r = call(&D, "GET", path, D.admin_token, NULL);
    }
    ck_assert_msg(r.status == 200, "snapshot: %ld %s", r.status, r.content_type);
    ck_assert_str_eq(r.content_type, "image/jpeg");
    char cc[64];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    av_image *img = NULL, *ref = NULL;
    av_err ve;
    ck_assert_msg(av_image_decode(r.body, r.len, 0, &img, &ve) == AV_OK, "not a JPEG: %s", ve.msg);
    char *clip = ts_data_path("video/shift-change.mp4");
    ck_assert_msg(av_image_from_video(clip, 0, &ref, &ve) == AV_OK, "%s", ve.msg);
    free(clip);
    ck_assert_int_eq(av_image_width(img), av_image_width(ref));
    ck_assert_int_eq(av_image_height(img), av_image_height(ref));
    fprintf(stderr, "cameras: snapshot %dx%d, %zu bytes\n", av_image_width(img), av_image_height(img), r.len);
    av_image_free(ref);
    /* the box: green on its edges, not far inside it */
    size_t st = 0;
    const uint8_t *px = av_image_pixels(img, &st);
    int w = av_image_width(img), h = av_image_height(img);
    int edge_green = 0, inner_green = 0;
    for (int y = 100; y < 360; y += 20) {
        edge_green += greenish(px + (size_t)y * st + 100 * 3) + greenish(px + (size_t)y * st + 499 * 3);
        inner_green += greenish(px + (size_t)y * st + 300 * 3);
    }
    for (int x = 120; x < 480; x += 20) edge_green += greenish(px + (size_t)80 * st + (size_t)x * 3);
    av_image_free(img);
    ck_assert_msg(edge_green >= 40, "the region of interest is not drawn: %d green edge samples of 44", edge_green);
    fprintf(stderr, "cameras: snapshot box %d green edge samples of 44, %d of 13 inside\n", edge_green, inner_green);
    ts_resp_free(&r);

    /* every request audited, naming the camera, holding no picture; nothing on disk */
    char q[400];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot' AND target_type = 'camera' AND "
             "target_id = '%s' AND outcome = 'ok' AND detail = '{\"width\":%d,\"height\":%d}'::jsonb",
             id, w, h);
    ck_assert_int_eq(ts_sql_int(g_conninfo, q), 1);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot' AND target_id = '%s' AND outcome = "
             "'unavailable'",
             dead);
    ck_assert_int_eq(ts_sql_int(g_conninfo, q), 1);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot' AND target_id = '%s' AND outcome = "
             "'conflict'",
             off);
    ck_assert_int_eq(ts_sql_int(g_conninfo, q), 1);
    /* hr's refusal is audited by the authentication layer or not at all; the admin's answers all are:
     * 2 unknown + 1 unavailable + 1 conflict + the 200 (and any 503 while the first sample came) */
    long long audits =
        ts_sql_int(g_conninfo, "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot'") - audits0;
    ck_assert_msg(audits >= 5, "%lld snapshot audit rows", audits);
    ck_assert_int_eq(ts_sql_int(g_conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'camera.snapshot' AND "
                                "octet_length(coalesce(detail::text, '')) > 64"),
                     0);
    ck_assert_int_eq(jpegs_under(D.dir), 0);
    delete_cam(id);
    delete_cam(dead);
    delete_cam(off);
}
END_TEST

START_TEST(api_dead_url_does_not_affect_others)
{
    ck_assert(g_up);
    char good[ATT_UUID_STR], bad[ATT_UUID_STR], dead[128];
    json_decref(create("good-cam", g_clip_url, NULL, good));
    json_decref(create("soon-dead-cam", g_clip_url, NULL, bad));
    json_decref(wait_state(good, "streaming", 20000, NULL));
    json_decref(wait_state(bad, "streaming", 20000, NULL));

    int port = ts_free_port();
    ck_assert_int_gt(port, 0);
    snprintf(dead, sizeof dead, "rtsp://127.0.0.1:%d/cam", port);
    char body[256];
    snprintf(body, sizeof body, "{\"url\":\"%s\"}", dead);
    json_t *j = patch_cam(bad, body);
    ck_assert_str_eq(ts_jstr_opt(j, "url"), dead);
    json_decref(j);
    long long waited;
    j = wait_state(bad, "reconnecting|error", 20000, &waited);
    const char *why = ts_jstr_opt(j, "last_error");
    ck_assert_msg(why && *why, "no reason given");
    fprintf(stderr, "cameras: dead URL -> %s in %lld ms: %s\n", ts_jstr_opt(j, "state"), waited, why);
    ck_assert_msg(strstr(why, "refused") || strstr(why, "cannot open"), "last_error: %s", why);
    json_decref(j);

    /* the other camera streams on, undisturbed */
    j = get_cam(good);
    long long in0 = ts_jint(j, "frames_in");
    json_decref(j);
    ts_sleep_ms(3000);
    j = get_cam(good);
    ck_assert_str_eq(ts_jstr_opt(j, "state"), "streaming");
    ck_assert_msg(ts_jint(j, "frames_in") - in0 >= 40, "good camera decoded %lld frames in 3 s",
                  ts_jint(j, "frames_in") - in0);
    json_decref(j);
    j = get_cam(bad);
    ck_assert_msg(!strcmp(ts_jstr_opt(j, "state"), "reconnecting") || !strcmp(ts_jstr_opt(j, "state"), "error"),
                  "state %s", ts_jstr_opt(j, "state"));
    ck_assert(json_number_value(json_object_get(j, "input_fps")) == 0);
    json_decref(j);
    delete_cam(good);
    delete_cam(bad);
}
END_TEST

START_TEST(api_rtsp_server_restart)
{
    ck_assert(g_up);
    char *clip = ts_data_path("video/shift-change.mp4");
    struct ts_rtsp s;
    ck_assert_int_eq(ts_rtsp_start(&s, clip, 0, 0), 0);
    free(clip);
    char url[128], id[ATT_UUID_STR];
    ts_rtsp_url(&s, 0, url, sizeof url);
    json_decref(create("restart-cam", url, NULL, id));
    json_decref(wait_state(id, "streaming", 20000, NULL));
    ts_sleep_ms(1000);

    ck_assert_int_eq(ts_rtsp_stop(&s), 0);
    long long waited;
    json_t *j = wait_state(id, "reconnecting|error", 15000, &waited);
    fprintf(stderr, "cameras: RTSP server stopped -> %s in %lld ms: %s\n", ts_jstr_opt(j, "state"), waited,
            ts_jstr_opt(j, "last_error"));
    ck_assert_msg(ts_jstr_opt(j, "last_error") && *ts_jstr_opt(j, "last_error"), "no reason given");
    long long frames = ts_jint(j, "frames_in");
    json_decref(j);
    ts_sleep_ms(1500); /* a couple of refused attempts */

    ck_assert_int_eq(ts_rtsp_restart(&s), 0);
    j = wait_state(id, "streaming", 10000, &waited);
    fprintf(stderr, "cameras: RTSP server back -> streaming in %lld ms\n", waited);
    ck_assert_int_gt(ts_jint(j, "frames_in"), frames);
    json_decref(j);
    delete_cam(id);
    ts_rtsp_stop(&s);
}
END_TEST

static void assert_no_secret(const char *what, const char *text)
{
    static const char *const secrets[] = {"S3cretPw1", "camuser", "Hunter2pw", "QueryTok9", NULL};
    for (const char *const *s = secrets; *s; s++)
        ck_assert_msg(!strstr(text, *s), "%s contains the credential '%s'", what, *s);
}

static void assert_body_clean(const char *method, const char *path, const char *body)
{
    struct ts_resp r = call(&D, method, path, D.admin_token, body);
    ck_assert_msg(r.status < 300, "%s %s: %ld %s", method, path, r.status, r.body);
    assert_no_secret(path, r.body);
    ts_resp_free(&r);
}

START_TEST(api_credentials_never_shown_or_logged)
{
    ck_assert(g_up);
    char secret_url[256], id[ATT_UUID_STR], path[128];
    snprintf(secret_url, sizeof secret_url, "rtsp://camuser:S3cretPw1@127.0.0.1:%d/cam", R.port);
    json_t *j = create("secret-cam", secret_url, NULL, id);
    char *txt = json_dumps(j, 0);
    assert_no_secret("POST answer", txt);
    free(txt);
    ck_assert_msg(strstr(ts_jstr_opt(j, "url"), "***@127.0.0.1"), "url %s", ts_jstr_opt(j, "url"));
    json_decref(j);
    /* the server asks for no credentials: the camera streams with them */
    json_decref(wait_state(id, "streaming", 20000, NULL));

    /* a dead server behind credentials and a secret query parameter: failures are logged */
    char dead[256], body[400];
    snprintf(dead, sizeof dead, "rtsp://admin:Hunter2pw@127.0.0.1:%d/x?token=QueryTok9", ts_free_port());
    snprintf(body, sizeof body, "{\"url\":\"%s\"}", dead);
    snprintf(path, sizeof path, "/api/v1/cameras/%s", id);
    assert_body_clean("PATCH", path, body);
    json_decref(wait_state(id, "reconnecting|error", 20000, NULL));
    ts_sleep_ms(1500); /* a few more attempts, each logged */
    assert_body_clean("GET", path, NULL);
    assert_body_clean("GET", "/api/v1/cameras", NULL);

    /* the database keeps the full URL (the daemon needs it); the audit log does not */
    char out[512];
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT url FROM cameras WHERE id = '%s'", id);
    ck_assert_int_eq(ts_psql(g_conninfo, sql, out, sizeof out), 0);
    ck_assert_str_eq(out, dead);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE target_id = '%s' AND action LIKE 'camera.%%'", id);
    ck_assert_int_eq(ts_psql(g_conninfo, sql, out, sizeof out), 0);
    ck_assert_int_ge(atoi(out), 2);
    ck_assert_int_eq(
        ts_psql(g_conninfo,
                "SELECT count(*) FROM audit_log WHERE detail::text ~ '(S3cretPw1|camuser|Hunter2pw|QueryTok9)'", out,
                sizeof out),
        0);
    ck_assert_str_eq(out, "0");

    delete_cam(id);
    /* the daemon log (debug level: FFmpeg's own lines included) never names them */
    char *log = ts_slurp(D.log, NULL);
    ck_assert_msg(strstr(log, "secret-cam"), "the log does not mention the camera at all");
    assert_no_secret("the daemon log", log);
    free(log);
}
END_TEST

/* Camera URLs built to make a validator and a redactor disagree, each holding a password with "S3c" in
 * it where some parser may not look for one. The API refuses each with 422 naming `url`, or accepts
 * it and never shows the password: not in its answer, GET /api/v1/cameras, the audit log or the
 * daemon's log (debug level, FFmpeg's lines included). */
static const char *const hostile_urls[] = {
    "rtsp://admin:12345#S3cret@127.0.0.1/live",  /* '#' in the password: a fragment to others */
    "rtsp://admin:554?pw=S3cret@127.0.0.1/live", /* '?' in the password: a query to others */
    "rtsp://admin:S3cret@127.0.0.1:9/live",
    "rtsp://admin:S3c%40ret@127.0.0.1:9/live", /* percent-encoded '@' */
    "rtsp://admin:S3c%3Aret@127.0.0.1:9/x",    /* percent-encoded ':' */
    "rtsp://ad%3Amin:S3cret@127.0.0.1:9/x",
    "rtsp://admin%40corp:S3cret@127.0.0.1:9/x",
    "rtsp://:S3cret@127.0.0.1:9/x", /* empty user */
    "rtsp://admin:S3c/ret@127.0.0.1:9/x",
    "rtsp://admin:S3c@ret@127.0.0.1:9/x",
    "rtsp://admin:S3c ret@127.0.0.1:9/x",
    "rtsp://admin:S3c\tret@127.0.0.1:9/x",
    "rtsp://admin:S3cret\"@127.0.0.1:9/x",
    "rtsp://admin:S3cret\\@127.0.0.1:9/x",
    "rtsp://admin:S3c%ret@127.0.0.1:9/x", /* '%' that is no escape */
    "rtsp://admin:S3cret@[::1]:9/x",      /* IPv6 host */
    "rtsp://admin:S3cret@[::1/x",
    "rtsp://[::1]:S3cret@127.0.0.1:9/x",
    "rtsp://admin:S3cret@127.0.0.1:9@other/x",
    "RTSPS://admin:S3cret@127.0.0.1:9/x",
    "rtsp://127.0.0.1:9/x?p=S3cret", /* short secret parameter names */
    "rtsp://127.0.0.1:9/x?u=admin&pw=S3cret",
    "rtsp://127.0.0.1:9/x?P%57=S3cret", /* a percent-encoded name */
    "rtsp://127.0.0.1:9/x?a=1&pass=S3cret&b=2",
    "rtsp://127.0.0.1:9/x?password=S3cret#frag",
    "rtsp://127.0.0.1:9/x?token=S3cret;key=S3cret",
    "rtsp://127.0.0.1:9/x;auth=S3cret",
    "rtsp://127.0.0.1:9/user=admin_password=S3cret_channel=1&.sdp",
    "rtsp://admin:S3cret@127.0.0.1:9/x?next=rtsp://u:S3cret@h/",
};

START_TEST(api_hostile_urls_refused_or_never_leak)
{
    ck_assert(g_up);
    size_t n = sizeof hostile_urls / sizeof *hostile_urls;
    ck_assert_int_ge(n, 20);
    char ids[sizeof hostile_urls / sizeof *hostile_urls][ATT_UUID_STR];
    size_t accepted = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "hostile-%zu", i);
        json_t *b = json_pack("{s:s, s:s}", "name", name, "url", hostile_urls[i]);
        char *txt = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        struct ts_resp r = call(&D, "POST", "/api/v1/cameras", D.admin_token, txt);
        free(txt);
        ck_assert_msg(!strstr(r.body, "S3c"), "url #%zu: the answer shows the password: %s", i, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_msg(j && (r.status == 201 || r.status == 422), "url #%zu: %ld %s", i, r.status, r.body);
        if (r.status == 422) {
            ck_assert_msg(ts_jstr_opt(j, "field") && strcmp(ts_jstr_opt(j, "field"), "url") == 0, "url #%zu: %s", i,
                          r.body);
            refused++;
        } else {
            snprintf(ids[accepted++], ATT_UUID_STR, "%s", ts_jstr_opt(j, "id"));
        }
        json_decref(j);
        ts_resp_free(&r);
    }
    /* both outcomes occur: some forms are fine URLs that must be masked, others are refused */
    ck_assert_int_gt(accepted, 5);
    ck_assert_int_gt(refused, 5);
    ts_sleep_ms(1500); /* connection attempts, each logged */
    struct ts_resp r = call(&D, "GET", "/api/v1/cameras", D.hr_token, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!strstr(r.body, "S3c"), "GET /api/v1/cameras shows a password: %s", r.body);
    ts_resp_free(&r);
    char out[64];
    ck_assert_int_eq(
        ts_psql(g_conninfo, "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%S3c%'", out, sizeof out), 0);
    ck_assert_str_eq(out, "0");
    for (size_t i = 0; i < accepted; i++) delete_cam(ids[i]);
    char *log = ts_slurp(D.log, NULL);
    ck_assert_msg(strstr(log, "hostile-"), "the log does not mention the cameras at all");
    char *leak = strstr(log, "S3c");
    ck_assert_msg(!leak, "the daemon log shows a password: %.200s", leak ? (leak > log + 100 ? leak - 100 : log) : "");
    free(log);
}
END_TEST

/* ---- camera_allow: where cameras may be, enforced before any connection --------------------------- */

/* A TCP listener on addr (non-blocking); its port into *port. */
static int listen_on(const char *addr, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    ck_assert_int_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
    socklen_t sl = sizeof sa;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Connections accepted on fd within ms (each closed at once). */
static int connects_within(int fd, int ms)
{
    int n = 0;
    for (long long t0 = ts_now_ms(); ts_now_ms() - t0 < ms; ts_sleep_ms(50)) {
        int c;
        while ((c = accept(fd, NULL, NULL)) >= 0) {
            close(c);
            n++;
        }
    }
    return n;
}

/* With camera_allow = 127.0.0.2/32, a camera on 127.0.0.1 is refused with 422 naming `url` and
 * never connected to, by address or by a name resolving there; one on 127.0.0.2 is (which shows the
 * listeners would see a connection). File sources: no /proc path, no FIFO, no device behind a link. */
START_TEST(api_camera_allow_enforced_before_connect)
{
    ck_assert(g_up);
    struct ts_daemon d = {0};
    ck_assert_int_eq(ts_daemon_start(&d, g_conninfo, "camera_allow = 127.0.0.2/32\n"), 0);
    int out_port, in_port;
    int outside = listen_on("127.0.0.1", &out_port), inside = listen_on("127.0.0.2", &in_port);
    char url[128], id[ATT_UUID_STR], body[300];

    snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/x", out_port);
    snprintf(body, sizeof body, "{\"name\":\"outside\",\"url\":\"%s\"}", url);
    json_t *j = call_json(&d, "POST", "/api/v1/cameras", d.admin_token, body, 422);
    ck_assert_str_eq(ts_jstr_opt(j, "field"), "url");
    ck_assert_msg(strstr(ts_jstr_opt(j, "detail"), "camera_allow"), "%s", ts_jstr_opt(j, "detail"));
    json_decref(j);
    /* the decimal and short forms of the same address too */
    snprintf(body, sizeof body, "{\"name\":\"outside\",\"url\":\"rtsp://2130706433:%d/x\"}", out_port);
    json_decref(call_json(&d, "POST", "/api/v1/cameras", d.admin_token, body, 422));

    /* a name is checked once resolved: the pre-flight connects to nothing outside */
    snprintf(url, sizeof url, "rtsp://localhost:%d/x", out_port);
    json_decref(create_on(&d, "by-name", url, NULL, id));
    j = wait_state_on(&d, id, "reconnecting|error", 20000, NULL);
    ck_assert_msg(strstr(ts_jstr_opt(j, "last_error"), "camera_allow"), "last_error: %s", ts_jstr_opt(j, "last_error"));
    json_decref(j);

    snprintf(url, sizeof url, "rtsp://127.0.0.2:%d/x", in_port);
    char inside_id[ATT_UUID_STR];
    json_decref(create_on(&d, "inside", url, NULL, inside_id));
    ck_assert_int_gt(connects_within(inside, 10000), 0);
    ck_assert_int_eq(connects_within(outside, 1500), 0);

    /* file sources */
    json_decref(call_json(&d, "POST", "/api/v1/cameras", d.admin_token,
                          "{\"name\":\"proc\",\"url\":\"/proc/self/root/dev/zero\"}", 422));
    char fifo[320], link[320];
    snprintf(fifo, sizeof fifo, "%s/cam.mp4", d.dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    json_decref(create_on(&d, "fifo", fifo, NULL, id));
    j = wait_state_on(&d, id, "reconnecting|error", 10000, NULL);
    ck_assert_msg(strstr(ts_jstr_opt(j, "last_error"), "not a regular file"), "last_error: %s",
                  ts_jstr_opt(j, "last_error"));
    json_decref(j);
    snprintf(link, sizeof link, "%s/dev.mp4", d.dir);
    ck_assert_int_eq(symlink("/dev/zero", link), 0);
    json_decref(create_on(&d, "device", link, NULL, id));
    j = wait_state_on(&d, id, "reconnecting|error", 10000, NULL);
    ck_assert_msg(strstr(ts_jstr_opt(j, "last_error"), "not a regular file"), "last_error: %s",
                  ts_jstr_opt(j, "last_error"));
    json_decref(j);

    close(outside);
    close(inside);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 30), 0);
}
END_TEST

/* ---- start-up: cameras come from the database, also when it is away at first ---------------------- */

static void restart_setup(void)
{
    g_up = 0;
    ck_assert_int_eq(ts_pg_start(&g_pg), 0);
    ck_assert_int_eq(ts_pg_new_db(&g_pg, g_conninfo, sizeof g_conninfo), 0);
    char *clip = ts_data_path("video/shift-change.mp4");
    ck_assert_int_eq(ts_rtsp_start(&R, clip, 0, 0), 0);
    free(clip);
    ts_rtsp_url(&R, 0, g_clip_url, sizeof g_clip_url);
    g_up = 1;
}

static void restart_teardown(void)
{
    ts_rtsp_stop(&R);
    ts_pg_stop(&g_pg);
}

START_TEST(daemon_loads_cameras_at_start)
{
    ck_assert(g_up);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, g_conninfo, NULL), 0);
    char on[ATT_UUID_STR], off[ATT_UUID_STR];
    json_decref(create_on(&d, "loaded-cam", g_clip_url, "{\"role\":\"out\"}", on));
    json_decref(create_on(&d, "loaded-off", g_clip_url, "{\"enabled\":false}", off));
    json_decref(wait_state_on(&d, on, "streaming", 20000, NULL));
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 30), 0);

    /* a plain restart: both are back as they were */
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    json_t *j = wait_state_on(&d, on, "streaming", 20000, NULL);
    ck_assert_str_eq(ts_jstr_opt(j, "role"), "out");
    json_decref(j);
    json_decref(wait_state_on(&d, off, "disabled", 5000, NULL));
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 30), 0);

    /* start with the database away: the daemon serves, and starts the cameras once it is back */
    ts_pg_cluster(&g_pg, "stop");
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    ts_sleep_ms(3000);
    ts_pg_cluster(&g_pg, "start");
    long long waited;
    json_decref(wait_state_on(&d, on, "streaming", 40000, &waited));
    fprintf(stderr, "cameras: database back -> camera streaming after %lld ms\n", waited);
    json_decref(wait_state_on(&d, off, "disabled", 5000, NULL));
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 30), 0);
    char *log = ts_slurp(d.log, NULL);
    ck_assert_msg(strstr(log, "cameras: 2 defined, 2 started"), "no load line in the log");
    free(log);
    char *rm[] = {"rm", "-rf", d.dir, NULL};
    if (strncmp(d.dir, "/tmp/attendd-daemon-", 20) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            execvp(rm[0], rm);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
    }
}
END_TEST

Suite *cameras_suite(void)
{
    Suite *s = suite_create("cameras");
    ts_tcase(s, "mgr", 60, NULL, NULL, mgr_tags_changes_remove, NULL);
    ts_tcase(s, "api", 180, api_setup, api_teardown, api_auth_each_route, api_bad_definitions, api_streaming_lifecycle,
             api_dead_url_does_not_affect_others, api_rtsp_server_restart, api_credentials_never_shown_or_logged,
             api_hostile_urls_refused_or_never_leak, api_snapshot, NULL);
    ts_tcase(s, "allow", 180, restart_setup, restart_teardown, api_camera_allow_enforced_before_connect, NULL);
    ts_tcase(s, "restart", 300, restart_setup, restart_teardown, daemon_loads_cameras_at_start, NULL);
    return s;
}
