/* The console in a real browser: attendd on a throwaway database, console accounts made with
 * attendctl, then tests/browser/console.test.js drives headless Chromium through puppeteer-core
 * (pinned and checksummed, installed into the build tree by scripts/fetch-browser-deps). Screenshots
 * of every page go to BUILD/browser/screenshots. Chromium or the npm packages missing is a failure
 * that says what to install, never a skip. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "support_api.h"

static struct ts_daemon D;
static char conninfo[600];
static int ready;

static void setup(void)
{
    ready = 0;
    if (ts_db_new(conninfo, sizeof conninfo) != 0) return;
    memset(&D, 0, sizeof D);
    if (ts_daemon_start(&D, conninfo, NULL) != 0) return;
    ready = 1;
}

static void teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    ts_db_drop(conninfo);
}

static const char *chromium(void)
{
    static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", NULL};
    for (int i = 0; paths[i]; i++)
        if (access(paths[i], X_OK) == 0) return paths[i];
    return NULL;
}

/* `attendctl user create`; the password (first line) into pw, the TOTP secret into b32 when asked. */
static void make_user(const char *user, bool totp, char *pw, size_t pwlen, char *b32, size_t b32len)
{
    char out[512];
    const char *args[] = {"user",   "create",     "--username",           user, "--role", "admin",
                          "--name", "Test Admin", totp ? "--totp" : NULL, NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, args), 0);
    char *nl = strchr(out, '\n');
    if (nl) *nl = '\0';
    ck_assert_uint_lt(strlen(out), pwlen);
    memcpy(pw, out, strlen(out) + 1);
    if (totp) {
        ck_assert_ptr_nonnull(nl);
        const char *s = strstr(nl + 1, "secret=");
        ck_assert_ptr_nonnull(s);
        snprintf(b32, b32len, "%.*s", (int)strcspn(s + 7, "&"), s + 7);
    }
}

/* /readyz 200 within 120 s: enrolment needs the face models loaded. */
static void wait_ready(void)
{
    for (int i = 0; i < 240; i++) {
        struct ts_resp r;
        if (ts_http("GET", ts_url(&D, "/readyz"), NULL, NULL, 0, NULL, &r) == 0 && r.status == 200) {
            ts_resp_free(&r);
            return;
        }
        ts_resp_free(&r);
        ts_sleep_ms(500);
    }
    ck_abort_msg("attendd did not become ready within 120 s");
}

