/* Test fixtures (see support.h): the run's PostgreSQL cluster and private ones through scripts/pg-cluster, the real
 * attendd binary as a child process on a free loopback port, attendctl, and HTTP via libcurl. */
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ftw.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

TCase *ts_tcase(Suite *s, const char *name, double timeout_s, SFun setup, SFun teardown, ...)
{
    TCase *tc = tcase_create(name);
    if (timeout_s > 0) tcase_set_timeout(tc, timeout_s);
    if (setup || teardown) tcase_add_unchecked_fixture(tc, setup, teardown);
    va_list ap;
    va_start(ap, teardown);
    for (const TTest *t; (t = va_arg(ap, const TTest *)) != NULL;) tcase_add_test(tc, t);
    va_end(ap);
    suite_add_tcase(s, tc);
    return tc;
}

const char *ts_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "environment variable %s is not set (run the tests through make)", name);
    return v;
}

char *ts_data_path(const char *rel)
{
    char *p;
    ck_assert(asprintf(&p, "%s/%s", ts_env("ATTENDD_DATA"), rel) > 0);
    return p;
}

int ts_run(char *const argv[], char *out, size_t outlen, int with_stderr)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        if (with_stderr) dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0) continue;
        if (out && used < outlen - 1) {
            size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
            memcpy(out + used, buf, take);
            used += take;
        }
    }
    close(fds[0]);
    if (out) {
        out[used] = '\0';
        while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == '\r')) out[--used] = '\0';
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int make_temp_dir(char *dir, size_t len, const char *tag)
{
    snprintf(dir, len, "/tmp/attendd-%s-XXXXXX", tag);
    if (!mkdtemp(dir)) return -1;
    /* the cluster runs as an unprivileged user, who must be able to traverse this directory */
    return chmod(dir, 0755);
}

void ts_mkdtemp(char *dir, size_t len, const char *tag)
{
    ck_assert_msg(make_temp_dir(dir, len, tag) == 0, "cannot make a temp directory for %s: %s", tag, strerror(errno));
}

static void pg_script(char *path, size_t len)
{
    snprintf(path, len, "%s/scripts/pg-cluster", ts_env("ATTENDD_SRCDIR"));
}

int ts_pg_start(struct ts_pg *pg)
{
    char root[200], script[512];
    if (make_temp_dir(root, sizeof root, "pg") != 0) return -1;
    snprintf(pg->dir, sizeof pg->dir, "%s/pg", root);
    pg_script(script, sizeof script);
    char *init[] = {script, "init", pg->dir, "--fast", NULL};
    char *start[] = {script, "start", pg->dir, NULL};
    if (ts_run(init, NULL, 0, 0) != 0 || ts_run(start, NULL, 0, 0) != 0) return -1;
    snprintf(pg->base, sizeof pg->base, "host=%s/sock port=5432 user=attendd", pg->dir);
    return 0;
}

void ts_pg_stop(struct ts_pg *pg)
{
    char script[512], root[256];
    pg_script(script, sizeof script);
    char *stop[] = {script, "stop", pg->dir, NULL};
    ts_run(stop, NULL, 0, 0);
    snprintf(root, sizeof root, "%s", pg->dir);
    char *slash = strrchr(root, '/');
    if (slash && strncmp(root, "/tmp/attendd-pg-", 16) == 0) {
        *slash = '\0';
        char *rm[] = {"rm", "-rf", root, NULL};
        ts_run(rm, NULL, 0, 0);
    }
}

int ts_pg_new_db(struct ts_pg *pg, char *conninfo, size_t len)
{
    static int counter;
    char name[64], script[512];
    snprintf(name, sizeof name, "t_%ld_%d_%d", (long)getpid(), counter++, rand() % 100000);
    pg_script(script, sizeof script);
    char *create[] = {script, "createdb", pg->dir, name, NULL};
    if (ts_run(create, NULL, 0, 0) != 0) return -1;
    snprintf(conninfo, len, "%s dbname=%s", pg->base, name);
    return 0;
}

