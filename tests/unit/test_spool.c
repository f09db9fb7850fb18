/* Durable spool (src/journal/spool.c): order, acknowledgement, crash recovery (torn tail, corrupt
 * middle), rotation, disk full (fault hook and a real 64 KiB tmpfs), exactly-once replay. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attendd/path.h"
#include "attendd/spool.h"
#include "support.h"

static char tmpdir[256]; /* per test: the spool lives in tmpdir/spool */
static char spooldir[300];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attendd-spool-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(spooldir, sizeof spooldir, "%s/spool", tmpdir);
}

static void teardown(void)
{
    umount2(tmpdir, MNT_DETACH); /* only the tmpfs test mounts; harmless otherwise */
    ts_rm_rf(tmpdir);
}

static void mk_event(struct att_event *ev, unsigned n)
{
    memset(ev, 0, sizeof *ev);
    ev->id.b[0] = 0xe7;
    memcpy(ev->id.b + 12, &n, sizeof n);
    ev->person.b[0] = 0x91;
    ev->person.b[15] = (uint8_t)(n % 7);
    ev->camera.b[0] = 0xca;
    ev->kind = (n % 2) ? EVENT_KIND_OUT : EVENT_KIND_IN;
    ev->ts_us = 1709510400000000LL + (int64_t)n * 1000;
    ev->similarity = 0.5f + (float)(n % 40) / 100.0f;
    ev->liveness = 0.9731f;
    snprintf(ev->source, sizeof ev->source, "camera");
}

static unsigned ev_num(const struct att_event *ev)
{
    unsigned n;
    memcpy(&n, ev->id.b + 12, sizeof n);
    return n;
}

static spool *open_ok(const struct spool_opts *o)
{
    spool *s = NULL;
    char err[256] = "";
    ck_assert_msg(spool_open(spooldir, o, &s, err, sizeof err) == ATT_OK, "open: %s", err);
    return s;
}

static struct spool_pos append_ok(spool *s, unsigned n)
{
    struct att_event ev;
    struct spool_pos pos;
    char err[256] = "";
    mk_event(&ev, n);
    ck_assert_msg(spool_append(s, &ev, &pos, err, sizeof err) == ATT_OK, "append %u: %s", n, err);
    return pos;
}

/* Numbers of all pending events, in order; returns the count. */
static size_t pending_nums(spool *s, unsigned *nums, size_t max)
{
    struct spool_record *recs = calloc(max, sizeof *recs);
    size_t n = 0;
    ck_assert_int_eq(spool_pending(s, recs, max, &n, NULL, 0), ATT_OK);
    for (size_t i = 0; i < n; i++) nums[i] = ev_num(&recs[i].ev);
    free(recs);
    return n;
}

static int count_segments(void)
{
    DIR *d = opendir(spooldir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".seg")) n++;
    closedir(d);
    return n;
}

/* Path of the highest-numbered segment that is not empty. */
static void last_nonempty_segment(char *out, size_t len)
{
    DIR *d = opendir(spooldir);
    ck_assert_ptr_nonnull(d);
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".seg")) continue;
        char p[600];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", spooldir, de->d_name);
        if (stat(p, &st) == 0 && st.st_size > 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    }
    closedir(d);
    ck_assert(best[0]);
    snprintf(out, len, "%s/%s", spooldir, best);
}

static off_t file_size(const char *p)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return st.st_size;
}

