/* Operations end to end: `attendctl backup-check` against a real database, key files and spool (in
 * agreement, and each disagreement it must name), info-level logs free of secrets and names, and
 * SIGHUP re-applying the configuration's camera.NAME lines without losing events. */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/keyfile.h"
#include "attendd/spool.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_api.h"
#include "support_store.h"
#include "support_rtsp.h" /* ts_free_port */

struct fixture {
    struct ts_daemon d;
    char conninfo[600];
    char face[2][ATT_UUID_STR];
    struct spool_pos rec[3]; /* the three spooled events */
    char spool_dir[400];
};

/* A migrated database with two templates under the daemon's key, and three events in its spool
 * (the daemon stopped, as for a cold backup; the check also works while it runs). */
static void setup(struct fixture *f)
{
    char err[512], path[400];
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(ts_db_new(f->conninfo, sizeof f->conninfo), 0);
    f->d.keep_dir = 1;
    f->d.no_tokens = 1;
    ck_assert_int_eq(ts_daemon_start(&f->d, f->conninfo, NULL), 0); /* migrates, writes the keys */
    ck_assert_int_eq(ts_daemon_stop(&f->d, SIGTERM, 60), 0);

    PGconn *c;
    ck_assert_msg(db_connect(f->conninfo, "test", &c, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_msg(db_prepare_all(c, err, sizeof err) == ATT_OK, "%s", err);
    char person[ATT_UUID_STR];
    struct person_new pn = {.employee_no = "B-1", .name = "Backup Check", .active = true};
    ck_assert_int_eq(store_person_create(c, &pn, person), ATT_OK);
    tcrypt_key *k;
    snprintf(path, sizeof path, "%s/template.key", f->d.dir);
    ck_assert_msg(tcrypt_key_load(path, &k, err, sizeof err) == ATT_OK, "%s", err);
    ts_add_face(c, person, k, f->face[0]);
    ts_add_face(c, person, k, f->face[1]);
    tcrypt_key_free(k);
    PQfinish(c);

    snprintf(f->spool_dir, sizeof f->spool_dir, "%s/state/spool", f->d.dir);
    spool *s;
    ck_assert_msg(spool_open(f->spool_dir, NULL, &s, err, sizeof err) == ATT_OK, "%s", err);
    for (int i = 0; i < 3; i++) {
        struct att_event ev = {.kind = EVENT_KIND_IN,
                               .ts_us = 1700000000000000LL + i,
                               .similarity = 0.7f,
                               .liveness = 0.9f,
                               .source = "camera"};
        for (int b = 0; b < ATT_UUID_BYTES; b++) {
            ev.id.b[b] = (uint8_t)rand();
            ev.person.b[b] = (uint8_t)rand();
            ev.camera.b[b] = (uint8_t)rand();
        }
        ck_assert_msg(spool_append(s, &ev, &f->rec[i], err, sizeof err) == ATT_OK, "%s", err);
    }
    spool_close(s);
}

static void teardown(struct fixture *f)
{
    if (strncmp(f->d.dir, "/tmp/attendd-daemon-", 20) == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->d.dir);
        ck_assert_int_eq(system(cmd), 0);
    }
}

static int backup_check(struct fixture *f, char *out, size_t len)
{
    const char *args[] = {"backup-check", NULL};
    return ts_attendctl(&f->d, out, len, args);
}

START_TEST(agrees_then_names_a_wrong_template_key)
{
    struct fixture f;
    char out[4096], err[512], other[400];
    setup(&f);
    ck_assert_msg(backup_check(&f, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "templates: 2 of 2 decrypt"), "%s", out);
    ck_assert_msg(strstr(out, "3 record(s) verified, 0 corrupt"), "%s", out);
    ck_assert_msg(strstr(out, "all checks passed"), "%s", out);

    /* the key file of another installation: every template is under a key we do not hold */
    snprintf(other, sizeof other, "%s/other.key", f.d.dir);
    ck_assert_int_eq(keyfile_create(other, err, sizeof err), ATT_OK);
    setenv("ATTENDD_TEMPLATE_KEY_FILE", other, 1);
    int rc = backup_check(&f, out, sizeof out);
    unsetenv("ATTENDD_TEMPLATE_KEY_FILE");
    ck_assert_msg(rc != 0, "%s", out);
    ck_assert_msg(strstr(out, "templates: 0 of 2 decrypt"), "%s", out);
    ck_assert_msg(strstr(out, "2 encrypted under another key"), "%s", out);
    ck_assert_msg(!strstr(out, "all checks passed"), "%s", out);

    /* a token key file that is not a key */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/bad.key", f.d.dir);
    int fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "short", 5), 5);
    close(fd);
    setenv("ATTENDD_TOKEN_KEY_FILE", bad, 1);
    rc = backup_check(&f, out, sizeof out);
    unsetenv("ATTENDD_TOKEN_KEY_FILE");
    ck_assert_msg(rc != 0 && strstr(out, "FAIL token key"), "%s", out);
    teardown(&f);
}
END_TEST

