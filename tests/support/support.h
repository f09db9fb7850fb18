/* Shared test fixtures: tcase declaration, environment paths, files, the run's PostgreSQL cluster (and
 * private ones), the daemon as a child process, and a small libcurl HTTP client. Used by the suites in
 * tests/unit and tests/integration. */
#ifndef ATTENDD_TESTS_SUPPORT_H
#define ATTENDD_TESTS_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <sys/types.h>

/* A tcase of s: name, timeout in seconds (0: check's default), an unchecked fixture (setup and
 * teardown, run in the runner around the whole tcase; NULL for none), then its tests in order, ending
 * with NULL. Returns it, for checked fixtures or loop tests. */
TCase *ts_tcase(Suite *s, const char *name, double timeout_s, SFun setup, SFun teardown, ...);

/* Value of a required environment variable (set by `make test`); aborts the test if missing. */
const char *ts_env(const char *name);
/* Monotonic seconds (durations), wall-clock microseconds (event times), and rm -rf of a test directory. */
double ts_now_s(void);
int64_t ts_wall_us(void);
void ts_rm_rf(const char *dir);
/* A fresh /tmp/attendd-TAG-XXXXXX directory that an unprivileged PostgreSQL may traverse (0755); its
 * path into dir. The test fails on an error. */
void ts_mkdtemp(char *dir, size_t len, const char *tag);
/* Run argv; capture stdout (and stderr too if with_stderr) into out (first outlen-1 bytes, trailing
 * newlines dropped) if out; otherwise they pass through. Returns the exit status (128+signal). */
int ts_run(char *const argv[], char *out, size_t outlen, int with_stderr);
/* One-row queries on an open connection (the test fails on an error or another row count), and a
 * statement whose result is not read. */
void ts_q_text(PGconn *c, const char *sql, char *out, size_t len);
long long ts_q_int(PGconn *c, const char *sql);
void ts_q_exec(PGconn *c, const char *sql);
/* The whole file at path, NUL-terminated (malloc'd; the length into *len if len); the test fails if it
 * cannot be read. */
char *ts_slurp(const char *path, size_t *len);
/* Whether a line of the file at path holds needle (false if it cannot be read). */
bool ts_file_has(const char *path, const char *needle);
/* Write len bytes to path with exactly mode (the umask bypassed); the test fails on an error. */
void ts_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Milliseconds on the monotonic clock; sleep ms (resumed after signals). */
long long ts_now_ms(void);
void ts_sleep_ms(int ms);
/* Path under ATTENDD_DATA (../shared/data). Returns a static-per-call-site-safe malloc'd string. */
char *ts_data_path(const char *rel);

/* The run's PostgreSQL cluster: one per run of the test binary, under /tmp/attendd-run-PID. The
 * runner calls ts_cluster_run_begin before the suites (it also removes the clusters of runs that died)
 * and ts_cluster_run_end at exit. The cluster starts the first time a case asks for a database, in
 * whichever process asks: the runner (unchecked fixtures) or a case check has forked (the postmaster
 * runs in its own session, so the end of the case does not take it down); only the runner stops it. */
void ts_cluster_run_begin(void);
void ts_cluster_run_end(void);
/* A fresh, empty, uniquely named database on the run's cluster; writes its full conninfo. 0 on
 * success. Databases whose creating process has ended (a forked case) are dropped on the next call. */
int ts_db_new(char *conninfo, size_t len);
/* The run's cluster's conninfo without dbname (the cluster is started if need be), or NULL. */
const char *ts_cluster_conninfo(void);
/* Drop a database made by ts_db_new (its connections are ended); for fixtures that outlive cases. */
void ts_db_drop(const char *conninfo);

/* A private cluster in a fresh temp directory (scripts/pg-cluster init/start --fast), for a test that
 * stops PostgreSQL or otherwise cannot share the run's cluster. */
struct ts_pg {
    char dir[256];  /* cluster directory */
    char base[512]; /* conninfo without dbname */
};
int ts_pg_start(struct ts_pg *pg); /* 0 on success */
void ts_pg_stop(struct ts_pg *pg); /* stops and removes the directory */
/* Create a fresh, uniquely named database; writes its full conninfo. 0 on success. */
int ts_pg_new_db(struct ts_pg *pg, char *conninfo, size_t len);
/* scripts/pg-cluster cmd (stop, start, ...) on a private cluster: ts_pg_ctl returns 0 on success,
 * ts_pg_cluster fails the test otherwise. */
