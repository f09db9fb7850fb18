/* Key rotation seen from the daemon: templates enrolled under the retired key while a rotation was
 * under way still load after a restart; a template under an unknown key keeps the gallery unloaded. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/keyfile.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_store.h"

START_TEST(enrolled_during_rotation_survives_restart)
{
    char conninfo[600], err[512], path[400], newkey[400];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, NULL), 0); /* migrates, makes keys and tokens */
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);

    PGconn *c = ts_db_connect(conninfo, "test", true);
    char person[ATT_UUID_STR], face[ATT_UUID_STR];
    struct person_new pn = {.employee_no = "R-1", .name = "Rotation Test", .department = "ICU", .active = true};
    ck_assert_int_eq(store_person_create(c, &pn, person), ATT_OK);
    tcrypt_key *old;
    snprintf(path, sizeof path, "%s/template.key", d.dir);
    ck_assert_int_eq(tcrypt_key_load(path, &old, err, sizeof err), ATT_OK);
    ts_add_face(c, person, old, face);

    /* rotate with attendctl, then a daemon that has not restarted yet enrols under the old key */
    snprintf(newkey, sizeof newkey, "%s/new.key", d.dir);
    ck_assert_int_eq(keyfile_create(newkey, err, sizeof err), ATT_OK);
    const char *rot[] = {"key", "rotate", "--new-key", newkey, NULL};
    char out[1024];
    ck_assert_int_eq(ts_attendctl(&d, out, sizeof out, rot), 0);
    ts_add_face(c, person, old, face);

    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    for (int i = 0; i < 200 && !ts_file_has(d.log, "2 template(s) loaded"); i++) usleep(50000);
    ck_assert_msg(ts_file_has(d.log, "2 template(s) loaded"), "gallery did not load both templates");
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);

    /* a template under a key the daemon does not hold: the load refuses, naming the face */
    tcrypt_key *stranger;
    unsigned char raw[32];
    for (int i = 0; i < 32; i++) raw[i] = (unsigned char)(i * 7 + 1);
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &stranger), ATT_OK);
    ts_add_face(c, person, stranger, face);
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    for (int i = 0; i < 200 && !ts_file_has(d.log, "does not decrypt"); i++) usleep(50000);
    ck_assert(ts_file_has(d.log, "does not decrypt with the configured template key"));
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", d.url);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 503);
    ts_resp_free(&r);
    d.keep_dir = 0;
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);

    tcrypt_key_free(stranger);
    tcrypt_key_free(old);
    PQfinish(c);
}
END_TEST

Suite *rotation_suite(void)
{
    Suite *s = suite_create("rotation");
    ts_tcase(s, "restart", 240, NULL, NULL, enrolled_during_rotation_survives_restart, NULL);
    return s;
}