START_TEST(names_an_altered_template_row)
{
    struct fixture f;
    char out[4096], sql[300];
    setup(&f);
    /* one bit of the ciphertext flipped, header (and so key id) intact */
    snprintf(sql, sizeof sql,
             "UPDATE faces SET template = set_byte(template, 100, get_byte(template, 100) # 1) WHERE id = '%s'",
             f.face[1]);
    ck_assert_int_eq(ts_psql(f.conninfo, sql, NULL, 0), 0);
    ck_assert_int_ne(backup_check(&f, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "templates: 1 of 2 decrypt"), "%s", out);
    ck_assert_msg(strstr(out, "1 corrupt"), "%s", out);
    ck_assert_msg(strstr(out, f.face[1]), "the failing face is named: %s", out);
    ck_assert_msg(!strstr(out, f.face[0]), "%s", out);

    /* a schema this binary does not know: refused before anything else is read */
    ck_assert_int_eq(
        ts_psql(f.conninfo, "INSERT INTO attendd_schema (version, name) VALUES (999, '999_future')", NULL, 0), 0);
    ck_assert_int_ne(backup_check(&f, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "FAIL database"), "%s", out);
    teardown(&f);
}
END_TEST

START_TEST(names_a_corrupt_spool_record)
{
    struct fixture f;
    char out[4096], seg[600];
    setup(&f);
    ck_assert(f.rec[1].seg == f.rec[2].seg);
    snprintf(seg, sizeof seg, "%s/%016" PRIx64 ".seg", f.spool_dir, f.rec[1].seg);
    /* a byte inside the middle record's payload: its checksum no longer matches */
    int fd = open(seg, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char b;
    off_t at = (off_t)f.rec[1].off + 12 + 10;
    ck_assert_int_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
    ck_assert_int_ne(backup_check(&f, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "1 corrupt region"), "%s", out);
    ck_assert_msg(strstr(out, "2 record(s) verified, 1 corrupt"), "the records around it still count: %s", out);
    ck_assert_msg(strstr(out, "templates: 2 of 2 decrypt"), "%s", out);
    teardown(&f);
}
END_TEST

/* ---- logs at info level hold no secrets, names or templates --------------------------------------- */

/* POST/PATCH a JSON body; returns the parsed reply (caller json_decref) and checks the status. */
static json_t *api(const char *method, const char *url, const char *token, const char *body, const char *ctype,
                   size_t len, long want)
{
    struct ts_resp r;
    ck_assert_int_eq(ts_http(method, url, token, body, body ? (len ? len : strlen(body)) : 0, ctype, &r), 0);
    ck_assert_msg(r.status == want, "%s %s: %ld, expected %ld: %.300s", method, url, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    ts_resp_free(&r);
    return j;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* The longest run of consecutive decimal fractions ("0.0123", "-1.5e-3") separated by commas, blanks
 * or brackets: an embedding printed in any usual way is hundreds long. */
static int longest_float_run(const char *s)
{
    int run = 0, best = 0;
    const char *p = s;
    while (*p) {
        while (*p && strchr(" ,[]\t\"", *p)) p++;
        const char *t = p;
        while (*p && !strchr(" ,[]\t\"\n", *p)) p++;
        if (*p == '\n') { /* a new line breaks a run */
            p++;
        }
        char tok[64];
        size_t n = (size_t)(p - t);
        if (n == 0 || n >= sizeof tok) {
            run = 0;
            continue;
        }
        memcpy(tok, t, n);
        tok[n] = '\0';
        while (n && tok[n - 1] == '\n') tok[--n] = '\0';
        char *end;
        (void)strtod(tok, &end);
        if (*end == '\0' && strchr(tok, '.')) {
            if (++run > best) best = run;
        } else {
            run = 0;
        }
    }
    return best;
}

START_TEST(info_logs_hold_no_secrets)
{
    char conninfo[600], u[256], body[600];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, "log_level = info\n"), 0);

    /* a token made through the API, then used; and a wrong token presented */
    snprintf(u, sizeof u, "%s/api/v1/tokens", d.url);
    json_t *t = api("POST", u, d.admin_token, "{\"name\":\"leak-probe\",\"role\":\"hr\"}", "application/json", 0, 201);
    char secret[128];
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(t, "token")));
    json_decref(t);
    ck_assert_int_gt(strlen(secret), 20);
    snprintf(u, sizeof u, "%s/api/v1/people", d.url);
    json_decref(api("GET", u, secret, NULL, NULL, 0, 200));
    const char *forged = "att_QmFkVG9rZW5UaGF0TXVzdE5ldmVyQmVMb2dnZWQxMjM";
    ck_assert_int_eq(strlen(forged), 47); /* well-formed: att_ and 32 bytes in base64url, so it is looked up */
    json_decref(api("GET", u, forged, NULL, NULL, 0, 401));

    /* a camera whose URL holds a password, on a port where nothing answers */
    snprintf(u, sizeof u, "%s/api/v1/cameras", d.url);
    snprintf(body, sizeof body,
             "{\"name\":\"leak-cam\",\"url\":\"rtsp://viewer:secretpw@127.0.0.1:%d/stream1\",\"role\":\"in\"}",
             ts_free_port());
    json_decref(api("POST", u, d.admin_token, body, "application/json", 0, 201));

    /* a person with a distinctive name, enrolled, identified and punched by hand */
    snprintf(u, sizeof u, "%s/api/v1/people", d.url);
    json_t *p = api("POST", u, d.admin_token,
                    "{\"employee_no\":\"LEAK-90817\",\"name\":\"Zyxwv Quillfeather\",\"department\":\"ICU\"}",
                    "application/json", 0, 201);
    char person[64];
    snprintf(person, sizeof person, "%s", json_string_value(json_object_get(p, "id")));
    json_decref(p);
    size_t len;
    char *img1 = ts_data_path("faces/img1.jpg"), *img2 = ts_data_path("faces/img2.jpg");
    char *photo = read_all(img1, &len);
    ts_api_consent_given(d.url, d.admin_token, person);
    snprintf(u, sizeof u, "%s/api/v1/people/%s/faces", d.url, person);
    json_decref(api("POST", u, d.admin_token, photo, "image/jpeg", len, 201));
    free(photo);
    photo = read_all(img2, &len);
    snprintf(u, sizeof u, "%s/api/v1/identify", d.url);
    json_t *id = api("POST", u, d.hr_token, photo, "image/jpeg", len, 200);
    char *txt = json_dumps(id, JSON_COMPACT);
    ck_assert_msg(txt && strstr(txt, person), "img2 was not identified as the person enrolled: %s", txt);
    free(txt);
    json_decref(id);
    free(photo);
    free(img1);
    free(img2);
    snprintf(u, sizeof u, "%s/api/v1/punches", d.url);
    time_t now = time(NULL) - 60;
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(body, sizeof body, "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"%s\",\"reason\":\"badge lost\"}",
             person, ts);
    json_decref(api("POST", u, d.hr_token, body, "application/json", 0, 201));

    /* let the camera fail to connect at least once, then stop so every line is written */
    snprintf(u, sizeof u, "%s/api/v1/cameras", d.url);
    for (int i = 0; i < 100; i++) {
        struct ts_resp r;
        ck_assert_int_eq(ts_http("GET", u, d.admin_token, NULL, 0, NULL, &r), 0);
        int failed = strstr(r.body, "Connection refused") != NULL;
        ts_resp_free(&r);
        if (failed) break;
        usleep(100000);
    }
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);

    char *log = read_all(d.log, NULL);
    /* the log is the real one: requests and the camera's failure are in it */
    ck_assert_msg(strstr(log, "enrolled for person") && strstr(log, "manual punch"), "requests not logged: %s", log);
    ck_assert_msg(strstr(log, "Connection refused"), "camera failure not logged: %s", log);
    const char *never[] = {d.admin_token, d.hr_token, secret,         forged,
                           "secretpw",    "Zyxwv",    "Quillfeather", "LEAK-90817"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        ck_assert_msg(strstr(log, never[i]) == NULL, "the log holds '%s'", never[i]);
    /* the detector itself: an embedding-like line is caught, figures like "0.3 s" are not */
    ck_assert_int_ge(
        longest_float_run("v=[0.125, -0.25, 3.5e-2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\nreconnecting in 0.3 s\n"), 9);
    int run = longest_float_run(log);
    ck_assert_msg(run < 8, "the log holds a run of %d numbers (an embedding?)", run);
    free(log);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d.dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- SIGHUP re-applies camera.NAME lines ------------------------------------------------------------ */

static int log_count(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
    fclose(f);
    return n;
}

/* GET /api/v1/cameras as name -> camera object; caller json_decref. */
static json_t *cameras_by_name(const struct ts_daemon *d)
{
    char u[160];
    snprintf(u, sizeof u, "%s/api/v1/cameras", d->url);
    json_t *j = api("GET", u, d->admin_token, NULL, NULL, 0, 200), *out = json_object(), *c;
    size_t i;
    json_array_foreach(json_object_get(j, "items"), i, c)
        json_object_set(out, json_string_value(json_object_get(c, "name")), c);
    json_decref(j);
    return out;
}

static const char *cam_str(json_t *cams, const char *name, const char *member)
{
    json_t *c = json_object_get(cams, name);
    ck_assert_msg(c != NULL, "no camera %s", name);
    return json_string_value(json_object_get(c, member));
}

/* Replace the configuration's camera.* lines with lines, then SIGHUP and wait for the log line
 * marker to appear once more than the reloads_before times it had. */
static void reconfigure(struct ts_daemon *d, const char *lines, const char *marker, int reloads_before)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sed -i '/^camera\\./d' '%s'", d->conf);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(d->conf, "a");
    ck_assert_ptr_nonnull(f);
    fputs(lines, f);
    fclose(f);
    kill(d->pid, SIGHUP);
    for (int i = 0; i < 600 && log_count(d->log, marker, NULL) <= reloads_before; i++) usleep(50000);
    ck_assert_int_eq(log_count(d->log, marker, NULL), reloads_before + 1);
}

