/* Config parsing (src/util/config.c), the error registry, and the daemon's command line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attendd/cidr.h"
#include "attendd/config.h"
#include "attendd/errors.h"
#include "support.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/attendd-conf-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static att_err load_text(const char *text, struct att_config *cfg, char *err, size_t len)
{
    cfg_defaults(cfg);
    char *p = write_tmp(text);
    att_err e = cfg_load_file(cfg, p, err, len);
    unlink(p);
    return e;
}

START_TEST(defaults_are_valid)
{
    struct att_config c;
    char err[256] = "";
    cfg_defaults(&c);
    ck_assert_str_eq(c.listen_address, "127.0.0.1");
    ck_assert_int_eq(c.port, 8080);
    ck_assert_int_eq(c.max_body_bytes, 10485760);
    ck_assert_int_eq(c.log_level, LOG_INFO_LVL);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK);
    /* every default must parse back through its own key */
    for (size_t i = 0; i < cfg_key_count(); i++) {
        char v[CFG_STR_MAX];
        cfg_key_value(&c, i, v, sizeof v);
        ck_assert_msg(cfg_set(&c, cfg_key_name(i), v, err, sizeof err) == ATT_OK, "%s: %s", cfg_key_name(i), err);
    }
}
END_TEST

START_TEST(file_values_comments_quotes)
{
    struct att_config c;
    char err[256] = "";
    ck_assert_int_eq(load_text("# comment\n\n  port = 9090  \nlog_level=debug\n"
                               "database_url = \"host=/tmp/x dbname=a # not a comment\"\n"
                               "allow_remote_http = yes\nlisten_address = 0.0.0.0\n",
                               &c, err, sizeof err),
                     ATT_OK);
    ck_assert_int_eq(c.port, 9090);
    ck_assert_int_eq(c.log_level, LOG_DEBUG_LVL);
    ck_assert_str_eq(c.database_url, "host=/tmp/x dbname=a # not a comment");
    ck_assert(c.allow_remote_http);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK);
}
END_TEST

/* Each bad line gives an error naming the file's line and the problem. */
static const struct {
    const char *text;
    const char *expect_line;
    const char *expect_msg;
} bad_cases[] = {
    {"port = 8080\nbogus_key = 1\n", ":2:", "unknown key 'bogus_key'"},
    {"port = 80x\n", ":1:", "not an integer"},
    {"\n\nport = 70000\n", ":3:", "out of range"},
    {"port 8080\n", ":1:", "expected 'key = value'"},
    {"= 5\n", ":1:", "empty key"},
    {"log_level = loud\n", ":1:", "unknown level"},
    {"allow_remote_http = maybe\n", ":1:", "not a boolean"},
    {"http_threads = 0\n", ":1:", "out of range"},
    {"max_templates_per_person = 0\n", ":1:", "out of range"},
    {"max_templates_per_person = 101\n", ":1:", "out of range"},
    {"enrol_max_yaw_deg = 91\n", ":1:", "out of range"},
    {"enrol_max_pitch_deg = -1\n", ":1:", "out of range"},
    {"port = \n", ":1:", "not an integer"},
};