START_TEST(append_pending_ack_in_order)
{
    spool *s = open_ok(NULL);
    struct spool_pos pos[5];
    for (unsigned i = 0; i < 5; i++) pos[i] = append_ok(s, i);
    ck_assert_uint_eq(spool_depth(s), 5);

    struct spool_record recs[8];
    size_t n = 0;
    ck_assert_int_eq(spool_pending(s, recs, 8, &n, NULL, 0), ATT_OK);
    ck_assert_uint_eq(n, 5);
    for (unsigned i = 0; i < 5; i++) {
        struct att_event want;
        mk_event(&want, i);
        ck_assert_mem_eq(recs[i].ev.id.b, want.id.b, 16);
        ck_assert_mem_eq(recs[i].ev.person.b, want.person.b, 16);
        ck_assert_mem_eq(recs[i].ev.camera.b, want.camera.b, 16);
        ck_assert_int_eq(recs[i].ev.kind, want.kind);
        ck_assert_int_eq(recs[i].ev.ts_us, want.ts_us);
        ck_assert(recs[i].ev.similarity == want.similarity); /* exact float round trip */
        ck_assert(recs[i].ev.liveness == want.liveness);
        ck_assert_str_eq(recs[i].ev.source, "camera");
        ck_assert_uint_eq(recs[i].pos.off, pos[i].off);
    }
    /* pending does not consume; a smaller batch gives the oldest */
    ck_assert_int_eq(spool_pending(s, recs, 2, &n, NULL, 0), ATT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ev_num(&recs[0].ev), 0);

    ck_assert_int_eq(spool_ack(s, pos[1], NULL, 0), ATT_OK); /* cumulative: 0 and 1 */
    ck_assert_uint_eq(spool_depth(s), 3);
    unsigned nums[8];
    ck_assert_uint_eq(pending_nums(s, nums, 8), 3);
    ck_assert_uint_eq(nums[0], 2);
    ck_assert_int_eq(spool_ack(s, pos[0], NULL, 0), ATT_OK); /* already acknowledged: no-op */
    ck_assert_uint_eq(spool_depth(s), 3);
    struct spool_pos bogus = {pos[2].seg, pos[2].off + 1};
    char err[128] = "";
    ck_assert_int_eq(spool_ack(s, bogus, err, sizeof err), ATT_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err, "no pending record"));
    ck_assert_int_eq(spool_ack(s, pos[4], NULL, 0), ATT_OK);
    ck_assert_uint_eq(spool_depth(s), 0);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.appended, 5);
    ck_assert_uint_eq(st.acked, 5);
    spool_close(s);
}
END_TEST

START_TEST(payload_codec)
{
    struct att_event ev, back;
    mk_event(&ev, 77);
    char buf[SPOOL_PAYLOAD_MAX];
    size_t len;
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_OK);
    ck_assert_ptr_nonnull(strstr(buf, "\"v\":1,"));
    ck_assert_ptr_nonnull(strstr(buf, "\"kind\":\"out\""));
    ck_assert_int_eq(spool_event_decode(buf, len, &back), ATT_OK);
    ck_assert_mem_eq(&back.id, &ev.id, 16);
    ck_assert_int_eq(back.ts_us, ev.ts_us);

    const char *bad[] = {
        "",
        "{}",
        "[1]",
        "{\"v\":2}",
        "{\"v\":1,\"id\":\"zz\",\"person\":\"x\",\"camera\":\"y\",\"kind\":\"in\",\"ts\":1,\"sim\":1,\"live\":1,"
        "\"source\":\"camera\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(spool_event_decode(bad[i], strlen(bad[i]), &back), ATT_E_INVALID);
    /* an unknown extra key is not version 1 */
    char extra[SPOOL_PAYLOAD_MAX + 32];
    snprintf(extra, sizeof extra, "%.*s,\"x\":1}", (int)len - 1, buf);
    ck_assert_int_eq(spool_event_decode(extra, strlen(extra), &back), ATT_E_INVALID);

    ev.kind = EVENT_KIND_NONE;
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_E_INVALID);
    mk_event(&ev, 1);
    snprintf(ev.source, sizeof ev.source, "Bad Source");
    ck_assert_int_eq(spool_event_encode(&ev, buf, sizeof buf, &len), ATT_E_INVALID);
    spool *s = open_ok(NULL);
    ck_assert_int_eq(spool_append(s, &ev, NULL, NULL, 0), ATT_E_INVALID);
    ck_assert_uint_eq(spool_depth(s), 0);
    spool_close(s);

    /* CRC32C check value ("123456789" -> 0xE3069283) */
    ck_assert_uint_eq(spool_crc32c(0, "123456789", 9), 0xE3069283u);
}
END_TEST