static void punch(const struct ts_daemon *d, const char *person, int minutes_ago)
{
    char u[160], body[300], ts[32];
    time_t t = time(NULL) - 60 * minutes_ago;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(u, sizeof u, "%s/api/v1/punches", d->url);
    snprintf(body, sizeof body, "{\"person_id\":\"%s\",\"kind\":\"%s\",\"ts\":\"%s\",\"reason\":\"test\"}", person,
             minutes_ago % 2 ? "out" : "in", ts);
    json_decref(api("POST", u, d->hr_token, body, "application/json", 0, 201));
}

START_TEST(sighup_reapplies_config_cameras)
{
    char conninfo[600], u1[200], u2[200], extra[800], lines[800];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_rtsp rtsp;
    char *clip = ts_data_path("video/shift-change.mp4");
    ck_assert_int_eq(ts_rtsp_start(&rtsp, clip, 0, 2), 0);
    free(clip);
    ts_rtsp_url(&rtsp, 1, u1, sizeof u1);
    ts_rtsp_url(&rtsp, 2, u2, sizeof u2);
    snprintf(extra, sizeof extra, "camera.entrance = %s role=in fps=1\ncamera.side = %s role=out fps=1\n", u1, u2);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, extra), 0);

    json_t *cams = cameras_by_name(&d);
    ck_assert_int_eq(json_object_size(cams), 2);
    char entrance[64], side[64];
    snprintf(entrance, sizeof entrance, "%s", cam_str(cams, "entrance", "id"));
    snprintf(side, sizeof side, "%s", cam_str(cams, "side", "id"));
    ck_assert_str_eq(cam_str(cams, "side", "role"), "out");
    json_decref(cams);

    /* a person and punches before, during and after the reloads: none may be lost or doubled */
    char u[160];
    snprintf(u, sizeof u, "%s/api/v1/people", d.url);
    json_t *p = api("POST", u, d.admin_token, "{\"employee_no\":\"R-1\",\"name\":\"Reload\",\"department\":\"ICU\"}",
                    "application/json", 0, 201);
    char person[64];
    snprintf(person, sizeof person, "%s", json_string_value(json_object_get(p, "id")));
    json_decref(p);
    punch(&d, person, 50);
    punch(&d, person, 45);

    /* entrance unchanged, side moved to another stream, lobby added */
    int entrance_lines = log_count(d.log, "\"entrance\"", NULL);
    snprintf(lines, sizeof lines,
             "camera.entrance = %s role=in fps=1\ncamera.side = %s role=out fps=1\n"
             "camera.lobby = %s fps=1\n",
             u1, u1, u2);
    reconfigure(&d, lines, "configuration reloaded", 0);
    punch(&d, person, 40);
    cams = cameras_by_name(&d);
    ck_assert_int_eq(json_object_size(cams), 3);
    ck_assert_str_eq(cam_str(cams, "entrance", "id"), entrance);
    ck_assert_str_eq(cam_str(cams, "side", "id"), side);
    ck_assert_msg(strstr(cam_str(cams, "side", "url"), "/cam1"), "side still on %s", cam_str(cams, "side", "url"));
    ck_assert_str_eq(cam_str(cams, "lobby", "role"), "auto");
    json_decref(cams);
    /* the unchanged camera was not touched (no new line names it); the moved one reopened */
    ck_assert_int_eq(log_count(d.log, "\"entrance\"", NULL), entrance_lines);
    ck_assert_int_eq(log_count(d.log, "\"side\"", "->"), 1);

    /* a line removed: its camera goes, from the API and the database */
    snprintf(lines, sizeof lines, "camera.entrance = %s role=in fps=1\ncamera.lobby = %s fps=1\n", u1, u2);
    reconfigure(&d, lines, "configuration reloaded", 1);
    punch(&d, person, 35);
    cams = cameras_by_name(&d);
    ck_assert_int_eq(json_object_size(cams), 2);
    ck_assert_ptr_null(json_object_get(cams, "side"));
    json_decref(cams);
    ck_assert_int_eq(log_count(d.log, "camera.side is no longer in the configuration", NULL), 1);

    /* a bad line refuses the whole reload: the cameras stay as they were */
    reconfigure(&d, "camera.entrance = ftp://nowhere/x role=in\ncamera.lobby = /nonexistent.mp4 fps=99\n",
                "reload refused", 0);
    ck_assert_int_eq(log_count(d.log, "configuration reloaded", NULL), 2);

    /* after a restart the same two, once each */
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "sed -i '/^camera\\./d' '%s' && printf 'camera.entrance = %s role=in fps=1\\n"
             "camera.lobby = %s fps=1\\n' >> '%s'",
             d.conf, u1, u2, d.conf);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    cams = cameras_by_name(&d);
    ck_assert_int_eq(json_object_size(cams), 2);
    ck_assert_str_eq(cam_str(cams, "entrance", "id"), entrance);
    json_decref(cams);
    char out[64];
    ck_assert_int_eq(ts_psql(conninfo, "SELECT count(*) || '/' || count(DISTINCT id) FROM events", out, sizeof out), 0);
    ck_assert_str_eq(out, "4/4");
    d.keep_dir = 0;
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ts_rtsp_stop(&rtsp);
}
END_TEST