int ts_pg_ctl(const struct ts_pg *pg, const char *cmd)
{
    char script[512];
    pg_script(script, sizeof script);
    char *argv[] = {script, (char *)cmd, (char *)pg->dir, NULL};
    return ts_run(argv, NULL, 0, 0) == 0 ? 0 : -1;
}

void ts_pg_cluster(const struct ts_pg *pg, const char *cmd)
{
    ck_assert_msg(ts_pg_ctl(pg, cmd) == 0, "pg-cluster %s %s failed", cmd, pg->dir);
}

struct ts_pg ts_own_pg;
int ts_own_pg_ok;

void ts_own_pg_up(void) { ts_own_pg_ok = ts_pg_start(&ts_own_pg) == 0; }

void ts_own_pg_down(void)
{
    if (ts_own_pg_ok) ts_pg_stop(&ts_own_pg);
    ts_own_pg_ok = 0;
}

/* ---- the run's cluster ------------------------------------------------------------------------ */

#define RUN_PREFIX "/tmp/attendd-run-"
static pid_t run_owner;    /* the runner's pid: only it stops the cluster */
static char run_root[128]; /* RUN_PREFIX PID; the cluster is run_root/pg */
static char run_base[384]; /* conninfo without dbname, once the cluster is up in this process */

/* Stop the cluster under root (if it ever started) and remove root. */
static void run_remove(const char *root)
{
    char dir[300], script[512];
    const char *src = getenv("ATTENDD_SRCDIR");
    snprintf(dir, sizeof dir, "%s/pg", root);
    snprintf(script, sizeof script, "%s/scripts/pg-cluster", src ? src : ".");
    if (src && access(dir, F_OK) == 0) {
        char *stop[] = {script, "stop", dir, NULL};
        ts_run(stop, NULL, 0, 0);
    }
    ts_rm_rf(root);
}