/* Build one valid record for event n into rec; returns its length. */
static size_t craft_record(unsigned n, uint8_t *rec)
{
    struct att_event ev;
    mk_event(&ev, n);
    size_t plen;
    ck_assert_int_eq(spool_event_encode(&ev, (char *)rec + 12, SPOOL_PAYLOAD_MAX, &plen), ATT_OK);
    const uint8_t magic[4] = {0xF3, 0xA7, 0x5D, 0x01};
    memcpy(rec, magic, 4);
    for (int i = 0; i < 4; i++) rec[4 + i] = (uint8_t)(plen >> (8 * i));
    uint32_t crc = spool_crc32c(spool_crc32c(0, rec + 4, 4), rec + 12, plen);
    for (int i = 0; i < 4; i++) rec[8 + i] = (uint8_t)(crc >> (8 * i));
    return 12 + plen;
}

START_TEST(torn_tail_after_sigkill)
{
    /* a child appends 3 events and is SIGKILLed without closing anything */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        spool *s = NULL;
        if (spool_open(spooldir, NULL, &s, NULL, 0) != ATT_OK) _exit(2);
        for (unsigned i = 0; i < 3; i++) {
            struct att_event ev;
            mk_event(&ev, i);
            if (spool_append(s, &ev, NULL, NULL, 0) != ATT_OK) _exit(3);
        }
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    /* ...and it died in the middle of a 4th append: half a record at the tail */
    char seg[400];
    last_nonempty_segment(seg, sizeof seg);
    off_t whole = file_size(seg);
    uint8_t rec[12 + SPOOL_PAYLOAD_MAX];
    size_t rlen = craft_record(3, rec);
    int fd = open(seg, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, rec, rlen / 2), (ssize_t)(rlen / 2));
    close(fd);

    spool *s = open_ok(NULL);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.depth, 3);
    ck_assert_uint_eq(st.torn_truncated, 1);
    ck_assert_uint_eq(st.corrupt_skipped, 0);
    ck_assert_int_eq(file_size(seg), whole); /* cut back to the last whole record */
    append_ok(s, 4);
    unsigned nums[8];
    ck_assert_uint_eq(pending_nums(s, nums, 8), 4);
    ck_assert_uint_eq(nums[0], 0);
    ck_assert_uint_eq(nums[2], 2);
    ck_assert_uint_eq(nums[3], 4);
    spool_close(s);

    /* a clean reopen finds nothing to repair */
    s = open_ok(NULL);
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.depth, 4);
    ck_assert_uint_eq(st.torn_truncated + st.corrupt_skipped, 0);
    spool_close(s);
}
END_TEST

START_TEST(corrupt_middle_skipped_neighbours_kept)
{
    spool *s = open_ok(NULL);
    struct spool_pos pos[6];
    for (unsigned i = 0; i < 6; i++) pos[i] = append_ok(s, i);
    spool_close(s);

    char seg[400];
    last_nonempty_segment(seg, sizeof seg);
    int fd = open(seg, O_RDWR);
    ck_assert_int_ge(fd, 0);
    /* record 1: a flipped payload byte (bad CRC) */
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, (off_t)pos[1].off + 40), 1);
    b ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)pos[1].off + 40), 1);
    /* record 3: a huge length field, so the reader must resync on the next magic */
    uint8_t big[4] = {0xff, 0xff, 0x00, 0x00};
    ck_assert_int_eq(pwrite(fd, big, 4, (off_t)pos[3].off + 4), 4);
    close(fd);

    s = open_ok(NULL);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.corrupt_skipped, 2);
    ck_assert_uint_eq(st.torn_truncated, 0);
    unsigned nums[8];
    ck_assert_uint_eq(pending_nums(s, nums, 8), 4);
    ck_assert_uint_eq(nums[0], 0);
    ck_assert_uint_eq(nums[1], 2);
    ck_assert_uint_eq(nums[2], 4);
    ck_assert_uint_eq(nums[3], 5);
    spool_close(s);
}
END_TEST

