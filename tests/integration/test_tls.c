/* HTTPS: config checks (both tls keys or neither; TLS may listen off loopback without
 * allow_remote_http), a real HTTPS daemon with a self-signed certificate made here by openssl,
 * plain HTTP refused on its port, and start refused for a key file readable by group/other. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/config.h"
#include "attendd/errors.h"
#include "support.h"

static char conninfo[1024];
static char tlsdir[64];
static char cert[128], key[128];

/* A self-signed EC certificate for 127.0.0.1 (also its own CA) and its key, mode 0600. */
static void make_cert(void)
{
    snprintf(tlsdir, sizeof tlsdir, "/tmp/attendd-tls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tlsdir));
    snprintf(cert, sizeof cert, "%s/cert.pem", tlsdir);
    snprintf(key, sizeof key, "%s/key.pem", tlsdir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
             key, cert);
    ck_assert_msg(system(cmd) == 0, "openssl could not make a certificate (scripts/install-deps installs openssl)");
    ck_assert_int_eq(chmod(key, 0600), 0);
}

static void setup(void)
{
    make_cert();
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
}

static void teardown(void)
{
    ts_db_drop(conninfo);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tlsdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(one_half_is_a_config_error)
{
    struct att_config c;
    char err[512] = "";
    cfg_defaults(&c);
    ck_assert_int_eq(cfg_set(&c, "tls_cert_file", "/etc/attendd/cert.pem", err, sizeof err), ATT_OK);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_msg(strstr(err, "tls_key_file") != NULL, "%s", err);

    cfg_defaults(&c);
    ck_assert_int_eq(cfg_set(&c, "tls_key_file", "/etc/attendd/key.pem", err, sizeof err), ATT_OK);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_msg(strstr(err, "tls_cert_file") != NULL, "%s", err);

    ck_assert_int_eq(cfg_set(&c, "tls_cert_file", "/etc/attendd/cert.pem", err, sizeof err), ATT_OK);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK);
}
END_TEST

START_TEST(remote_address_needs_tls_or_the_flag)
{
    struct att_config c;
    char err[512] = "";
    cfg_defaults(&c);
    strcpy(c.listen_address, "0.0.0.0");
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_E_CONFIG); /* plain HTTP off loopback */
    ck_assert_msg(strstr(err, "allow_remote_http") != NULL, "%s", err);
    strcpy(c.tls_cert_file, "/etc/attendd/cert.pem");
    strcpy(c.tls_key_file, "/etc/attendd/key.pem");
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK); /* HTTPS there needs no flag */
    ck_assert(!c.allow_remote_http);
}
END_TEST

START_TEST(https_serves_and_plain_http_fails)
{
    struct ts_daemon d = {0};
    snprintf(d.cacert, sizeof d.cacert, "%s", cert);
    char extra[512];
    /* 0.0.0.0 is not loopback: with TLS it starts without allow_remote_http */
    snprintf(extra, sizeof extra, "listen_address = 0.0.0.0\ntls_cert_file = %s\ntls_key_file = %s\n", cert, key);
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, extra), 0);
    ck_assert_int_eq(strncmp(d.url, "https://", 8), 0);

    char url[128];
    struct ts_resp r;
    struct ts_http_opts o = {.cacert = cert};
    snprintf(url, sizeof url, "%s/healthz", d.url);
    ck_assert_int_eq(ts_http_ex(&o, "GET", url, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"ok\""));
    ts_resp_free(&r);

    snprintf(url, sizeof url, "%s/api/v1/whoami", d.url);
    ck_assert_int_eq(ts_http_ex(&o, "GET", url, d.admin_token, NULL, 0, NULL, &r), 0);
    ck_assert_msg(r.status == 200, "whoami over HTTPS: %ld %s", r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "role")), "admin");
    json_decref(j);
    ts_resp_free(&r);
    /* and authentication still applies over TLS */
    ck_assert_int_eq(ts_http_ex(&o, "GET", url, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);

    /* the certificate is the one made here: without trusting it, verification fails */
    ck_assert_int_ne(ts_http("GET", url, d.admin_token, NULL, 0, NULL, &r), 0);
    ts_resp_free(&r);

    /* plain HTTP to the TLS port gets no HTTP answer */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", d.port);
    struct ts_http_opts plain = {.timeout_ms = 10000};
    int rc = ts_http_ex(&plain, "GET", url, NULL, NULL, 0, NULL, &r);
    ck_assert_msg(rc != 0 || r.status != 200, "plain HTTP on the TLS port got %ld", r.status);
    ts_resp_free(&r);

    char *log = ts_slurp(d.log, NULL);
    ck_assert_ptr_nonnull(strstr(log, "HTTPS"));
    free(log);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
}
END_TEST

/* ts_daemon_start fails (the daemon exited); its log must hold each of want. */
static void expect_refused(const char *extra, const char *want1, const char *want2)
{
    struct ts_daemon d = {.no_tokens = 1};
    snprintf(d.cacert, sizeof d.cacert, "%s", cert);
    ck_assert_int_ne(ts_daemon_start(&d, conninfo, extra), 0);
    ck_assert_int_eq(d.pid, 0); /* it exited by itself */
    char *log = ts_slurp(d.log, NULL);
    ck_assert_msg(strstr(log, want1) != NULL, "log lacks '%s':\n%s", want1, log);
    ck_assert_msg(strstr(log, want2) != NULL, "log lacks '%s':\n%s", want2, log);
    free(log);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d.dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(readable_key_refused)
{
    char extra[512];
    snprintf(extra, sizeof extra, "tls_cert_file = %s\ntls_key_file = %s\n", cert, key);
    ck_assert_int_eq(chmod(key, 0640), 0);
    expect_refused(extra, key, "chmod 600");
    ck_assert_int_eq(chmod(key, 0604), 0);
    expect_refused(extra, key, "group/other");
    ck_assert_int_eq(chmod(key, 0600), 0);

    /* not PEM, and a missing file: refused, naming the key and the file */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.pem", tlsdir);
    FILE *f = fopen(junk, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a certificate\n", f);
    fclose(f);
    snprintf(extra, sizeof extra, "tls_cert_file = %s\ntls_key_file = %s\n", junk, key);
    expect_refused(extra, "tls_cert_file", "not a PEM file");
    snprintf(extra, sizeof extra, "tls_cert_file = %s\ntls_key_file = %s/missing.pem\n", cert, tlsdir);
    expect_refused(extra, "tls_key_file", "missing.pem");
    /* only one of the two: the daemon stops at its configuration */
    snprintf(extra, sizeof extra, "tls_cert_file = %s\n", cert);
    expect_refused(extra, "configuration", "tls_key_file");
}
END_TEST

Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    ts_tcase(s, "config", 0, NULL, NULL, one_half_is_a_config_error, remote_address_needs_tls_or_the_flag, NULL);
    ts_tcase(s, "daemon", 180, setup, teardown, https_serves_and_plain_http_fails, readable_key_refused, NULL);
    return s;
}