int ts_pg_ctl(const struct ts_pg *pg, const char *cmd);
void ts_pg_cluster(const struct ts_pg *pg, const char *cmd);
/* The private cluster of a tcase whose cases stop PostgreSQL: the unchecked fixture (ts_own_pg_up,
 * ts_own_pg_down) starts it in the runner before the cases fork; ts_own_pg_ok says it is up. */
extern struct ts_pg ts_own_pg;
extern int ts_own_pg_ok;
void ts_own_pg_up(void);
void ts_own_pg_down(void);
/* ts_psql that fails the test on an error; ts_sql_int: the first value of the result as a number. */
void ts_sql(const char *conninfo, const char *sql);
long long ts_sql_int(const char *conninfo, const char *sql);
/* ts_sql_int of a printf-formatted statement (at most 2047 bytes). */
long long ts_sql_intf(const char *conninfo, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run one SQL command (psql) on conninfo; 0 on success. Output (first line) into out if given. */
int ts_psql(const char *conninfo, const char *sql, char *out, size_t outlen);

/* attendd run as a child on a free loopback port, with a temp config (key files included).
 * extra_conf: more `key = value` lines, or NULL. Returns 0 once /healthz answers. */
struct ts_daemon {
    pid_t pid;
    int port;
    char dir[256]; /* temp dir: attendd.conf, keys, log, state */
    char conf[320];
    char log[320];
    char url[64]; /* "http://127.0.0.1:PORT" */
    char admin_token[64];
    char hr_token[64];
    int no_tokens;    /* set before start: do not create tokens (database down on purpose) */
    int keep_dir;     /* set to keep dir after a clean stop (to restart, or to inspect) */
    char cacert[320]; /* set before start: the daemon serves HTTPS (tls_* keys in extra_conf),
                                url is "https://127.0.0.1:PORT" and start-up is checked trusting this CA */
};
/* d's base URL + path (ts_url) or + a printf-formatted path (ts_urlf), in one of 8 rotating
 * per-thread buffers of 1024 bytes: valid until 8 more calls on the same thread. */
char *ts_url(const struct ts_daemon *d, const char *path);
char *ts_urlf(const struct ts_daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ts_daemon_start(struct ts_daemon *d, const char *conninfo, const char *extra_conf);
/* Start attendd again with the same directory, configuration and keys (after ts_daemon_stop).
 * Returns 0 once /healthz answers. */
int ts_daemon_restart(struct ts_daemon *d);
/* Send sig (SIGTERM usually), wait up to timeout_s; returns the exit status, or -1 if it had to be killed. */
int ts_daemon_stop(struct ts_daemon *d, int sig, int timeout_s);
/* Run attendctl with the daemon's config; stdout captured into out. Returns exit status. */
int ts_attendctl(const struct ts_daemon *d, char *out, size_t outlen, const char *const *args);

struct ts_resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char content_type[128];
    char *headers; /* the response header block (the final response's), NUL-terminated */
};
/* One HTTP request. token may be NULL (no Authorization header). Returns 0 if a response arrived. */
int ts_http(const char *method, const char *url, const char *token, const void *body, size_t len,
            const char *content_type, struct ts_resp *out);
void ts_resp_free(struct ts_resp *r);
/* Response header name's value (trimmed) into out; NULL if r has no such header. */
const char *ts_resp_header(const struct ts_resp *r, const char *name, char *out, size_t len);
/* libcurl write callback appending to a struct ts_resp's body (for suites that drive curl themselves). */
size_t ts_resp_sink(char *p, size_t sz, size_t n, void *resp);

/* ts_http with more control; o may be NULL (then it is ts_http). */
struct ts_http_opts {
    const char *cacert;      /* HTTPS: trust this PEM CA file (certificate and host name are verified) */
    const char *source_addr; /* bind the client socket to this local address, e.g. "127.0.0.2" */
    const char *want_header; /* copy this response header's value (trimmed) into header_value */
    char header_value[256];  /* "" if the header was absent */
    long timeout_ms;         /* 0: 60 s */
    const char *header;      /* one more request header line, e.g. "Accept: text/csv" */
};
int ts_http_ex(struct ts_http_opts *o, const char *method, const char *url, const char *token, const void *body,
               size_t len, const char *content_type, struct ts_resp *out);

#endif