START_TEST(rotation_and_deletion)
{
    struct spool_opts o = {.segment_bytes = 4096};
    spool *s = open_ok(&o);
    struct spool_pos pos[60];
    for (unsigned i = 0; i < 60; i++) pos[i] = append_ok(s, i);
    int segs = count_segments();
    ck_assert_int_ge(segs, 4); /* ~260-byte records, 4 KiB segments */
    for (unsigned i = 1; i < 60; i++) ck_assert(pos[i].seg > pos[i - 1].seg || pos[i].off > pos[i - 1].off);
    ck_assert_uint_eq(pos[59].seg - pos[0].seg + 1, (unsigned)segs);

    /* acknowledging into the 3rd segment deletes the first two */
    unsigned k = 0;
    while (pos[k].seg < pos[0].seg + 2) k++;
    ck_assert_int_eq(spool_ack(s, pos[k], NULL, 0), ATT_OK);
    ck_assert_int_eq(count_segments(), segs - 2);
    ck_assert_uint_eq(spool_depth(s), 60 - k - 1);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.segments, (size_t)segs - 2);

    ck_assert_int_eq(spool_ack(s, pos[59], NULL, 0), ATT_OK);
    ck_assert_int_eq(count_segments(), 1); /* only the active segment */
    spool_close(s);

    /* reopen: a fresh active segment; the old one goes with the next acknowledgement */
    s = open_ok(&o);
    ck_assert_uint_eq(spool_depth(s), 0);
    ck_assert_int_eq(count_segments(), 2);
    struct spool_pos p = append_ok(s, 100);
    ck_assert_int_eq(spool_ack(s, p, NULL, 0), ATT_OK);
    ck_assert_int_eq(count_segments(), 1);
    spool_close(s);
}
END_TEST

/* Fault hooks: while armed, a write stores half the bytes then fails with ENOSPC, or fdatasync
 * fails with EIO. */
static int arm_enospc, arm_eio;

static ssize_t faulty_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (arm_enospc) {
        ssize_t w = pwrite(fd, buf, n / 2, off);
        if (w < 0) return w;
        if (w < (ssize_t)(n / 2) || n / 2 == 0) return w;
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, buf, n, off);
}

static int faulty_fdatasync(int fd)
{
    if (arm_eio) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

START_TEST(disk_full_via_hook)
{
    struct spool_opts o = {.pwrite_fn = faulty_pwrite, .fdatasync_fn = faulty_fdatasync};
    spool *s = open_ok(&o);
    append_ok(s, 0);
    append_ok(s, 1);
    char seg[400];
    last_nonempty_segment(seg, sizeof seg);
    off_t before = file_size(seg);

    struct att_event ev;
    mk_event(&ev, 2);
    char err[256] = "";
    arm_enospc = 1;
    ck_assert_int_eq(spool_append(s, &ev, NULL, err, sizeof err), ATT_E_IO);
    arm_enospc = 0;
    ck_assert_msg(strstr(err, "No space left on device") != NULL, "%s", err);
    ck_assert_int_eq(file_size(seg), before); /* the half record was cut away */
    ck_assert_uint_eq(spool_depth(s), 2);

    arm_eio = 1;
    ck_assert_int_eq(spool_append(s, &ev, NULL, err, sizeof err), ATT_E_IO);
    arm_eio = 0;
    ck_assert_msg(strstr(err, "Input/output error") != NULL, "%s", err);
    ck_assert_int_eq(file_size(seg), before);

    /* an acknowledgement that cannot be made durable changes nothing */
    struct spool_record recs[4];
    size_t n;
    ck_assert_int_eq(spool_pending(s, recs, 4, &n, NULL, 0), ATT_OK);
    arm_eio = 1;
    ck_assert_int_eq(spool_ack(s, recs[0].pos, err, sizeof err), ATT_E_IO);
    arm_eio = 0;
    ck_assert_uint_eq(spool_depth(s), 2); /* still pending for this process */

    append_ok(s, 3);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.append_errors, 2);
    spool_close(s);

    s = open_ok(NULL);
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.torn_truncated + st.corrupt_skipped, 0);
    /* The failed ack's write reached the page cache before its fdatasync failed, so after a
     * reopen it may have taken effect: safe, since only records already in the DB are acked. */
    unsigned nums[8];
    size_t n2 = pending_nums(s, nums, 8);
    ck_assert(n2 == 2 || n2 == 3);
    ck_assert_uint_eq(nums[n2 - 2], 1);
    ck_assert_uint_eq(nums[n2 - 1], 3);
    spool_close(s);
}
END_TEST

