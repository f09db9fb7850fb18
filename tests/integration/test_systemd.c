/* The systemd unit as shipped: `make install` into a DESTDIR, `systemd-analyze verify` and `security`
 * on it, attendd started the way the unit starts it (its user, directories, credentials, environment,
 * limits and ExecStart read from the installed unit) without systemd as PID 1, credentials in their
 * ACL form, and watchdog pings withheld while the analysis workers are stuck. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "attendd/keyfile.h"
#include "src/http/tls.h"
#include "support.h"
#include "support_rtsp.h" /* ts_free_port */

/* Run argv; stdout and stderr together into out (truncated). Returns the exit status. */
static int run(char *const argv[], char *out, size_t outlen) { return ts_run(argv, out, outlen, 1); }

static void make_root(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/attendd-sd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chmod(dir, 0755), 0); /* the service user must reach what is inside */
}

static void remove_root(const char *dir)
{
    ck_assert(strncmp(dir, "/tmp/attendd-sd-", 16) == 0);
    char *rm[] = {"rm", "-rf", (char *)dir, NULL};
    char out[256];
    run(rm, out, sizeof out);
}

/* `make install` of the build under test into root, as a package build would (prefix /usr, /etc).
 * -o: the binaries are the ones under test, never rebuilt here. */
static void install_into(const char *root)
{
    char destdir[400], build[600], o1[620], o2[620], out[8192];
    const char *b = ts_env("ATTENDD_BUILD");
    snprintf(destdir, sizeof destdir, "DESTDIR=%s", root);
    snprintf(build, sizeof build, "BUILD=%s", b);
    snprintf(o1, sizeof o1, "%s/attendd", b);
    snprintf(o2, sizeof o2, "%s/attendctl", b);
    /* env -u: not a sub-make of the `make test` that runs us (its variables and jobserver stay out) */
    char *argv[] = {"env",
                    "-u",
                    "MAKEFLAGS",
                    "-u",
                    "MFLAGS",
                    "-u",
                    "MAKELEVEL",
                    "make",
                    "-s",
                    "-C",
                    (char *)ts_env("ATTENDD_SRCDIR"),
                    build,
                    "-o",
                    o1,
                    "-o",
                    o2,
                    destdir,
                    "prefix=/usr",
                    "sysconfdir=/etc",
                    "install",
                    NULL};
    int rc = run(argv, out, sizeof out);
    ck_assert_msg(rc == 0, "make install failed (%d): %s", rc, out);
}

/* ---- the unit file ------------------------------------------------------------------------------- */

#define UNIT_MAX_LINES 128

struct unit {
    char *text;
    char *key[UNIT_MAX_LINES], *val[UNIT_MAX_LINES];
    int n;
};

