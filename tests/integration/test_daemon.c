/* The daemon process as systemd sees it: sd_notify READY/STOPPING over a real notify socket, SIGHUP
 * reload (a bad file is refused), refusal to start against a schema newer than it knows, and no
 * core files. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "support.h"

/* Bind a datagram socket at a temp path; returns the fd and writes the path. */
static int notify_socket(char *path, size_t len)
{
    snprintf(path, len, "/tmp/attendd-notify-%ld-%d", (long)getpid(), rand() % 100000);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Wait up to timeout_ms for a datagram containing want; collects everything read into seen. */
static int wait_for(int fd, const char *want, int timeout_ms, char *seen, size_t seenlen)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 1) {
            char buf[512];
            ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                strncat(seen, buf, seenlen - strlen(seen) - 2);
                strcat(seen, "|");
                if (strstr(buf, want)) return 1;
            }
        }
    }
    return 0;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

START_TEST(notify_ready_watchdog_stopping)
{
    char conninfo[600], path[108], seen[4096] = "";
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    int fd = notify_socket(path, sizeof path);
    setenv("NOTIFY_SOCKET", path, 1);
    setenv("WATCHDOG_USEC", "1000000", 1); /* ping every 0.5 s */
    struct ts_daemon d = {.no_tokens = 1};
    int started = ts_daemon_start(&d, conninfo, NULL);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    ck_assert_int_eq(started, 0);
    ck_assert_msg(wait_for(fd, "READY=1", 30000, seen, sizeof seen), "no READY=1; saw: %s", seen);
    ck_assert_msg(wait_for(fd, "WATCHDOG=1", 30000, seen, sizeof seen), "no WATCHDOG=1; saw: %s", seen);
    kill(d.pid, SIGTERM);
    ck_assert_msg(wait_for(fd, "STOPPING=1", 30000, seen, sizeof seen), "no STOPPING=1; saw: %s", seen);
    /* signal 0: just wait; a second SIGTERM would mean "stop now" */
    ck_assert_int_eq(ts_daemon_stop(&d, 0, 60), 0);
    close(fd);
    unlink(path);
}
END_TEST

START_TEST(sighup_reloads_and_refuses_bad_file)
{
    char conninfo[600];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_daemon d = {.no_tokens = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, NULL), 0);

    /* a broken line: reload refused, daemon keeps serving */
    FILE *f = fopen(d.conf, "a");
    fputs("this line is broken\n", f);
    fclose(f);
    kill(d.pid, SIGHUP);
    for (int i = 0; i < 200 && count_lines(d.log, "reload refused") < 1; i++) usleep(50000);
    ck_assert_int_eq(count_lines(d.log, "reload refused"), 1);
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", d.url);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);

    /* fix it and change the port: reload accepted, the port change reported as needing a restart */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sed -i -e '/this line is broken/d' -e 's/^port = .*/port = 1/' %s", d.conf);
    ck_assert_int_eq(system(cmd), 0);
    kill(d.pid, SIGHUP);
    for (int i = 0; i < 200 && count_lines(d.log, "configuration reloaded") < 1; i++) usleep(50000);
    ck_assert_int_eq(count_lines(d.log, "configuration reloaded"), 1);
    ck_assert_int_eq(count_lines(d.log, "port changed; takes effect after a restart"), 1);
    ck_assert_int_eq(ts_http("GET", url, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
}
END_TEST

START_TEST(refuses_newer_schema)
{
    char conninfo[600], out[64];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    /* first start migrates; then pretend a newer attendd migrated this database */
    struct ts_daemon d = {.no_tokens = 1};
    ck_assert_int_eq(ts_daemon_start(&d, conninfo, NULL), 0);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ck_assert_int_eq(
        ts_psql(conninfo, "INSERT INTO attendd_schema (version, name) VALUES (999, '999_future')", NULL, 0), 0);
    ck_assert_int_ne(ts_daemon_start(&d, conninfo, NULL), 0); /* exits before serving */
    ck_assert_int_eq(ts_psql(conninfo, "SELECT max(version) FROM attendd_schema", out, sizeof out), 0);
    ck_assert_str_eq(out, "999");
}
END_TEST

/* The core-file size limit of pid (soft), from /proc/PID/limits; -1 for unlimited. */
static long long core_limit(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/limits", (long)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    long long v = -2;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Max core file size", 18) == 0) {
            char *p = line + 18;
            while (*p == ' ') p++;
            v = strncmp(p, "unlimited", 9) == 0 ? -1 : strtoll(p, NULL, 10);
        }
    fclose(f);
    ck_assert_int_ne(v, -2);
    return v;
}

/* Started with core files allowed, the daemon turns them off: a core file would hold its keys and
 * decrypted templates. (That it is not dumpable either shows where it runs as a service user:
 * test_systemd's starts_as_the_unit_does.) */
START_TEST(core_files_off)
{
    char conninfo[600];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct rlimit keep, open_core;
    ck_assert_int_eq(getrlimit(RLIMIT_CORE, &keep), 0);
    open_core = keep;
    open_core.rlim_cur = keep.rlim_max;
    ck_assert_msg(keep.rlim_max != 0, "this host forbids core files outright: the test cannot tell");
    ck_assert_int_eq(setrlimit(RLIMIT_CORE, &open_core), 0);
    struct ts_daemon d = {.no_tokens = 1};
    int started = ts_daemon_start(&d, conninfo, NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_CORE, &keep), 0);
    ck_assert_int_eq(started, 0);

    ck_assert_int_eq(core_limit(d.pid), 0);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
}
END_TEST

Suite *daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    ts_tcase(s, "lifecycle", 180, NULL, NULL, notify_ready_watchdog_stopping, sighup_reloads_and_refuses_bad_file,
             refuses_newer_schema, core_files_off, NULL);
    return s;
}