START_TEST(disk_full_on_small_tmpfs)
{
    /* A real full file system, when this process may mount one (root in the build container).
     * The mount lives in a private mount namespace, so it vanishes with the test process even
     * if an assertion ends the test before its unmount. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", tmpdir, "tmpfs", 0, "size=64k,mode=0700") != 0) {
        fprintf(stderr, "spool: tmpfs mount not permitted (%s); the hook test covers ENOSPC\n", strerror(errno));
        return;
    }
    struct spool_opts o = {.segment_bytes = 16384};
    spool *s = open_ok(&o);
    char err[256] = "";
    unsigned ok = 0;
    att_err rc = ATT_OK;
    struct spool_pos last = {0, 0};
    for (unsigned i = 0; i < 2000 && rc == ATT_OK; i++) {
        struct att_event ev;
        mk_event(&ev, i);
        rc = spool_append(s, &ev, &last, err, sizeof err);
        if (rc == ATT_OK) ok++;
    }
    ck_assert_int_eq(rc, ATT_E_IO);
    ck_assert_msg(strstr(err, "No space left on device") != NULL, "%s", err);
    ck_assert_uint_gt(ok, 100);
    ck_assert_uint_eq(spool_depth(s), ok);
    /* still full: a second try fails the same clean way */
    struct att_event ev;
    mk_event(&ev, 9999);
    ck_assert_int_eq(spool_append(s, &ev, NULL, err, sizeof err), ATT_E_IO);
    spool_close(s);

    s = open_ok(&o);
    struct spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.depth, ok);
    ck_assert_uint_eq(st.torn_truncated + st.corrupt_skipped, 0);
    /* acknowledging on a full disk works and frees space for new events */
    struct spool_record *recs = calloc(ok, sizeof *recs);
    size_t n;
    ck_assert_int_eq(spool_pending(s, recs, ok, &n, NULL, 0), ATT_OK);
    ck_assert_uint_eq(n, ok);
    ck_assert_uint_eq(ev_num(&recs[n - 1].ev), ok - 1);
    ck_assert_msg(spool_ack(s, recs[n - 1].pos, err, sizeof err) == ATT_OK, "ack: %s", err);
    free(recs);
    append_ok(s, 5000);
    ck_assert_uint_eq(spool_depth(s), 1);
    spool_close(s);
    ck_assert_int_eq(umount(tmpdir), 0);
}
END_TEST

START_TEST(exactly_once_on_replay)
{
    spool *s = open_ok(NULL);
    struct spool_pos p = {0, 0};
    for (unsigned i = 0; i < 3; i++) p = append_ok(s, i);
    ck_assert_int_eq(spool_ack(s, p, NULL, 0), ATT_OK);
    spool_close(s);

    s = open_ok(NULL);
    ck_assert_uint_eq(spool_depth(s), 0);
    struct spool_record recs[4];
    size_t n = 99;
    ck_assert_int_eq(spool_pending(s, recs, 4, &n, NULL, 0), ATT_OK);
    ck_assert_uint_eq(n, 0);
    append_ok(s, 10);
    spool_close(s);

    /* crash after the DB write but before the ack: replayed (the DB ignores the duplicate) */
    s = open_ok(NULL);
    unsigned nums[4];
    ck_assert_uint_eq(pending_nums(s, nums, 4), 1);
    ck_assert_uint_eq(nums[0], 10);
    spool_close(s);
}
END_TEST