void ts_cluster_run_begin(void)
{
    /* clusters of runs that ended without their exit handler (killed, or interrupted by Ctrl-C) */
    DIR *tmp = opendir("/tmp");
    struct dirent *e;
    while (tmp && (e = readdir(tmp)) != NULL) {
        long pid;
        char root[300];
        if (sscanf(e->d_name, "attendd-run-%ld", &pid) != 1 || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        snprintf(root, sizeof root, "/tmp/%s", e->d_name);
        run_remove(root);
    }
    if (tmp) closedir(tmp);
    run_owner = getpid();
    snprintf(run_root, sizeof run_root, RUN_PREFIX "%ld", (long)run_owner);
    setenv("ATTENDD_TEST_RUN_DIR", run_root, 1);
}

void ts_cluster_run_end(void)
{
    if (run_owner == 0 || getpid() != run_owner) return; /* a forked case exiting */
    run_remove(run_root);
    run_owner = 0;
}

/* The run's cluster, started if this is the first ask of the run; 0 once run_base is set. */
static int run_cluster(void)
{
    if (run_base[0]) return 0;
    const char *root = getenv("ATTENDD_TEST_RUN_DIR");
    if (!root || !*root) return -1;
    char dir[300], ready[300], lock[300], script[512];
    snprintf(dir, sizeof dir, "%s/pg", root);
    snprintf(ready, sizeof ready, "%s/ready", root);
    snprintf(lock, sizeof lock, "%s/lock", root);
    /* the cluster runs as an unprivileged user, who must be able to traverse root */
    if (mkdir(root, 0755) != 0 && errno != EEXIST) return -1;
    chmod(root, 0755);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    int rc = 0;
    if (access(ready, F_OK) != 0) {
        pg_script(script, sizeof script);
        char *init[] = {script, "init", dir, "--fast", NULL};
        char *start[] = {script, "start", dir, NULL};
        rc = ts_run(init, NULL, 0, 0) == 0 && ts_run(start, NULL, 0, 0) == 0 ? 0 : -1;
        int r = rc == 0 ? open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
        if (r >= 0) close(r);
        else rc = -1;
    }
    flock(fd, LOCK_UN);
    close(fd);
    if (rc == 0) snprintf(run_base, sizeof run_base, "host=%s/sock port=5432 user=attendd", dir);
    return rc;
}

/* A connection to the run's cluster's maintenance database, or NULL. */
static PGconn *run_admin(void)
{
    char ci[448];
    snprintf(ci, sizeof ci, "%s dbname=postgres", run_base);
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test cluster: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int run_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "test cluster: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

int ts_db_new(char *conninfo, size_t len)
{
    static int counter;
    if (run_cluster() != 0) {
        fprintf(stderr, "test cluster: could not start (is ATTENDD_TEST_RUN_DIR set by the runner?)\n");
        return -1;
    }
    PGconn *c = run_admin();
    if (!c) return -1;
    /* databases of cases that have ended: their process is gone */
    PGresult *r = PQexec(c, "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        long pid;
        const char *name = PQgetvalue(r, i, 0);
        if (sscanf(name, "t_%ld_", &pid) != 1 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
        run_exec(c, sql);
    }
    PQclear(r);
    char name[64], sql[128];
    /* the clock as well: a later case may be given the pid of an ended one */
    snprintf(name, sizeof name, "t_%ld_%d_%lld", (long)getpid(), counter++, ts_now_ms());
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    int rc = run_exec(c, sql);
    PQfinish(c);
    if (rc == 0) snprintf(conninfo, len, "%s dbname=%s", run_base, name);
    return rc;
}

const char *ts_cluster_conninfo(void) { return run_cluster() == 0 ? run_base : NULL; }

void ts_db_drop(const char *conninfo)
{
    const char *name = strstr(conninfo, " dbname=");
    if (!name || run_cluster() != 0) return;
    PGconn *c = run_admin();
    if (!c) return;
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name + 8);
    run_exec(c, sql);
    PQfinish(c);
}

int ts_psql(const char *conninfo, const char *sql, char *out, size_t outlen)
{
    char psql[512];
    snprintf(psql, sizeof psql, "%s/psql", ts_env("ATTENDD_PG_BINDIR"));
    char *argv[] = {psql, (char *)conninfo, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", (char *)sql, NULL};
    return ts_run(argv, out, out ? outlen : 0, 0);
}

void ts_sql(const char *conninfo, const char *sql)
{
    char out[256];
    ck_assert_msg(ts_psql(conninfo, sql, out, sizeof out) == 0, "psql failed: %.300s", sql);
}

long long ts_sql_int(const char *conninfo, const char *sql)
{
    char out[256] = "";
    ck_assert_msg(ts_psql(conninfo, sql, out, sizeof out) == 0, "psql failed: %.300s", sql);
    return atoll(out);
}

long long ts_sql_intf(const char *conninfo, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof sql, "statement too long: %.300s", sql);
    return ts_sql_int(conninfo, sql);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int write_key(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return -1;
    unsigned char k[32];
    FILE *r = fopen("/dev/urandom", "rb");
    int ok = r && fread(k, 1, sizeof k, r) == sizeof k;
    if (r) fclose(r);
    ok = ok && write(fd, k, sizeof k) == (ssize_t)sizeof k;
    close(fd);
    return ok ? 0 : -1;
}

int ts_attendctl(const struct ts_daemon *d, char *out, size_t outlen, const char *const *args)
{
    char bin[512];
    snprintf(bin, sizeof bin, "%s/attendctl", ts_env("ATTENDD_BUILD"));
    const char *argv[32] = {bin, "--config", d->conf};
    size_t n = 3;
    for (; args && *args && n < 31; args++) argv[n++] = *args;
    argv[n] = NULL;
    return ts_run((char *const *)argv, out, outlen, 0);
}

static void dump_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    fprintf(stderr, "---- %s ----\n", path);
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

int ts_daemon_restart(struct ts_daemon *d)
{
    char bin[512];
    snprintf(bin, sizeof bin, "%s/attendd", ts_env("ATTENDD_BUILD"));
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(bin, bin, "--config", d->conf, (char *)NULL);
        _exit(127);
    }
    d->pid = pid;

    /* wait for /healthz (generous: sanitizer builds on a loaded machine are slow) */
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", d->url);
    for (int i = 0; i < 600; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = 0;
            dump_log(d->log);
            return -1;
        }
        struct ts_resp r;
        struct ts_http_opts o = {.cacert = d->cacert[0] ? d->cacert : NULL};
        int got = ts_http_ex(&o, "GET", url, NULL, NULL, 0, NULL, &r);
        long s = r.status;
        ts_resp_free(&r);
        if (got == 0 && s == 200) break;
        usleep(50000);
        if (i == 599) {
            dump_log(d->log);
            ts_daemon_stop(d, SIGKILL, 5);
            return -1;
        }
    }
    return 0;
}

int ts_daemon_start(struct ts_daemon *d, const char *conninfo, const char *extra_conf)
{
    int want_tokens = !d->no_tokens, keep = d->keep_dir;
    char cacert[sizeof d->cacert];
    snprintf(cacert, sizeof cacert, "%s", d->cacert);
    memset(d, 0, sizeof *d);
    d->no_tokens = !want_tokens;
    d->keep_dir = keep;
    snprintf(d->cacert, sizeof d->cacert, "%s", cacert);
    if (make_temp_dir(d->dir, sizeof d->dir, "daemon") != 0) return -1;
    d->port = free_port();
    if (d->port <= 0) return -1;
    snprintf(d->url, sizeof d->url, "%s://127.0.0.1:%d", d->cacert[0] ? "https" : "http", d->port);
    snprintf(d->conf, sizeof d->conf, "%s/attendd.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/attendd.log", d->dir);
    char tk[300], tpl[300];
    snprintf(tk, sizeof tk, "%s/token.key", d->dir);
    snprintf(tpl, sizeof tpl, "%s/template.key", d->dir);
    if (write_key(tk) != 0 || write_key(tpl) != 0) return -1;

    FILE *f = fopen(d->conf, "w");
    if (!f) return -1;
    fprintf(f,
            "listen_address = 127.0.0.1\nport = %d\ndatabase_url = \"%s\"\nmodels_dir = %s\n"
            "token_key_file = %s\ntemplate_key_file = %s\nstate_dir = %s/state\nlog_level = debug\n"
            "shutdown_timeout_s = 10\n"
            /* suites send bad tokens from one address on purpose; only test_abuse.c wants lock-outs
             * (extra_conf overrides this, the last line wins) */
            "auth_fail_limit = 1000\n%s\n",
            d->port, conninfo, ts_env("ATTENDD_MODELS_DIR"), tk, tpl, d->dir, extra_conf ? extra_conf : "");
    fclose(f);

    if (ts_daemon_restart(d) != 0) return -1;
    if (!want_tokens) return 0;
    const char *adm[] = {"token", "create", "--role", "admin", "--name", "test-admin", NULL};
    const char *hr[] = {"token", "create", "--role", "hr", "--name", "test-hr", NULL};
    if (ts_attendctl(d, d->admin_token, sizeof d->admin_token, adm) != 0 ||
        ts_attendctl(d, d->hr_token, sizeof d->hr_token, hr) != 0) {
        dump_log(d->log);
        ts_daemon_stop(d, SIGKILL, 5);
        return -1;
    }
    return 0;
}

int ts_daemon_stop(struct ts_daemon *d, int sig, int timeout_s)
{
    if (d->pid <= 0) return -1;
    kill(d->pid, sig);
    int st = 0;
    for (int i = 0; i < timeout_s * 20; i++) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            d->pid = 0;
            int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (rc != 0 && sig != SIGKILL) {
                dump_log(d->log);
            } else if (rc == 0 && !d->keep_dir && strncmp(d->dir, "/tmp/attendd-daemon-", 20) == 0) {
                /* a clean stop: nothing left to look at */
                char *rm[] = {"rm", "-rf", d->dir, NULL};
                ts_run(rm, NULL, 0, 0);
            }
            return rc;
        }
        usleep(50000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    dump_log(d->log);
    return -1;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

size_t ts_resp_sink(char *p, size_t sz, size_t n, void *ud)
{
    struct ts_resp *r = ud;
    size_t add = sz * n;
    char *nb = realloc(r->body, r->len + add + 1);
    if (!nb) return 0;
    memcpy(nb + r->len, p, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Response headers: the block of the final response into r->headers. */
static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct ts_resp *r = ud;
    size_t len = sz * n, have = r->headers && !(len >= 5 && strncmp(p, "HTTP/", 5) == 0) ? strlen(r->headers) : 0;
    char *nh = realloc(r->headers, have + len + 1);
    if (!nh) return 0;
    memcpy(nh + have, p, len);
    nh[have + len] = '\0';
    r->headers = nh;
    return len;
}

const char *ts_resp_header(const struct ts_resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            size_t b = nl + 1, end = len;
            while (b < end && (p[b] == ' ' || p[b] == '\t')) b++;
            while (end > b && (p[end - 1] == '\r' || p[end - 1] == ' ')) end--;
            snprintf(out, outlen, "%.*s", (int)(end - b), p + b);
            return out;
        }
        p = e ? e + 1 : p + len;
    }
    return NULL;
}

/* The value of ts_http_opts.want_header, from the headers kept. */
static void want_header(struct ts_http_opts *o, const struct ts_resp *r)
{
    if (!ts_resp_header(r, o->want_header, o->header_value, sizeof o->header_value)) o->header_value[0] = '\0';
}

int ts_http(const char *method, const char *url, const char *token, const void *body, size_t len,
            const char *content_type, struct ts_resp *out)
{
    return ts_http_ex(NULL, method, url, token, body, len, content_type, out);
}

int ts_http_ex(struct ts_http_opts *o, const char *method, const char *url, const char *token, const void *body,
               size_t len, const char *content_type, struct ts_resp *out)
{
    pthread_once(&curl_once, curl_init);
    memset(out, 0, sizeof *out);
    out->body = calloc(1, 1);
    CURL *c = curl_easy_init();
    if (!c || !out->body) return -1;
    struct curl_slist *h = NULL;
    char auth[160], ct[160];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        h = curl_slist_append(h, ct);
    }
    if (o && o->header) h = curl_slist_append(h, o->header);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ts_resp_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (o != NULL) {
        if (o->cacert) curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
        if (o->source_addr) curl_easy_setopt(c, CURLOPT_INTERFACE, o->source_addr);
        if (o->timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    }
    char why[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
    double t0 = ts_now_s();
    CURLcode rc = curl_easy_perform(c);
    /* a request sent and never answered says how it ended (timed out, reset, empty reply) and when */
    if (rc != CURLE_OK && rc != CURLE_COULDNT_CONNECT)
        fprintf(stderr, "ts_http: %s %s: no answer: %s (%s) after %.1f s\n", method, url, curl_easy_strerror(rc), why,
                ts_now_s() - t0);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        char *t = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &t);
        if (t) snprintf(out->content_type, sizeof out->content_type, "%s", t);
    }
    if (o && o->want_header) want_header(o, out);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

void ts_resp_free(struct ts_resp *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

double ts_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int64_t ts_wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void ts_rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

char *ts_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    ck_assert_ptr_nonnull(m);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) ck_assert_uint_eq(fwrite(chunk, 1, got, m), got);
    ck_assert_msg(!ferror(f), "cannot read %s", path);
    fclose(f);
    fclose(m);
    if (len) *len = n;
    return buf;
}

bool ts_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

void ts_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

long long ts_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ts_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *url_buf(void)
{
    static __thread char buf[8][1024];
    static __thread unsigned i;
    return buf[i++ & 7];
}

char *ts_url(const struct ts_daemon *d, const char *path)
{
    char *u = url_buf();
    snprintf(u, 1024, "%s%s", d->url, path);
    return u;
}

char *ts_urlf(const struct ts_daemon *d, const char *fmt, ...)
{
    char *u = url_buf();
    int n = snprintf(u, 1024, "%s", d->url);
    if (n < 0 || n >= 1024) return u;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    return u;
}

void ts_q_text(PGconn *c, const char *sql, char *out, size_t len)
{
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql, PQerrorMessage(c));
    snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

long long ts_q_int(PGconn *c, const char *sql)
{
    char v[64];
    ts_q_text(c, sql, v, sizeof v);
    return strtoll(v, NULL, 10);
}

void ts_q_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}
