/* The fuzz drivers: each feeds bytes to the daemon's own entry function and checks what must hold
 * whatever the input; shared by fuzz/fuzz_*.c (libFuzzer) and tests/unit/test_fuzz_regress.c (replay). */
#ifndef ATTENDD_FUZZ_DRIVERS_H
#define ATTENDD_FUZZ_DRIVERS_H

#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attendd/camera_mgr.h"
#include "attendd/capture.h"
#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/report.h"
#include "attendd/spool.h"
#include "attendd/store_cameras.h"
#include "attendd/store_events.h"
#include "attendd/store_people.h"
#include "attendd/time.h"
#include "attendd/tz.h"
#include "attendd/uuid.h"
#include "attendd/vision.h"
#include "src/http/http_internal.h"
#include "src/http/multipart.h"
#include "src/store/cursor.h"

/* A broken invariant is a crash on purpose: libFuzzer keeps the input, the replay test fails. */
#define FZ_CHECK(cond)                                                                        \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* The punch route's "now" (2025-01-01T00:00:00Z): a fixed clock keeps every run reproducible. */
#define FZ_NOW_S 1735689600LL
/* Decode limit of the image target: well below the daemon's 50 MP default so that a tiny input
 * declaring a large (valid) image cannot make each run slow; the check itself is the same code. */
#define FZ_MAX_PIXELS (1u << 20)

/* ---- (a) JSON bodies of the write routes ------------------------------------------------------- */

enum fz_route {
    FZ_PEOPLE_CREATE,
    FZ_PEOPLE_UPDATE,
    FZ_CAMERAS_CREATE,
    FZ_CAMERAS_UPDATE,
    FZ_TOKENS_CREATE,
    FZ_PUNCHES_CREATE,
    FZ_SHIFTS_CREATE,
    FZ_SHIFTS_UPDATE,
    FZ_SCHEDULES_CREATE,
    FZ_SCHEDULES_UPDATE,
    FZ_MULTIPART,
    FZ_ROUTES
};

/* A refused body is a 4xx problem+json naming an error code, never a 5xx. */
static inline void fz_check_problem(const struct http_response *resp, att_err e)
{
    FZ_CHECK(resp->status == 400 || resp->status == 415 || resp->status == 422);
    FZ_CHECK(resp->body != NULL && resp->body_len == strlen(resp->body));
    json_t *p = json_loads(resp->body, 0, NULL);
    FZ_CHECK(p != NULL);
    FZ_CHECK(json_is_string(json_object_get(p, "code")));
    FZ_CHECK(strcmp(json_string_value(json_object_get(p, "code")), att_err_code(e)) == 0);
    json_decref(p);
}

/* Multipart photo bodies (faces enrol, identify): first line the Content-Type value, then the body. */
static inline att_err fz_multipart(const char *in, size_t n)
{
    const char *nl = memchr(in, '\n', n);
    size_t ctlen = nl ? (size_t)(nl - in) : n;
    char *ct = malloc(ctlen + 1);
    FZ_CHECK(ct != NULL);
    memcpy(ct, in, ctlen);
    ct[ctlen] = '\0';
    char boundary[MP_BOUNDARY_MAX + 1], err[256] = "";
    att_err e = mp_boundary(ct, boundary, err, sizeof err);
    free(ct);
    if (e != ATT_OK) {
        FZ_CHECK(e == ATT_E_BAD_REQUEST && err[0] != '\0');
        return e;
    }
    FZ_CHECK(strlen(boundary) >= 1 && strlen(boundary) <= MP_BOUNDARY_MAX);
    const char *body = nl ? nl + 1 : in + n;
    size_t blen = (size_t)(in + n - body);
    /* a copy of exactly blen bytes, so that ASan sees any read past the body */
    char *copy = malloc(blen ? blen : 1);
    FZ_CHECK(copy != NULL);
    memcpy(copy, body, blen);
    struct mp_file f;
    e = mp_find_file(copy, blen, boundary, &f, err, sizeof err);
    if (e == ATT_OK) {
        FZ_CHECK(f.data >= copy && f.len <= blen && (size_t)(f.data - copy) <= blen - f.len);
        FZ_CHECK(strlen(f.content_type) < MP_TYPE_MAX);
    } else {
        FZ_CHECK((e == ATT_E_BAD_REQUEST || e == ATT_E_INVALID) && err[0] != '\0');
    }
    free(copy);
    return e;
}