/* Identify photo: the person id of the first face's match, or "" when it matched nobody. */
static void identified_as(const struct ts_daemon *d, const char *img, char *person, size_t len)
{
    char u[160];
    size_t n;
    char *path = ts_data_path(img), *photo = read_all(path, &n);
    snprintf(u, sizeof u, "%s/api/v1/identify", d->url);
    json_t *j = api("POST", u, d->hr_token, photo, "image/jpeg", n, 200);
    json_t *m = json_object_get(json_array_get(json_object_get(j, "faces"), 0), "match");
    snprintf(person, len, "%s", json_is_object(m) ? json_string_value(json_object_get(m, "person_id")) : "");
    json_decref(j);
    free(photo);
    free(path);
}

/* One template row altered in the table (anyone with write access to it can) does not stop the
 * gallery: everyone else is still recognised, /readyz says how many templates are unreadable without
 * naming anyone, the metric counts them, and the operator's log names the face. */
START_TEST(altered_template_row_leaves_others_recognised)
{
    char conninfo[600], u[300], sql[400], got[64], bad_face[64];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, NULL), 0);
    const char *enrol[3] = {"faces/img1.jpg", "faces/img3.jpg", "faces/img8.jpg"};  /* id01, id02, id03 */
    const char *other[3] = {"faces/img2.jpg", "faces/img53.jpg", "faces/img9.jpg"}; /* the same three */
    char person[3][64];
    for (int i = 0; i < 3; i++) {
        char body[200];
        snprintf(u, sizeof u, "%s/api/v1/people", d.url);
        snprintf(body, sizeof body, "{\"employee_no\":\"G-%d\",\"name\":\"Gallery %d\",\"department\":\"ICU\"}", i, i);
        json_t *p = api("POST", u, d.admin_token, body, "application/json", 0, 201);
        snprintf(person[i], sizeof person[i], "%s", json_string_value(json_object_get(p, "id")));
        json_decref(p);
        size_t n;
        char *path = ts_data_path(enrol[i]), *photo = read_all(path, &n);
        ts_api_consent_given(d.url, d.admin_token, person[i]);
        snprintf(u, sizeof u, "%s/api/v1/people/%s/faces", d.url, person[i]);
        json_decref(api("POST", u, d.admin_token, photo, "image/jpeg", n, 201));
        free(photo);
        free(path);
    }
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);

    /* one bit of person 0's ciphertext flipped */
    snprintf(sql, sizeof sql, "SELECT id FROM faces WHERE person_id = '%s'", person[0]);
    ck_assert_int_eq(ts_psql(conninfo, sql, bad_face, sizeof bad_face), 0);
    snprintf(sql, sizeof sql,
             "UPDATE faces SET template = set_byte(template, 30, get_byte(template, 30) # 1) "
             "WHERE id = '%s'",
             bad_face);
    ck_assert_int_eq(ts_psql(conninfo, sql, NULL, 0), 0);
    ck_assert_int_eq(ts_daemon_restart(&d), 0);

    /* the others are recognised, once the gallery is up */
    for (int i = 0; i < 300; i++) {
        struct ts_resp r;
        ck_assert_int_eq(ts_http("GET", ts_url(&d, "/metrics"), d.hr_token, NULL, 0, NULL, &r), 0);
        int loaded = r.status == 200 && strstr(r.body, "\nattendd_gallery_ready 1\n");
        ts_resp_free(&r);
        if (loaded) break;
        usleep(100000);
    }
    for (int i = 1; i < 3; i++) {
        identified_as(&d, other[i], got, sizeof got);
        ck_assert_msg(strcmp(got, person[i]) == 0, "%s identified as '%s', not %s", other[i], got, person[i]);
    }
    identified_as(&d, other[0], got, sizeof got);
    ck_assert_str_eq(got, ""); /* the altered template matches nobody */

    /* readyz: not ready, the count, no identifier */
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", ts_url(&d, "/readyz"), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_msg(strstr(r.body, "\"gallery_incomplete\"") && strstr(r.body, "1 stored face template"), "%s", r.body);
    ck_assert_msg(!strstr(r.body, "gallery_not_loaded"), "%s", r.body);
    ck_assert_msg(!strstr(r.body, bad_face), "readyz names the face: %s", r.body);
    for (int i = 0; i < 3; i++) ck_assert_msg(!strstr(r.body, person[i]), "readyz names a person: %s", r.body);
    char key_id[32]; /* the 31-bit key id every template names */
    snprintf(sql, sizeof sql, "SELECT key_id FROM faces WHERE id = '%s'", bad_face);
    ck_assert_int_eq(ts_psql(conninfo, sql, key_id, sizeof key_id), 0);
    ck_assert_msg(strlen(key_id) >= 3 && !strstr(r.body, key_id), "readyz names key id %s: %s", key_id, r.body);
    ts_resp_free(&r);
    ck_assert_int_eq(ts_http("GET", ts_url(&d, "/metrics"), d.hr_token, NULL, 0, NULL, &r), 0);
    ck_assert_msg(strstr(r.body, "\nattendd_gallery_templates_unreadable 1\n"), "%s", r.body);
    ts_resp_free(&r);
    char *log = read_all(d.log, NULL);
    ck_assert_msg(strstr(log, bad_face) && strstr(log, "does not decrypt"), "the log does not name the face");
    free(log);
    d.keep_dir = 0;
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
}
END_TEST