/* Parse `Key=Value` lines of every section (comments and section headers skipped). */
static void unit_load(struct unit *u, const char *path)
{
    memset(u, 0, sizeof *u);
    u->text = ts_slurp(path, NULL);
    for (char *save = NULL, *line = strtok_r(u->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        ck_assert_int_lt(u->n, UNIT_MAX_LINES);
        u->key[u->n] = line;
        u->val[u->n++] = eq + 1;
    }
}

/* The i-th (0-based) value of key, or NULL. */
static const char *unit_get(const struct unit *u, const char *key, int i)
{
    for (int k = 0; k < u->n; k++)
        if (strcmp(u->key[k], key) == 0 && i-- == 0) return u->val[k];
    return NULL;
}

struct dirs {
    char root[64];     /* the DESTDIR, standing in for / */
    char state[256];   /* %S */
    char runtime[256]; /* %t */
    char logs[256];    /* %L */
    char creds[256];   /* %d */
};

/* Resolve the specifiers the unit uses; an unknown one fails the test, so a unit change is noticed. */
static void expand(const struct dirs *d, const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < len; p++) {
        const char *rep = NULL;
        char one[2] = {0, 0};
        if (*p != '%') {
            one[0] = *p;
            rep = one;
        } else {
            p++;
            switch (*p) {
            case 'S': rep = d->state; break;
            case 't': rep = d->runtime; break;
            case 'L': rep = d->logs; break;
            case 'd': rep = d->creds; break;
            case '%': rep = "%"; break;
            default: ck_abort_msg("unit uses specifier %%%c: teach tests/integration/test_systemd.c about it", *p);
            }
        }
        size_t n = strlen(rep);
        ck_assert_int_lt(o + n, len);
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
}

/* ---- (a) install + verify ------------------------------------------------------------------------ */

START_TEST(installed_unit_verifies)
{
    char root[64], unit[200], copy[200], out[8192];
    make_root(root, sizeof root);
    install_into(root);
    snprintf(unit, sizeof unit, "%s/usr/lib/systemd/system/attendd.service", root);
    struct unit u;
    unit_load(&u, unit);
    const char *exec = unit_get(&u, "ExecStart", 0);
    ck_assert_ptr_nonnull(exec);
    ck_assert_msg(strncmp(exec, "/usr/sbin/attendd ", 18) == 0, "ExecStart not rewritten for prefix /usr: %s", exec);

    /* verify checks that ExecStart's binary exists: point it at the DESTDIR copy (same file name) */
    char *text = ts_slurp(unit, NULL);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/verify", root);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(copy, sizeof copy, "%s/attendd.service", dir);
    FILE *f = fopen(copy, "w");
    ck_assert_ptr_nonnull(f);
    char *at = strstr(text, "\nExecStart=/usr/sbin/attendd");
    ck_assert_ptr_nonnull(at);
    at += strlen("\nExecStart=");
    fprintf(f, "%.*s%s%s", (int)(at - text), text, root, at);
    fclose(f);
    free(text);
    char *verify[] = {"systemd-analyze", "verify", copy, NULL};
    int rc = run(verify, out, sizeof out);
    ck_assert_msg(rc == 0, "systemd-analyze verify exited %d: %s", rc, out);
    ck_assert_msg(strstr(out, "attendd") == NULL, "systemd-analyze verify warns about the unit: %s", out);

    /* the sysusers and tmpfiles entries were installed where systemd looks */
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/usr/lib/sysusers.d/attendd.conf", root);
    ck_assert_int_eq(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/usr/lib/tmpfiles.d/attendd.conf", root);
    ck_assert_int_eq(stat(p, &st), 0);
    free(u.text);
    remove_root(root);
}
END_TEST

/* ---- (b) sandbox rating -------------------------------------------------------------------------- */

START_TEST(security_exposure_at_most_2)
{
    char unit[512], out[16384];
    snprintf(unit, sizeof unit, "%s/systemd/attendd.service", ts_env("ATTENDD_SRCDIR"));
    char *argv[] = {"systemd-analyze", "security", "--offline=true", "--no-pager", unit, NULL};
    int rc = run(argv, out, sizeof out);
    const char *tag = "Overall exposure level for attendd.service: ";
    char *at = strstr(out, tag);
    ck_assert_msg(rc == 0 && at, "systemd-analyze security exited %d: %s", rc, out);
    double score = strtod(at + strlen(tag), NULL);
    ck_assert_msg(score > 0 && score <= 2.0, "exposure %.1f > 2.0", score);
}
END_TEST

/* The unit forbids core files and gives the service its own IPC namespace: what the daemon holds
 * in memory (keys, decrypted templates, pictures) never reaches a core file or shared IPC objects. */
START_TEST(unit_forbids_core_files)
{
    char path[512];
    snprintf(path, sizeof path, "%s/systemd/attendd.service", ts_env("ATTENDD_SRCDIR"));
    struct unit u;
    unit_load(&u, path);
    const char *core = unit_get(&u, "LimitCORE", 0);
    ck_assert_msg(core && strcmp(core, "0") == 0, "LimitCORE=%s", core ? core : "(unset)");
    const char *ipc = unit_get(&u, "PrivateIPC", 0);
    ck_assert_msg(ipc && strcmp(ipc, "yes") == 0, "PrivateIPC=%s", ipc ? ipc : "(unset)");
    free(u.text);
}
END_TEST

/* ---- credentials with an ACL ------------------------------------------------------------------------ */

/* Set a POSIX access ACL (linux/posix_acl_xattr.h layout) from (tag, perm, id) triples. */
static void set_acl(const char *path, const unsigned (*e)[3], int n)
{
    unsigned char buf[4 + 8 * 8] = {2, 0, 0, 0};
    ck_assert_int_le(n, 8);
    for (int i = 0; i < n; i++) {
        unsigned char *p = buf + 4 + 8 * i;
        p[0] = (unsigned char)e[i][0];
        p[2] = (unsigned char)e[i][1];
        for (int b = 0; b < 4; b++) p[4 + b] = (unsigned char)(e[i][2] >> (8 * b));
    }
    ck_assert_msg(setxattr(path, "system.posix_acl_access", buf, 4 + 8 * (size_t)n, 0) == 0, "setxattr: %s",
                  strerror(errno));
}

/* load(path) in a child running as uid; its exit status is 0 when the key loaded. */
static int load_with_as(att_err (*load)(const char *, unsigned char *, char *, size_t), uid_t uid, const char *path,
                        char *msg, size_t len)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        unsigned char k[KEYFILE_BYTES];
        char err[512] = "";
        if (setgid(uid) != 0 || setuid(uid) != 0) _exit(3);
        int rc = load(path, k, err, sizeof err) == ATT_OK ? 0 : 1;
        if (write(fds[1], err, strlen(err)) < 0) _exit(4);
        _exit(rc);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], msg, len - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

/* The HTTPS key file (with cert) as the daemon loads it; err as keyfile_load's. */
static const char *tls_cert_for_load;
static att_err tls_load(const char *path, unsigned char *unused, char *err, size_t errlen)
{
    (void)unused;
    struct http_tls t;
    att_err e = http_tls_load(tls_cert_for_load, path, &t, err, errlen);
    if (e == ATT_OK) http_tls_free(&t);
    return e;
}

/* keyfile_load(path) in a child running as uid; its exit status is 0 when the key loaded. */
static int load_as(uid_t uid, const char *path, char *msg, size_t len)
{
    return load_with_as(keyfile_load, uid, path, msg, len);
}

/* Where the credentials file system has ACLs, systemd writes each credential root-owned 0400 and
 * grants the service's user read with an ACL entry; stat shows the ACL mask as group bits (0440).
 * The key loader accepts exactly that, and still refuses an ACL that lets anyone else in. */
START_TEST(credential_acl_form_loads)
{
    char root[64], key[128], msg[600], err[256];
    make_root(root, sizeof root);
    snprintf(key, sizeof key, "%s/template.key", root);
    ck_assert_int_eq(keyfile_create(key, err, sizeof err), ATT_OK);
    ck_assert_int_eq(chmod(key, 0400), 0);
    const uid_t svc = 65534, stranger = 65533;
    enum { OWNER = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };
    const unsigned systemd_acl[][3] = {{OWNER, 4, 0}, {USER, 4, svc}, {GROUP_OBJ, 0, 0}, {MASK, 4, 0}, {OTHER, 0, 0}};
    set_acl(key, systemd_acl, 5);
    struct stat st;
    ck_assert_int_eq(stat(key, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0440); /* what a mode-only check would refuse */
    ck_assert_msg(load_as(svc, key, msg, sizeof msg) == 0, "refused: %s", msg);
    ck_assert_msg(load_as(stranger, key, msg, sizeof msg) != 0, "another user read the key");

    const unsigned other_user[][3] = {{OWNER, 4, 0},     {USER, 4, svc}, {USER, 4, stranger},
                                      {GROUP_OBJ, 0, 0}, {MASK, 4, 0},   {OTHER, 0, 0}};
    set_acl(key, other_user, 6);
    ck_assert_int_ne(load_as(svc, key, msg, sizeof msg), 0);
    ck_assert_msg(strstr(msg, "ACL"), "%s", msg);
    const unsigned group_read[][3] = {{OWNER, 4, 0}, {USER, 4, svc}, {GROUP_OBJ, 4, 0}, {MASK, 4, 0}, {OTHER, 0, 0}};
    set_acl(key, group_read, 5);
    ck_assert_int_ne(load_as(svc, key, msg, sizeof msg), 0);
    /* and without any ACL, group bits still refuse */
    ck_assert_int_eq(removexattr(key, "system.posix_acl_access"), 0);
    ck_assert_int_eq(chmod(key, 0440), 0);
    ck_assert_int_eq(chown(key, svc, svc), 0);
    ck_assert_int_ne(load_as(svc, key, msg, sizeof msg), 0);
    ck_assert_msg(strstr(msg, "group/other"), "%s", msg);
    remove_root(root);
}
END_TEST

/* The HTTPS key reaches the daemon the same way (LoadCredential=tls.key): its ACL form loads too,
 * and an ACL that lets anyone else in is still refused. */
START_TEST(tls_key_credential_acl_form_loads)
{
    char root[64], key[128], cert[128], cmd[600], msg[600];
    make_root(root, sizeof root);
    snprintf(key, sizeof key, "%s/tls.key", root);
    snprintf(cert, sizeof cert, "%s/tls.crt", root);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -keyout %s -out %s 2>/dev/null && chmod 644 %s",
             key, cert, cert);
    ck_assert_msg(system(cmd) == 0, "openssl could not make a certificate");
    tls_cert_for_load = cert;
    ck_assert_int_eq(chmod(key, 0400), 0);
    const uid_t svc = 65534, stranger = 65533;
    enum { OWNER = 1, USER = 2, GROUP_OBJ = 4, MASK = 0x10, OTHER = 0x20 };
    const unsigned systemd_acl[][3] = {{OWNER, 4, 0}, {USER, 4, svc}, {GROUP_OBJ, 0, 0}, {MASK, 4, 0}, {OTHER, 0, 0}};
    set_acl(key, systemd_acl, 5);
    ck_assert_msg(load_with_as(tls_load, svc, key, msg, sizeof msg) == 0, "refused: %s", msg);
    ck_assert_msg(load_with_as(tls_load, stranger, key, msg, sizeof msg) != 0, "another user read the key");
    const unsigned other_user[][3] = {{OWNER, 4, 0},     {USER, 4, svc}, {USER, 4, stranger},
                                      {GROUP_OBJ, 0, 0}, {MASK, 4, 0},   {OTHER, 0, 0}};
    set_acl(key, other_user, 6);
    ck_assert_int_ne(load_with_as(tls_load, svc, key, msg, sizeof msg), 0);
    ck_assert_msg(strstr(msg, "tls_key_file") && strstr(msg, "ACL"), "%s", msg);
    remove_root(root);
}
END_TEST

/* ---- (c) started as the unit starts it ----------------------------------------------------------- */

static int notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_int_lt(strlen(path), sizeof sa.sun_path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(chmod(path, 0777), 0); /* the service user must be able to send to it */
    return fd;
}

/* Wait up to timeout_ms for a datagram containing want; everything read is appended to seen. */
static int wait_for(int fd, const char *want, int timeout_ms, char *seen, size_t seenlen)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        siginfo_t si = {0};
        /* a child that exited before saying it (left to be reaped by the caller) */
        if (!strstr(want, "STOPPING") && waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid) return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1) continue;
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0) continue;
        buf[n] = '\0';
        strncat(seen, buf, seenlen - strlen(seen) - 2);
        strcat(seen, "|");
        if (strstr(buf, want)) return 1;
    }
    return 0;
}