START_TEST(bad_lines_name_the_line)
{
    struct att_config c;
    char err[512] = "";
    ck_assert_int_eq(load_text(bad_cases[_i].text, &c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_msg(strstr(err, bad_cases[_i].expect_line), "case %d: '%s' lacks line %s", _i, err,
                  bad_cases[_i].expect_line);
    ck_assert_msg(strstr(err, bad_cases[_i].expect_msg), "case %d: '%s' lacks '%s'", _i, err, bad_cases[_i].expect_msg);
}
END_TEST

START_TEST(too_long_value_and_line)
{
    struct att_config c;
    char err[512] = "";
    char *text = malloc(10000);
    strcpy(text, "listen_address = ");
    memset(text + strlen(text), 'a', 200);
    text[17 + 200] = '\0';
    strcat(text, "\n");
    ck_assert_int_eq(load_text(text, &c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    memset(text, 'x', 9000);
    text[9000] = '\0';
    ck_assert_int_eq(load_text(text, &c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, ":1: line too long"));
    free(text);
}
END_TEST

START_TEST(missing_file)
{
    struct att_config c;
    char err[512] = "";
    cfg_defaults(&c);
    ck_assert_int_eq(cfg_load_file(&c, "/nonexistent/attendd.conf", err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/attendd.conf"));
}
END_TEST

START_TEST(env_overrides)
{
    struct att_config c;
    char err[512] = "";
    cfg_defaults(&c);
    setenv("ATTENDD_PORT", "1234", 1);
    setenv("ATTENDD_DATABASE_URL", "dbname=x", 1);
    ck_assert_int_eq(cfg_apply_env(&c, err, sizeof err), ATT_OK);
    ck_assert_int_eq(c.port, 1234);
    ck_assert_str_eq(c.database_url, "dbname=x");
    setenv("ATTENDD_PORT", "-1", 1);
    ck_assert_int_eq(cfg_apply_env(&c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "ATTENDD_PORT"));
    unsetenv("ATTENDD_PORT");
    unsetenv("ATTENDD_DATABASE_URL");
}
END_TEST

START_TEST(remote_plain_http_refused)
{
    struct att_config c;
    char err[512] = "";
    cfg_defaults(&c);
    strcpy(c.listen_address, "0.0.0.0");
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "allow_remote_http"));
}
END_TEST

/* camera_allow: a CIDR list checked at start (a bad one names the key), and what is inside it. */
START_TEST(camera_allow_ranges)
{
    struct att_config c;
    char err[256];
    cfg_defaults(&c);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK);
    ck_assert_int_eq(cfg_set(&c, "camera_allow", "10.1.0.0/16, fd00::/8 192.168.1.7", err, sizeof err), ATT_OK);
    ck_assert_int_eq(cfg_validate(&c, err, sizeof err), ATT_OK);
    static const char *const bad[] = {"10.0.0.0/33", "fd00::/129", "camera.local", "10.0.0.0/8 x", "10.0.0/8/1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(cfg_set(&c, "camera_allow", bad[i], err, sizeof err), ATT_OK);
        ck_assert_msg(cfg_validate(&c, err, sizeof err) == ATT_E_CONFIG, "accepted %s", bad[i]);
        ck_assert_msg(strncmp(err, "camera_allow:", 13) == 0, "%s", err);
    }

    struct cidr_list l;
    ck_assert_int_eq(cidr_list_parse(CFG_CAMERA_ALLOW_DEFAULT, &l, err, sizeof err), ATT_OK);
    static const struct {
        const char *host;
        int in;
    } cases[] = {
        {"127.0.0.1", 1},       {"127.1", 1},
        {"2130706433", 1},      {"::1", 1},
        {"::ffff:10.2.3.4", 1}, {"10.255.255.255", 1},
        {"172.16.0.1", 1},      {"172.31.255.254", 1},
        {"172.32.0.1", 0},      {"192.168.200.1", 1},
        {"192.169.0.1", 0},     {"fd12:3456::1", 1},
        {"fe80::1", 0},         {"8.8.8.8", 0},
        {"2001:db8::1", 0},     {"169.254.169.254", 0},
        {"0.0.0.0", 0},         {"camera.ward.local", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(cidr_list_has_literal(&l, cases[i].host) == cases[i].in, "%s: want %d", cases[i].host,
                      cases[i].in);
    ck_assert_int_eq(cidr_list_parse("127.0.0.2/32", &l, err, sizeof err), ATT_OK);
    ck_assert_int_eq(cidr_list_has_literal(&l, "127.0.0.2"), 1);
    ck_assert_int_eq(cidr_list_has_literal(&l, "127.0.0.1"), 0);
    ck_assert_int_eq(cidr_list_parse("", &l, err, sizeof err), ATT_OK);
    ck_assert_int_eq(cidr_list_has_literal(&l, "127.0.0.1"), 0);
}
END_TEST

START_TEST(error_registry)
{
    ck_assert_int_eq(att_err_http_status(ATT_E_NOT_FOUND), 404);
    ck_assert_int_eq(att_err_http_status(ATT_E_TOO_LARGE), 413);
    ck_assert_str_eq(att_err_code(ATT_E_METHOD), "method_not_allowed");
    ck_assert_str_eq(att_err_code((att_err)9999), "internal_error");
    /* codes are unique: clients switch on them */
    for (int a = 0; a < ATT_ERR__COUNT; a++)
        for (int b = a + 1; b < ATT_ERR__COUNT; b++)
            ck_assert_str_ne(att_err_code((att_err)a), att_err_code((att_err)b));
}
END_TEST

/* The daemon binary: a bad config line stops it with exit 2 and a message naming the line. */
START_TEST(daemon_rejects_bad_config)
{
    char *p = write_tmp("port = 8080\nlisten_address = 127.0.0.1\nwat = 1\n");
    char cmd[1024], out[2048] = "";
    snprintf(cmd, sizeof cmd, "%s/attendd --config %s 2>&1", ts_env("ATTENDD_BUILD"), p);
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    unlink(p);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
    ck_assert_msg(strstr(out, ":3: unknown key 'wat'"), "got: %s", out);
}
END_TEST

START_TEST(daemon_help_and_version)
{
    char cmd[1024], out[8192] = "";
    snprintf(cmd, sizeof cmd, "%s/attendd --version", ts_env("ATTENDD_BUILD"));
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    ck_assert_int_eq(WEXITSTATUS(pclose(f)), 0);
    ck_assert_ptr_nonnull(strstr(out, "attendd 0."));
    snprintf(cmd, sizeof cmd, "%s/attendd --help", ts_env("ATTENDD_BUILD"));
    f = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    ck_assert_int_eq(WEXITSTATUS(pclose(f)), 0);
    /* --help lists every key */
    for (size_t i = 0; i < cfg_key_count(); i++) ck_assert_ptr_nonnull(strstr(out, cfg_key_name(i)));
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, defaults_are_valid);
    tcase_add_test(t, file_values_comments_quotes);
    tcase_add_loop_test(t, bad_lines_name_the_line, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(t, too_long_value_and_line);
    tcase_add_test(t, missing_file);
    tcase_add_test(t, env_overrides);
    tcase_add_test(t, remote_plain_http_refused);
    tcase_add_test(t, error_registry);
    tcase_add_test(t, camera_allow_ranges);
    suite_add_tcase(s, t);
    TCase *d = tcase_create("daemon_cli");
    tcase_set_timeout(d, 60);
    tcase_add_test(d, daemon_rejects_bad_config);
    tcase_add_test(d, daemon_help_and_version);
    suite_add_tcase(s, d);
    return s;
}