/* First byte: the route; the rest: its request body, checked by the handler's own parse function. */
static inline att_err fz_json_body(const uint8_t *data, size_t size)
{
    if (size == 0) return ATT_OK;
    enum fz_route route = (enum fz_route)(data[0] % FZ_ROUTES);
    size_t n = size - 1;
    char *body = malloc(n ? n : 1); /* exactly n bytes: no NUL for the parser to lean on */
    FZ_CHECK(body != NULL);
    memcpy(body, data + 1, n);
    struct http_response resp = {0};
    json_t *json = NULL;
    att_err e = ATT_OK;
    switch (route) {
    case FZ_PEOPLE_CREATE: {
        struct person_new pn;
        e = http_people_create_body(&resp, body, n, &json, &pn);
        if (e == ATT_OK) FZ_CHECK(pn.employee_no && pn.name && pn.department && !person_new_invalid_field(&pn));
        break;
    }
    case FZ_PEOPLE_UPDATE: {
        struct person_patch pp;
        e = http_people_update_body(&resp, body, n, &json, &pp);
        if (e == ATT_OK) FZ_CHECK(!person_patch_invalid_field(&pp));
        break;
    }
    case FZ_CAMERAS_CREATE:
    case FZ_CAMERAS_UPDATE: {
        struct camera_def d = {.role = CAMERA_ROLE_AUTO, .analysis_fps = 6.0, .enabled = true};
        struct camera_patch p = {0};
        char changed[96];
        e = http_cameras_body(&resp, body, n, route == FZ_CAMERAS_CREATE, &d, &p, changed, sizeof changed);
        if (e == ATT_OK) {
            FZ_CHECK(!p.name || p.name == d.name);
            FZ_CHECK(!p.url || (p.url == d.url && cap_url_validate(d.url, NULL, NULL, 0) == ATT_OK));
            FZ_CHECK(d.analysis_fps >= CAP_FPS_MIN && d.analysis_fps <= CAP_FPS_MAX);
            FZ_CHECK(!d.has_roi || (d.roi.x >= 0 && d.roi.y >= 0 && d.roi.w > 0 && d.roi.h > 0));
        }
        break;
    }
    case FZ_TOKENS_CREATE: {
        struct token_request t;
        e = http_tokens_body(&resp, body, n, &json, &t);
        if (e == ATT_OK) FZ_CHECK((t.role == ROLE_ADMIN || t.role == ROLE_HR) && t.name && *t.name);
        break;
    }
    case FZ_PUNCHES_CREATE: {
        int64_t ts_us;
        struct punch_body pb;
        e = http_punches_body(&resp, body, n, FZ_NOW_S, &json, &pb);
        if (e == ATT_OK) {
            FZ_CHECK(pb.ts_us >= 0 && pb.ts_us / 1000000 <= FZ_NOW_S + 300);
            FZ_CHECK(att_time_parse(pb.ts, &ts_us) && ts_us == pb.ts_us && att_uuid_valid(pb.person_id));
        }
        break;
    }
    case FZ_SHIFTS_CREATE:
    case FZ_SHIFTS_UPDATE: {
        struct shift_body sb;
        e = http_shifts_body(&resp, body, n, route == FZ_SHIFTS_CREATE, &json, &sb);
        if (e == ATT_OK) {
            int min;
            FZ_CHECK(!sb.start || att_time_hhmm_parse(sb.start, &min));
            FZ_CHECK(!sb.end || att_time_hhmm_parse(sb.end, &min));
            FZ_CHECK(route != FZ_SHIFTS_CREATE || (sb.name && sb.start && sb.end));
        }
        break;
    }
    case FZ_SCHEDULES_CREATE:
    case FZ_SCHEDULES_UPDATE: {
        struct schedule_body sb;
        e = http_schedules_body(&resp, body, n, route == FZ_SCHEDULES_CREATE, &json, &sb);
        if (e == ATT_OK && sb.valid_to) {
            int64_t days;
            FZ_CHECK(att_time_date_parse(sb.valid_to, &days));
        }
        break;
    }
    case FZ_MULTIPART:
        e = fz_multipart(body, n);
        free(body);
        return e;
    case FZ_ROUTES: break;
    }
    if (e == ATT_OK) {
        FZ_CHECK(resp.status == 0 && resp.body == NULL);
        FZ_CHECK(route == FZ_CAMERAS_CREATE || route == FZ_CAMERAS_UPDATE || json_is_object(json));
    } else {
        fz_check_problem(&resp, e);
    }
    json_decref(json);
    http_response_clear(&resp);
    free(body);
    return e;
}

/* ---- (b) image decoding ------------------------------------------------------------------------ */