/* A directory as StateDirectory=/RuntimeDirectory=/LogsDirectory= makes it: owned by the service user. */
static void service_dir(const char *parent, const char *name, const char *mode_s, uid_t uid, gid_t gid, char *out,
                        size_t len)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", parent);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(out, len, "%s/%s", parent, name);
    mode_t mode = mode_s ? (mode_t)strtol(mode_s, NULL, 8) : 0755;
    ck_assert_int_eq(mkdir(out, mode), 0);
    ck_assert_int_eq(chmod(out, mode), 0);
    ck_assert_int_eq(chown(out, uid, gid), 0);
}

/* LoadCredential=ID:PATH as systemd 252 does it on its ramfs: a copy named ID, 0400, in a 0500
 * directory, both owned by the service user. */
static void load_credential(const char *root, const char *creds, const char *spec, uid_t uid, gid_t gid)
{
    char id[64], src[400], dst[400];
    const char *colon = strchr(spec, ':');
    ck_assert_ptr_nonnull(colon);
    snprintf(id, sizeof id, "%.*s", (int)(colon - spec), spec);
    snprintf(src, sizeof src, "%s%s", root, colon + 1);
    snprintf(dst, sizeof dst, "%s/%s", creds, id);
    FILE *f = fopen(src, "rb");
    ck_assert_msg(f != NULL, "%s: %s", src, strerror(errno));
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0400);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
    close(fd);
    ck_assert_int_eq(chown(dst, uid, gid), 0);
}