/* `make run` from a clone whose parents the cluster's user cannot traverse (root's 0700 home, a
 * mktemp -d): the script's cluster starts, the daemon answers /readyz, Ctrl-C stops both, and
 * `pg-cluster destroy` removes the cluster's home with the link. */
START_TEST(make_run_starts_in_a_private_directory)
{
    char priv[] = "/tmp/attendd-private-XXXXXX", build[300], link[400], path[400], log[400], script[400];
    ck_assert_ptr_nonnull(mkdtemp(priv));
    ck_assert_int_eq(chmod(priv, 0700), 0);
    snprintf(build, sizeof build, "%s/build", priv);
    ck_assert_int_eq(mkdir(build, 0755), 0);
    const char *bins[] = {"attendd", "attendctl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", ts_env("ATTENDD_BUILD"), bins[i]);
        snprintf(link, sizeof link, "%s/%s", build, bins[i]);
        ck_assert_int_eq(symlink(path, link), 0);
    }
    snprintf(log, sizeof log, "%s/run.log", priv);
    snprintf(script, sizeof script, "%s/scripts/run-embedded", ts_env("ATTENDD_SRCDIR"));
    int port = ts_free_port();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        char portstr[16];
        snprintf(portstr, sizeof portstr, "%d", port);
        unsetenv("ATTENDD_CONFIG");
        setenv("ATTENDD_PORT", portstr, 1);
        execl(script, script, build, ts_env("ATTENDD_MODELS_DIR"), (char *)NULL);
        _exit(127);
    }
    char url[100];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    long status = 0;
    int exited = 0, st = 0;
    for (int i = 0; i < 1200 && status != 200 && !exited; i++) {
        struct ts_resp r = {0};
        struct ts_http_opts o = {.timeout_ms = 2000};
        if (ts_http_ex(&o, "GET", url, NULL, NULL, 0, NULL, &r) == 0) status = r.status;
        ts_resp_free(&r);
        if (status != 200) {
            exited = waitpid(pid, &st, WNOHANG) == pid;
            usleep(100000);
        }
    }
    char out[4096] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        out[fread(out, 1, sizeof out - 1, f)] = '\0';
        fclose(f);
    }
    ck_assert_msg(status == 200, "make run did not come up from a 0700 directory: %s", out);

    /* the cluster lives outside the private directory, in a 0700 home of its own user */
    struct stat sb;
    char home[400] = "";
    snprintf(link, sizeof link, "%s/run/pg", build);
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert_msg(S_ISLNK(sb.st_mode), "%s is not a link to the cluster's home", link);
    ssize_t n = readlink(link, home, sizeof home - 1);
    ck_assert_int_gt(n, 0);
    home[n] = '\0';
    ck_assert_msg(strncmp(home, priv, strlen(priv)) != 0, "cluster home %s is inside the private directory", home);
    ck_assert_int_eq(stat(home, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
    struct passwd *pw = getpwnam("postgres");
    ck_assert_ptr_nonnull(pw);
    ck_assert_int_eq(sb.st_uid, pw->pw_uid);

    /* Ctrl-C (SIGINT to the foreground group) stops the daemon, then the cluster */
    kill(-pid, SIGINT);
    for (int i = 0; i < 600 && waitpid(pid, &st, WNOHANG) != pid; i++) usleep(100000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run-embedded ended with status %d", st);
    snprintf(path, sizeof path, "%s/data/postmaster.pid", home);
    ck_assert_int_ne(access(path, F_OK), 0);

    snprintf(script, sizeof script, "%s/scripts/pg-cluster", ts_env("ATTENDD_SRCDIR"));
    char *destroy[] = {script, "destroy", link, NULL};
    ck_assert_int_eq(ts_run(destroy, NULL, 0, 0), 0);
    ck_assert_int_ne(access(home, F_OK), 0);
    ck_assert_int_ne(lstat(link, &sb), 0);
    ts_rm_rf(priv);
}
END_TEST

Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    ts_tcase(s, "backup_check", 240, NULL, NULL, agrees_then_names_a_wrong_template_key, names_an_altered_template_row,
             names_a_corrupt_spool_record, NULL);
    ts_tcase(s, "logs", 240, NULL, NULL, info_logs_hold_no_secrets, NULL);
    ts_tcase(s, "reload", 240, NULL, NULL, sighup_reapplies_config_cameras, NULL);
    ts_tcase(s, "gallery", 240, NULL, NULL, altered_template_row_leaves_others_recognised, NULL);
    ts_tcase(s, "make_run", 240, NULL, NULL, make_run_starts_in_a_private_directory, NULL);
    return s;
}