static inline av_status fz_decode(const uint8_t *data, size_t size)
{
    av_err err;
    av_image_info info;
    av_status ps = av_image_probe(data, size, &info, &err);
    av_image *img = NULL;
    av_status ds = av_image_decode(data, size, FZ_MAX_PIXELS, &img, &err);
    if (ds == AV_OK) {
        FZ_CHECK(ps == AV_OK && img != NULL);
        uint64_t px = (uint64_t)av_image_width(img) * (uint64_t)av_image_height(img);
        FZ_CHECK(px == (uint64_t)info.width * info.height && px <= FZ_MAX_PIXELS);
        av_image_free(img);
    } else {
        FZ_CHECK(img == NULL && err.msg[0] != '\0');
    }
    return ds;
}

/* ---- (c) configuration text -------------------------------------------------------------------- */

/* Every key's value as a config text, quoted so spaces and '#' survive. */
static inline char *fz_config_dump(const struct att_config *cfg, size_t *len)
{
    size_t cap = 64 * 1024, off = 0;
    char *out = malloc(cap);
    FZ_CHECK(out != NULL);
    for (size_t i = 0; i < cfg_key_count(); i++) {
        char v[CFG_STR_MAX + 64];
        cfg_key_value(cfg, i, v, sizeof v);
        int w = snprintf(out + off, cap - off, "%s = \"%s\"\n", cfg_key_name(i), v);
        FZ_CHECK(w > 0 && (size_t)w < cap - off);
        off += (size_t)w;
    }
    *len = off;
    return out;
}

static inline att_err fz_config(const uint8_t *data, size_t size)
{
    struct att_config cfg;
    char err[512] = "";
    cfg_defaults(&cfg);
    att_err e = cfg_load_buffer(&cfg, "fuzz.conf", (const char *)data, size, err, sizeof err);
    if (e != ATT_OK) {
        FZ_CHECK(e == ATT_E_CONFIG && strncmp(err, "fuzz.conf:", 10) == 0);
        return e;
    }
    /* what was accepted prints back as a text that loads to the same values */
    size_t len1, len2;
    char *t1 = fz_config_dump(&cfg, &len1);
    struct att_config again;
    cfg_defaults(&again);
    FZ_CHECK(cfg_load_buffer(&again, "dump", t1, len1, err, sizeof err) == ATT_OK);
    char *t2 = fz_config_dump(&again, &len2);
    FZ_CHECK(len1 == len2 && memcmp(t1, t2, len1) == 0);
    free(t1);
    free(t2);
    /* the daemon's next step on a loaded file; its error must say what is wrong */
    if (cfg_validate(&cfg, err, sizeof err) != ATT_OK) FZ_CHECK(err[0] != '\0');
    return ATT_OK;
}

/* ---- (d) spool records ------------------------------------------------------------------------- */

/* An accepted event encodes again and decodes to the same event. */
static inline void fz_spool_roundtrip(const struct att_event *ev)
{
    char buf[SPOOL_PAYLOAD_MAX];
    size_t len;
    FZ_CHECK(spool_event_encode(ev, buf, sizeof buf, &len) == ATT_OK);
    struct att_event back;
    FZ_CHECK(spool_event_decode(buf, len, &back) == ATT_OK);
    FZ_CHECK(att_uuid_eq(&back.id, &ev->id) && att_uuid_eq(&back.person, &ev->person) &&
             att_uuid_eq(&back.camera, &ev->camera));
    FZ_CHECK(back.kind == ev->kind && back.ts_us == ev->ts_us && strcmp(back.source, ev->source) == 0);
    FZ_CHECK(back.similarity == ev->similarity && back.liveness == ev->liveness); /* by value: -0 == 0 */
}

/* The whole input as one payload, then as a segment walked record by record the way the open-time
 * scan walks it (a sound frame is skipped whole, anything else byte by byte). Returns the number
 * of events decoded. */
static inline size_t fz_spool(const uint8_t *data, size_t size)
{
    size_t good = 0;
    struct att_event ev;
    if (spool_event_decode((const char *)data, size, &ev) == ATT_OK) {
        fz_spool_roundtrip(&ev);
        good++;
    }
    size_t pos = 0;
    while (pos < size) {
        size_t len;
        att_err e = spool_record_decode(data + pos, size - pos, &len, &ev);
        FZ_CHECK(len <= size - pos && (len == 0 || (len > 12 && len <= 12 + SPOOL_PAYLOAD_MAX)));
        if (e == ATT_OK) {
            FZ_CHECK(len > 0);
            fz_spool_roundtrip(&ev);
            good++;
        } else {
            FZ_CHECK(e == ATT_E_INVALID);
        }
        pos += len ? len : 1;
    }
    return good;
}