START_TEST(corrupt_ack_file_replays_everything)
{
    spool *s = open_ok(NULL);
    struct spool_pos p = {0, 0};
    for (unsigned i = 0; i < 3; i++) p = append_ok(s, i);
    ck_assert_int_eq(spool_ack(s, p, NULL, 0), ATT_OK);
    ck_assert_int_eq(spool_ack(s, p, NULL, 0), ATT_OK);
    append_ok(s, 3);
    spool_close(s);

    /* wreck both slots: the safe direction is to replay (duplicates are absorbed by the DB) */
    char path[400];
    snprintf(path, sizeof path, "%s/ack", spooldir);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "garbage", 7, 0), 7);
    ck_assert_int_eq(pwrite(fd, "garbage", 7, 128), 7);
    close(fd);
    s = open_ok(NULL);
    ck_assert_uint_eq(spool_depth(s), 4);
    spool_close(s);
}
END_TEST

START_TEST(second_process_refused)
{
    spool *a = open_ok(NULL), *b = NULL;
    char err[256] = "";
    ck_assert_int_eq(spool_open(spooldir, NULL, &b, err, sizeof err), ATT_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    spool_close(a);
    struct spool_opts bad = {.segment_bytes = 100};
    ck_assert_int_eq(spool_open(spooldir, &bad, &b, err, sizeof err), ATT_E_INVALID);
}
END_TEST

static void *appender(void *arg)
{
    spool *s = arg;
    static _Atomic unsigned next = 0;
    for (int i = 0; i < 50; i++) {
        struct att_event ev;
        mk_event(&ev, next++);
        if (spool_append(s, &ev, NULL, NULL, 0) != ATT_OK) return (void *)1;
        (void)spool_depth(s);
    }
    return NULL;
}

START_TEST(concurrent_appends)
{
    struct spool_opts o = {.segment_bytes = 8192};
    spool *s = open_ok(&o);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, appender, s), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        ck_assert_ptr_null(r);
    }
    ck_assert_uint_eq(spool_depth(s), 200);
    unsigned nums[200];
    ck_assert_uint_eq(pending_nums(s, nums, 200), 200);
    char seen[200] = {0};
    for (int i = 0; i < 200; i++) {
        ck_assert_uint_lt(nums[i], 200);
        ck_assert(!seen[nums[i]]);
        seen[nums[i]] = 1;
    }
    spool_close(s);
}
END_TEST

/* The spool fsyncs the directory that holds a new spool directory. */
START_TEST(parent_directory_of_a_path)
{
    char out[64];
    att_path_parent("/var/spool/attendd", out, sizeof out);
    ck_assert_str_eq(out, "/var/spool");
    att_path_parent("/attendd", out, sizeof out);
    ck_assert_str_eq(out, "/");
    att_path_parent("attendd", out, sizeof out);
    ck_assert_str_eq(out, ".");
    att_path_parent("spool/attendd", out, sizeof out);
    ck_assert_str_eq(out, "spool");
}
END_TEST

Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = ts_tcase(s, "core", 30, NULL, NULL, append_pending_ack_in_order, payload_codec, torn_tail_after_sigkill,
                         corrupt_middle_skipped_neighbours_kept, rotation_and_deletion, disk_full_via_hook,
                         disk_full_on_small_tmpfs, exactly_once_on_replay, corrupt_ack_file_replays_everything,
                         second_process_refused, concurrent_appends, parent_directory_of_a_path, NULL);
    tcase_add_checked_fixture(tc, setup, teardown);
    return s;
}