static rlim_t parse_limit(const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    switch (*end) {
    case 'K': n <<= 10; break;
    case 'M': n <<= 20; break;
    case 'G': n <<= 30; break;
    case '\0': break;
    default: ck_abort_msg("unit limit %s: unknown suffix", v);
    }
    return (rlim_t)n;
}

static uid_t proc_uid(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    long uid = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %ld", &uid) == 1) break;
    fclose(f);
    return (uid_t)uid;
}

START_TEST(starts_as_the_unit_does)
{
    struct dirs d;
    char unit_path[200], out[8192], p[600], conninfo[600];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    make_root(d.root, sizeof d.root);
    install_into(d.root);
    snprintf(unit_path, sizeof unit_path, "%s/usr/lib/systemd/system/attendd.service", d.root);
    struct unit u;
    unit_load(&u, unit_path);

    /* the account, from the installed sysusers entry, in a copy of this host's user database (so the
     * uid is one nobody here uses); /etc/attendd from the tmpfiles entry resolves the group there */
    snprintf(p, sizeof p,
             "cp /etc/passwd /etc/group '%s/etc/' && for f in shadow gshadow; do "
             "[ ! -e /etc/$f ] || cp -p /etc/$f '%s/etc/'; done",
             d.root, d.root);
    ck_assert_int_eq(system(p), 0);
    char rootopt[100], sysusers[200], tmpfiles[200];
    snprintf(rootopt, sizeof rootopt, "--root=%s", d.root);
    snprintf(sysusers, sizeof sysusers, "%s/usr/lib/sysusers.d/attendd.conf", d.root);
    snprintf(tmpfiles, sizeof tmpfiles, "%s/usr/lib/tmpfiles.d/attendd.conf", d.root);
    char *su[] = {"systemd-sysusers", rootopt, sysusers, NULL};
    ck_assert_msg(run(su, out, sizeof out) == 0, "systemd-sysusers: %s", out);
    const char *user = unit_get(&u, "User", 0);
    ck_assert_ptr_nonnull(user);
    snprintf(p, sizeof p, "%s/etc/passwd", d.root);
    FILE *pw = fopen(p, "r");
    struct passwd *ent;
    uid_t uid = 0;
    gid_t gid = 0;
    while ((ent = fgetpwent(pw)))
        if (strcmp(ent->pw_name, user) == 0) {
            uid = ent->pw_uid;
            gid = ent->pw_gid;
        }
    fclose(pw);
    ck_assert_msg(uid > 0 && uid < 1000, "sysusers made no system user %s", user);
    char *tf[] = {"systemd-tmpfiles", rootopt, "--create", tmpfiles, NULL};
    ck_assert_msg(run(tf, out, sizeof out) == 0, "systemd-tmpfiles: %s", out);

    /* keys made as docs/operations.md says, in /etc/attendd (root's: the service never reads them there) */
    char attendctl[200], tk[200], tpl[200];
    snprintf(attendctl, sizeof attendctl, "%s/usr/bin/attendctl", d.root);
    snprintf(tk, sizeof tk, "%s/etc/attendd/token.key", d.root);
    snprintf(tpl, sizeof tpl, "%s/etc/attendd/template.key", d.root);
    char *k1[] = {attendctl, "key", "create", tk, NULL}, *k2[] = {attendctl, "key", "create", tpl, NULL};
    ck_assert_msg(run(k1, out, sizeof out) == 0 && run(k2, out, sizeof out) == 0, "key create: %s", out);

    /* directories and credentials as systemd makes them before ExecStart */
    char base[300], statedir[300], rundir[300], logdir[300];
    snprintf(d.state, sizeof d.state, "%s/var/lib", d.root);
    snprintf(d.runtime, sizeof d.runtime, "%s/run", d.root);
    snprintf(d.logs, sizeof d.logs, "%s/var/log", d.root);
    snprintf(d.creds, sizeof d.creds, "%s/run/credentials/attendd.service", d.root);
    service_dir(d.state, unit_get(&u, "StateDirectory", 0), unit_get(&u, "StateDirectoryMode", 0), uid, gid, statedir,
                sizeof statedir);
    service_dir(d.runtime, unit_get(&u, "RuntimeDirectory", 0), unit_get(&u, "RuntimeDirectoryMode", 0), uid, gid,
                rundir, sizeof rundir);
    service_dir(d.logs, unit_get(&u, "LogsDirectory", 0), unit_get(&u, "LogsDirectoryMode", 0), uid, gid, logdir,
                sizeof logdir);
    snprintf(base, sizeof base, "%s/run/credentials", d.root);
    service_dir(base, "attendd.service", "0700", 0, 0, p, sizeof p);
    int ncred = 0;
    for (const char *spec; (spec = unit_get(&u, "LoadCredential", ncred)); ncred++)
        load_credential(d.root, d.creds, spec, uid, gid);
    ck_assert_int_ge(ncred, 2);
    ck_assert_int_eq(chmod(d.creds, 0500), 0);
    ck_assert_int_eq(chown(d.creds, uid, gid), 0);

    /* the site's settings, appended to the installed configuration (the last line wins) */
    int port = ts_free_port();
    ck_assert_int_gt(port, 0);
    snprintf(p, sizeof p, "%s/etc/attendd/attendd.conf", d.root);
    FILE *conf = fopen(p, "a");
    ck_assert_ptr_nonnull(conf);
    fprintf(conf, "\n# test site\nport = %d\ndatabase_url = \"%s\"\nmodels_dir = %s/usr/share/attendd/models\n", port,
            conninfo, d.root);
    fclose(conf);

    /* the environment systemd gives the service: its own, plus the unit's Environment= lines */
    char notify[200], seen[8192] = "";
    snprintf(notify, sizeof notify, "%s/notify.sock", d.root);
    int nfd = notify_socket(notify);
    const char *ws = unit_get(&u, "WatchdogSec", 0);
    ck_assert_ptr_nonnull(ws);
    long wd_s = strtol(ws, NULL, 10);
    ck_assert_int_gt(wd_s, 0);
    char *envp[64];
    int ne = 0;
    ck_assert(asprintf(&envp[ne++], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") > 0);
    ck_assert(asprintf(&envp[ne++], "USER=%s", user) > 0);
    ck_assert(asprintf(&envp[ne++], "LOGNAME=%s", user) > 0);
    ck_assert(asprintf(&envp[ne++], "NOTIFY_SOCKET=%s", notify) > 0);
    ck_assert(asprintf(&envp[ne++], "WATCHDOG_USEC=%ld", wd_s * 1000000L) > 0);
    ck_assert(asprintf(&envp[ne++], "CREDENTIALS_DIRECTORY=%s", d.creds) > 0);
    ck_assert(asprintf(&envp[ne++], "STATE_DIRECTORY=%s", statedir) > 0);
    ck_assert(asprintf(&envp[ne++], "RUNTIME_DIRECTORY=%s", rundir) > 0);
    ck_assert(asprintf(&envp[ne++], "LOGS_DIRECTORY=%s", logdir) > 0);
    for (int i = 0; unit_get(&u, "Environment", i); i++) {
        char v[600];
        expand(&d, unit_get(&u, "Environment", i), v, sizeof v);
        ck_assert_int_lt(ne, 56);
        envp[ne++] = strdup(v);
    }
    /* the test harness's sanitizer settings (not the unit's) */
    const char *san[] = {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"};
    for (size_t i = 0; i < 3; i++)
        if (getenv(san[i])) ck_assert(asprintf(&envp[ne++], "%s=%s", san[i], getenv(san[i])) > 0);
    int watchdog_pid_slot = ne++;
    envp[watchdog_pid_slot] = NULL; /* filled in the child */
    envp[ne] = NULL;

    /* ExecStart, its absolute paths taken from the installed tree */
    const char *exec = unit_get(&u, "ExecStart", 0);
    ck_assert_ptr_nonnull(exec);
    char *args[32], *owned[32] = {NULL}, execbuf[600];
    expand(&d, exec, execbuf, sizeof execbuf);
    int na = 0;
    char uidopt[32], gidopt[32];
    snprintf(uidopt, sizeof uidopt, "--reuid=%u", (unsigned)uid);
    snprintf(gidopt, sizeof gidopt, "--regid=%u", (unsigned)gid);
    args[na++] = "setpriv";
    args[na++] = uidopt;
    args[na++] = gidopt;
    args[na++] = "--clear-groups";
    const char *nnp = unit_get(&u, "NoNewPrivileges", 0);
    if (nnp && strcmp(nnp, "yes") == 0) args[na++] = "--no-new-privs";
    const char *cbs = unit_get(&u, "CapabilityBoundingSet", 0);
    if (cbs && *cbs == '\0') args[na++] = "--bounding-set=-all";
    args[na++] = "--";
    for (char *save = NULL, *w = strtok_r(execbuf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *in_root;
        ck_assert(asprintf(&in_root, "%s%s", d.root, w) > 0);
        if (w[0] == '/' && access(in_root, F_OK) == 0) {
            owned[na] = in_root;
            args[na++] = in_root;
        } else {
            free(in_root);
            args[na++] = w;
        }
        ck_assert_int_lt(na, 30);
    }
    args[na] = NULL;
    const char *umask_s = unit_get(&u, "UMask", 0);

    char logpath[200];
    snprintf(logpath, sizeof logpath, "%s/attendd.log", d.root);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (lfd >= 0) {
            dup2(lfd, STDOUT_FILENO);
            dup2(lfd, STDERR_FILENO);
            close(lfd);
        }
        if (asprintf(&envp[watchdog_pid_slot], "WATCHDOG_PID=%ld", (long)getpid()) < 0) _exit(126);
        const char *lim[] = {"LimitMEMLOCK", "LimitNOFILE", "LimitCORE"};
        const int res[] = {RLIMIT_MEMLOCK, RLIMIT_NOFILE, RLIMIT_CORE};
        for (int i = 0; i < 3; i++) {
            const char *v = unit_get(&u, lim[i], 0);
            if (!v) continue;
            struct rlimit rl = {parse_limit(v), parse_limit(v)}, cur;
            /* systemd as PID 1 may raise a hard limit; a container's root may not: keep its ceiling */
            if (setrlimit(res[i], &rl) != 0 && getrlimit(res[i], &cur) == 0 && cur.rlim_max < rl.rlim_max) {
                fprintf(stderr, "test: %s=%s above this host's hard limit %llu; using that\n", lim[i], v,
                        (unsigned long long)cur.rlim_max);
                rl.rlim_cur = rl.rlim_max = cur.rlim_max;
                if (setrlimit(res[i], &rl) != 0) _exit(125);
            }
        }
        if (umask_s) umask((mode_t)strtol(umask_s, NULL, 8));
        if (chdir("/") != 0) _exit(124);
        execvpe(args[0], args, envp);
        _exit(127);
    }

    int ready = wait_for(nfd, "READY=1", 60000, seen, sizeof seen), wst = 0;
    if (!ready) {
        kill(pid, SIGKILL);
        waitpid(pid, &wst, 0);
    }
    ck_assert_msg(ready, "no READY=1 (wait status %#x); saw: %s; log: %s", wst, seen, ts_slurp(logpath, NULL));
    ck_assert_int_eq(proc_uid(pid), uid);
    /* not dumpable: the kernel gives its /proc entries to root, so its own user cannot read its memory */
    snprintf(p, sizeof p, "/proc/%ld/mem", (long)pid);
    struct stat mem;
    ck_assert_int_eq(stat(p, &mem), 0);
    ck_assert_msg(mem.st_uid == 0, "/proc/PID/mem belongs to uid %u: the daemon is dumpable", (unsigned)mem.st_uid);
    char url[128];
    long status = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    for (int i = 0; i < 600 && status != 200; i++) {
        struct ts_resp r;
        if (ts_http("GET", url, NULL, NULL, 0, NULL, &r) == 0) status = r.status;
        ts_resp_free(&r);
        if (status != 200) usleep(100000);
    }
    ck_assert_msg(status == 200, "/readyz answered %ld; log: %s", status, ts_slurp(logpath, NULL));

    /* the spool went to StateDirectory=, owned by the service user */
    snprintf(p, sizeof p, "%s/spool", statedir);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_uid, uid);
    ck_assert_int_eq(st.st_mode & 077, 0);

    /* ExecReload= is SIGHUP: RELOADING=1 then READY=1 again */
    kill(pid, SIGHUP);
    ck_assert_msg(wait_for(nfd, "RELOADING=1", 30000, seen, sizeof seen), "no RELOADING=1; saw: %s", seen);
    ck_assert_msg(wait_for(nfd, "READY=1", 30000, seen, sizeof seen), "no READY=1 after reload; saw: %s", seen);
    /* half of WatchdogSec= between pings */
    ck_assert_msg(wait_for(nfd, "WATCHDOG=1", (int)(wd_s * 1000), seen, sizeof seen), "no WATCHDOG=1; saw: %s", seen);

    kill(pid, SIGTERM);
    ck_assert_msg(wait_for(nfd, "STOPPING=1", 30000, seen, sizeof seen), "no STOPPING=1; saw: %s", seen);
    ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
    ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "exit status %d; log: %s", wst, ts_slurp(logpath, NULL));
    close(nfd);
    for (int i = 0; i < ne; i++) free(envp[i]);
    for (int i = 0; i < na; i++) free(owned[i]);
    free(u.text);
    remove_root(d.root);
}
END_TEST

/* ---- the watchdog follows the analysis workers ----------------------------------------------------- */

/* Thread ids of the daemon's analysis workers (thread names "analysis-N"). */
static int analysis_tids(pid_t pid, pid_t *tids, int max)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.') continue;
        char path[400], comm[32] = "";
        snprintf(path, sizeof path, "%s/%s/comm", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "analysis-", 9) == 0) tids[n++] = (pid_t)atol(e->d_name);
        fclose(f);
    }
    closedir(d);
    return n;
}