START_TEST(console_in_chromium)
{
    ck_assert_msg(ready, "daemon or database did not start");
    const char *chrome = chromium();
    ck_assert_msg(chrome != NULL, "chromium is not installed: run scripts/install-deps (as root) to install it");
    char modules[600], probe[700];
    snprintf(modules, sizeof modules, "%s/browser/node_modules", ts_env("ATTENDD_BUILD"));
    snprintf(probe, sizeof probe, "%s/puppeteer-core/package.json", modules);
    ck_assert_msg(access(probe, R_OK) == 0, "%s is missing: run scripts/fetch-browser-deps %s/browser (make test does)",
                  probe, ts_env("ATTENDD_BUILD"));
    char admin_pw[64], totp_pw[64], totp_b32[64], lock_pw[64], unused[8];
    make_user("admin", false, admin_pw, sizeof admin_pw, NULL, 0);
    make_user("dr.wu", true, totp_pw, sizeof totp_pw, totp_b32, sizeof totp_b32);
    make_user("locked.user", false, lock_pw, sizeof lock_pw, unused, sizeof unused);
    /* a person for the forged punches to name (the main scenario adds its own through the page) */
    long status = 0;
    json_t *p = ts_call("POST", ts_url(&D, "/api/v1/people"), D.admin_token,
                        "{\"employee_no\":\"N-7\",\"name\":\"Mary Target\",\"department\":\"Ward 1\"}", &status);
    ck_assert_int_eq(status, 201);
    char person[64];
    snprintf(person, sizeof person, "%s", ts_jstr(p, "id"));
    json_decref(p);
    /* a camera event of that person three days ago (no API makes one), for the page to mark as of the
     * wrong person */
    const char *camera_event = "c0000000-0000-4000-8000-0000000000c1";
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source, similarity) VALUES ('%s', '%s', 'in',"
             " now() - interval '3 days', 'camera', 0.62)",
             camera_event, person);
    ts_sql(conninfo, sql);
    /* the consent text people agree to before enrolment */
    p = ts_call("POST", ts_url(&D, "/api/v1/consent-texts"), D.admin_token,
                "{\"language\":\"en\",\"text\":\"I agree to face recognition for attendance.\"}", &status);
    ck_assert_int_eq(status, 201);
    json_decref(p);
    wait_ready();

    char shots[600], script[600], good[600], bad[600], webcam[600], clip[600];
    snprintf(shots, sizeof shots, "%s/browser/screenshots", ts_env("ATTENDD_BUILD"));
    snprintf(script, sizeof script, "%s/tests/browser/console.test.js", ts_env("ATTENDD_SRCDIR"));
    snprintf(good, sizeof good, "%s/faces/img1.jpg", ts_env("ATTENDD_DATA"));
    snprintf(bad, sizeof bad, "%s/faces/couple.jpg", ts_env("ATTENDD_DATA"));
    snprintf(webcam, sizeof webcam, "%s/faces/img3.jpg", ts_env("ATTENDD_DATA"));
    snprintf(clip, sizeof clip, "%s/video/shift-change.mp4", ts_env("ATTENDD_DATA"));
    setenv("ATTENDD_URL", D.url, 1);
    setenv("SHOT_DIR", shots, 1);
    setenv("CHROMIUM", chrome, 1);
    setenv("NODE_MODULES", modules, 1);
    setenv("ADMIN_USER", "admin", 1);
    setenv("ADMIN_PW", admin_pw, 1);
    setenv("TOTP_USER", "dr.wu", 1);
    setenv("TOTP_PW", totp_pw, 1);
    setenv("TOTP_SECRET", totp_b32, 1);
    setenv("LOCK_USER", "locked.user", 1);
    setenv("LOCK_PW", lock_pw, 1);
    setenv("PERSON_ID", person, 1);
    setenv("CAMERA_EVENT_ID", camera_event, 1);
    setenv("PHOTO_GOOD", good, 1);
    setenv("PHOTO_BAD", bad, 1);
    setenv("PHOTO_WEBCAM", webcam, 1); /* played by the fake webcam */
    setenv("CAMERA_FILE", clip, 1);    /* a camera for the snapshot */
    char *const argv[] = {"node", script, NULL};
    static char report[1 << 16];
    int st = ts_run(argv, report, sizeof report, 1);
    fprintf(stderr, "%s\n", report); /* the browser test's report, check by check, in the test log */
    char rpath[700];
    snprintf(rpath, sizeof rpath, "%s/browser/report.txt", ts_env("ATTENDD_BUILD"));
    ts_write_file(rpath, report, strlen(report), 0644);
    ck_assert_msg(st == 0, "the browser test failed (exit %d): see its report above and in %s", st, rpath);
    /* every page was photographed for a reviewer */
    static const char *const pages[] = {"signin",
                                        "now",
                                        "person",
                                        "now-live",
                                        "events",
                                        "events-misidentified",
                                        "cameras",
                                        "admin",
                                        "now-zh-CN",
                                        "signin-totp",
                                        "signin-locked",
                                        "attendance",
                                        "attendance-day",
                                        "attendance-periods",
                                        "now-shift",
                                        "person-webcam",
                                        "admin-accounts",
                                        "attendance-zh-CN",
                                        "cameras-snapshot",
                                        "manager-now",
                                        "manager-events",
                                        "manager-attendance",
                                        "manager-day",
                                        "manager-people",
                                        "manager-person",
                                        "manager-cameras",
                                        NULL};
    for (int i = 0; pages[i]; i++) {
        char f[700];
        struct stat sb;
        snprintf(f, sizeof f, "%s/%s.png", shots, pages[i]);
        ck_assert_msg(stat(f, &sb) == 0 && sb.st_size > 1000, "screenshot %s missing", f);
    }
}
END_TEST

Suite *browser_suite(void)
{
    Suite *s = suite_create("browser");
    TCase *t = ts_tcase(s, "console", 600, NULL, NULL, console_in_chromium, NULL);
    tcase_add_checked_fixture(t, setup, teardown);
    return s;
}