/* ---- (e) query parameters and cursors ---------------------------------------------------------- */

enum fz_param { FZ_CURSOR, FZ_CURSOR_ENCODE, FZ_UUID, FZ_TIME, FZ_DATE, FZ_HHMM, FZ_INT, FZ_BOOL, FZ_PARAMS };

/* First byte: which parser; the rest: the parameter's text (NUL-terminated copy). Returns true when
 * the parser accepted it. */
static inline bool fz_query(const uint8_t *data, size_t size)
{
    if (size == 0) return false;
    enum fz_param which = (enum fz_param)(data[0] % FZ_PARAMS);
    size_t n = size - 1;
    char *s = malloc(n + 1);
    FZ_CHECK(s != NULL);
    memcpy(s, data + 1, n);
    s[n] = '\0';
    bool ok = false;
    switch (which) {
    case FZ_CURSOR: { /* every kind with the key length its list uses */
        static const struct {
            enum cursor_kind kind;
            size_t keylen;
        } kinds[] = {{CURSOR_PEOPLE, 16}, {CURSOR_AUDIT, 8}, {CURSOR_EVENTS, 16}};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            char ts[CURSOR_TS_TEXT];
            struct cursor_pos pos;
            if (cursor_decode(s, kinds[i].kind, kinds[i].keylen, &pos)) {
                ok = true;
                FZ_CHECK(cursor_ts_text(pos.micros, ts)); /* what the store sends PostgreSQL */
                FZ_CHECK(strlen(ts) == 29 && ts[4] == '-' && ts[10] == ' ' && strcmp(ts + 26, "+00") == 0);
            }
        }
        break;
    }
    case FZ_CURSOR_ENCODE: { /* bytes as a position: what the API hands out must come back */
        if (n < 9) break;    /* 8 bytes of microseconds, a key length, the key */
        int64_t micros = 0;
        memcpy(&micros, data + 1, 8);
        size_t keylen = (size_t)data[9] % (CURSOR_KEY_MAX + 1);
        unsigned char key[CURSOR_KEY_MAX] = {0};
        memcpy(key, data + 10, n - 9 < keylen ? n - 9 : keylen);
        char text[CURSOR_TEXT_MAX];
        struct cursor_pos back;
        FZ_CHECK(cursor_encode(CURSOR_EVENTS, micros, key, keylen, text, sizeof text));
        bool in_range = micros >= -62135596800LL * 1000000 && micros <= 253402300799LL * 1000000;
        ok = cursor_decode(text, CURSOR_EVENTS, keylen, &back);
        FZ_CHECK(ok == in_range);
        FZ_CHECK(!ok || (back.micros == micros && memcmp(key, back.key, keylen) == 0));
        FZ_CHECK(!cursor_decode(text, CURSOR_PEOPLE, keylen, &back)); /* kinds never mix */
        break;
    }
    case FZ_UUID: {
        att_uuid u;
        ok = att_uuid_parse(s, &u);
        FZ_CHECK(ok == att_uuid_valid(s));
        if (ok) {
            char text[ATT_UUID_STR];
            att_uuid_format(&u, text);
            FZ_CHECK(strlen(text) == 36 && strncasecmp(text, s, 36) == 0);
        }
        break;
    }
    case FZ_TIME: { /* since, until, a punch's ts */
        int64_t us;
        ok = att_time_parse(s, &us);
        break;
    }
    case FZ_DATE: { /* from, to, valid_from, valid_to */
        int64_t days;
        ok = att_time_date_parse(s, &days);
        if (ok) FZ_CHECK(strlen(s) == 10);
        break;
    }
    case FZ_HHMM: {
        int min;
        ok = att_time_hhmm_parse(s, &min);
        if (ok) FZ_CHECK(min >= 0 && min < 24 * 60);
        break;
    }
    case FZ_INT: { /* limit */
        long long v = -7;
        ok = http_parse_int(s, 1, 1000, &v);
        FZ_CHECK(ok ? v >= 1 && v <= 1000 : v == -7);
        break;
    }
    case FZ_BOOL: { /* active */
        int v = -7;
        ok = http_parse_bool(s, &v);
        FZ_CHECK(ok ? v == 0 || v == 1 : v == -7);
        break;
    }
    case FZ_PARAMS: break;
    }
    free(s);
    return ok;
}

#endif