/* Every analysis worker held still (ptrace stops single threads; the rest of the daemon runs on) while
 * a camera keeps frames waiting: the pings stop once the stall is noticed, and resume with the workers. */
START_TEST(watchdog_withheld_while_analysis_stalls)
{
    char conninfo[600], sock[128], seen[8192] = "", url[200], body[600], u[200];
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    struct ts_rtsp rtsp;
    char *clip = ts_data_path("video/shift-change.mp4");
    ck_assert_int_eq(ts_rtsp_start(&rtsp, clip, 0, 0), 0);
    free(clip);
    ts_rtsp_url(&rtsp, 0, url, sizeof url);
    snprintf(sock, sizeof sock, "/tmp/attendd-wd-%ld.sock", (long)getpid());
    unlink(sock);
    int nfd = notify_socket(sock);
    setenv("NOTIFY_SOCKET", sock, 1);
    setenv("WATCHDOG_USEC", "2000000", 1); /* a ping every second */
    struct ts_daemon d = {0};
    int started = ts_daemon_start(&d, conninfo, "analysis_workers = 1\n");
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    ck_assert_int_eq(started, 0);
    snprintf(u, sizeof u, "%s/api/v1/cameras", d.url);
    snprintf(body, sizeof body, "{\"name\":\"stall\",\"url\":\"%s\",\"analysis_fps\":6}", url);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("POST", u, d.admin_token, body, strlen(body), "application/json", &r), 0);
    ck_assert_msg(r.status == 201, "camera: %ld %s", r.status, r.body);
    ts_resp_free(&r);
    /* the worker is analysing this camera's frames */
    int analysed = 0;
    for (int i = 0; i < 600 && !analysed; i++) {
        ck_assert_int_eq(ts_http("GET", u, d.admin_token, NULL, 0, NULL, &r), 0);
        char *at = strstr(r.body, "\"frames_analysed\":");
        analysed = at && atol(at + 18) > 0;
        ts_resp_free(&r);
        if (!analysed) usleep(100000);
    }
    ck_assert_msg(analysed, "no frame analysed");
    ck_assert_msg(wait_for(nfd, "WATCHDOG=1", 5000, seen, sizeof seen), "no ping before the stall: %s", seen);

    pid_t tids[8];
    int nt = analysis_tids(d.pid, tids, 8);
    ck_assert_int_eq(nt, 1);
    for (int i = 0; i < nt; i++) {
        ck_assert_msg(ptrace(PTRACE_SEIZE, tids[i], NULL, NULL) == 0, "PTRACE_SEIZE: %s", strerror(errno));
        ck_assert_int_eq(ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL), 0);
        int st;
        ck_assert_int_eq(waitpid(tids[i], &st, __WALL), tids[i]);
        ck_assert(WIFSTOPPED(st));
    }
    /* noticed after ANALYSIS_STALL_S (30 s) without a frame taken; then no ping for several periods */
    /* keep reading the socket: an unread datagram socket fills up (10 messages) and blocks the sender */
    for (int i = 0; i < 600 && !ts_file_has(d.log, "analysis stalled"); i++) {
        seen[0] = '\0';
        (void)wait_for(nfd, "never", 100, seen, sizeof seen);
    }
    ck_assert_msg(ts_file_has(d.log, "analysis stalled"), "stall not noticed");
    seen[0] = '\0';
    (void)wait_for(nfd, "never", 1500, seen, sizeof seen); /* drop what was sent before the stall */
    seen[0] = '\0';
    ck_assert_msg(!wait_for(nfd, "WATCHDOG=1", 4000, seen, sizeof seen), "pinged during the stall: %s", seen);

    for (int i = 0; i < nt; i++) ck_assert_int_eq(ptrace(PTRACE_DETACH, tids[i], NULL, NULL), 0);
    ck_assert_msg(wait_for(nfd, "WATCHDOG=1", 10000, seen, sizeof seen), "pings did not resume: %s", seen);
    ck_assert(ts_file_has(d.log, "watchdog pings resume"));
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    close(nfd);
    unlink(sock);
    ts_rtsp_stop(&rtsp);
}
END_TEST

Suite *systemd_suite(void)
{
    Suite *s = suite_create("systemd");
    ts_tcase(s, "unit", 240, NULL, NULL, installed_unit_verifies, security_exposure_at_most_2, unit_forbids_core_files,
             credential_acl_form_loads, tls_key_credential_acl_form_loads, starts_as_the_unit_does, NULL);
    ts_tcase(s, "watchdog", 240, NULL, NULL, watchdog_withheld_while_analysis_stalls, NULL);
    return s;
}
