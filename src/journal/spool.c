/* The spool log (include/attendd/spool.h; format and recovery in docs/pipeline.md): append-only
 * segment files of framed records (src/journal/record.c), a two-slot acknowledgement cursor file,
 * and the recovery scan at open. */
#include "attendd/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/log.h"
#include "attendd/path.h"
#include "src/journal/record.h"

#define MOD "spool"
#define ACK_FILE "ack"
#define LOCK_FILE "lock"
#define SEG_MAX_FILE_BYTES (1u << 30) /* refuse to load a "segment" larger than this */

/* One pending (unacknowledged) record; the payload stays on disk. */
struct idx_ent {
    uint64_t seg;
    uint32_t off;
    uint32_t len; /* whole record, header included */
};

struct spool {
    pthread_mutex_t lock; /* guards everything below */
    char *dir;            /* spool directory */
    int dir_fd;           /* for fsync after create/rename/unlink */
    int lock_fd;          /* flock'ed: one process per spool */
    size_t segment_bytes; /* rotation threshold */
    ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
    int (*fdatasync_fn)(int);
    uint64_t active_seq; /* segment receiving appends */
    int active_fd;
    uint64_t active_size;              /* bytes of whole records in the active segment */
    bool tail_dirty;                   /* a failed append could not be truncated away yet */
    uint64_t oldest_seq;               /* lowest segment that may still exist on disk */
    struct spool_pos cursor;           /* durable ack cursor: first unacknowledged byte */
    int ack_fd;                        /* the ack file, two slots */
    uint64_t ack_gen;                  /* generation of the newest slot written */
    struct idx_ent *idx;               /* pending records, in order, from idx_head */
    size_t idx_head, idx_len, idx_cap; /* live entries are idx[idx_head .. idx_len) */
    size_t segments;                   /* segment files on disk */
    struct spool_stats stats;
};

/* ---- errors --------------------------------------------------------------------------------- */

static att_err fail(char *err, size_t errlen, att_err code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Logs the failure once here (callers need not) and copies it for the caller. */
static att_err fail(char *err, size_t errlen, att_err code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    att_vfail(code, msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_error(MOD, "%s", strncmp(msg, "spool: ", 7) == 0 ? msg + 7 : msg); /* MOD says it */
    return att_fail(code, err, errlen, "%s", msg);
}

/* ---- small file helpers ------------------------------------------------------------------------ */

static void seg_path(const spool *s, uint64_t seq, char *out, size_t len)
{
    snprintf(out, len, "%s/%016" PRIx64 ".seg", s->dir, seq);
}

static void file_path(const spool *s, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", s->dir, name);
}

static bool parse_seg_name(const char *name, uint64_t *seq)
{
    if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0) return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        if (c >= '0' && c <= '9') v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v << 4 | (uint64_t)(c - 'a' + 10);
        else return false;
    }
    *seq = v;
    return true;
}

static int pos_cmp(uint64_t aseg, uint64_t aoff, uint64_t bseg, uint64_t boff)
{
    if (aseg != bseg) return aseg < bseg ? -1 : 1;
    if (aoff != boff) return aoff < boff ? -1 : 1;
    return 0;
}

/* ---- pending index -------------------------------------------------------------------------- */

static att_err idx_push(spool *s, uint64_t seg, uint32_t off, uint32_t len)
{
    if (s->idx_len == s->idx_cap) {
        if (s->idx_head > 0) { /* reuse the acknowledged prefix before growing */
            memmove(s->idx, s->idx + s->idx_head, (s->idx_len - s->idx_head) * sizeof *s->idx);
            s->idx_len -= s->idx_head;
            s->idx_head = 0;
        }
        if (s->idx_len == s->idx_cap) {
            size_t ncap = s->idx_cap ? s->idx_cap * 2 : 256;
            struct idx_ent *n = realloc(s->idx, ncap * sizeof *n);
            if (!n) return ATT_E_NOMEM;
            s->idx = n;
            s->idx_cap = ncap;
        }
    }
    s->idx[s->idx_len++] = (struct idx_ent){seg, off, len};
    return ATT_OK;
}

static size_t idx_count(const spool *s) { return s->idx_len - s->idx_head; }

static void idx_remove(spool *s, size_t at)
{
    memmove(s->idx + at, s->idx + at + 1, (s->idx_len - at - 1) * sizeof *s->idx);
    s->idx_len--;
}

/* ---- recovery scan ---------------------------------------------------------------------------- */

static att_err read_whole(int fd, uint8_t **out, size_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return ATT_E_IO;
    if ((uint64_t)st.st_size > SEG_MAX_FILE_BYTES) {
        errno = EFBIG;
        return ATT_E_IO;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return ATT_E_NOMEM;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(b);
            if (r == 0) errno = EIO;
            return ATT_E_IO;
        }
        got += (size_t)r;
    }
    *out = b;
    *size = n;
    return ATT_OK;
}

/* Index the pending records of one segment; is_last: a bad tail is a torn write to cut off. */
static att_err scan_segment(spool *s, uint64_t seq, bool is_last, char *err, size_t errlen)
{
    char path[4200];
    seg_path(s, seq, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, ATT_E_IO, "spool: open %s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t size = 0;
    att_err rc = read_whole(fd, &buf, &size);
    if (rc != ATT_OK) {
        close(fd);
        return fail(err, errlen, rc, "spool: read %s: %s", path, strerror(errno));
    }

    size_t pos = 0;
    while (pos < size) {
        struct att_event ev;
        size_t len;
        att_err de = spool_record_decode(buf + pos, size - pos, &len, &ev);
        if (len) {
            if (de != ATT_OK) {
                /* checksum fine but not a payload we understand: written by a newer version? */
                log_error(MOD,
                          "%s offset %zu: record with a valid checksum but an unreadable "
                          "payload skipped (event lost from the spool)",
                          path, pos);
                s->stats.corrupt_skipped++;
            } else if (pos_cmp(seq, pos, s->cursor.seg, s->cursor.off) >= 0) {
                rc = idx_push(s, seq, (uint32_t)pos, (uint32_t)len);
                if (rc != ATT_OK) break;
            }
            pos += len;
            continue;
        }
        size_t next = record_next_valid(buf, size, pos + 1);
        if (next < size) {
            log_error(MOD,
                      "%s: CORRUPT bytes %zu..%zu (%zu bytes) skipped; the records around "
                      "them are kept; any event inside them is lost",
                      path, pos, next, next - pos);
            s->stats.corrupt_skipped++;
            pos = next;
            continue;
        }
        if (is_last) {
            /* The normal result of a crash during an append: that record was never durable
             * (spool_append had not returned), so cutting it restores a clean tail. */
            log_warn(MOD, "%s: torn tail of %zu bytes at offset %zu truncated", path, size - pos, pos);
            if (ftruncate(fd, (off_t)pos) != 0 || fsync(fd) != 0) {
                rc = fail(err, errlen, ATT_E_IO, "spool: truncate %s: %s", path, strerror(errno));
                break;
            }
            s->stats.torn_truncated++;
        } else {
            log_error(MOD, "%s: CORRUPT tail of %zu bytes at offset %zu ignored", path, size - pos, pos);
            s->stats.corrupt_skipped++;
        }
        break;
    }
    free(buf);
    close(fd);
    return rc;
}

/* ---- ack cursor file ------------------------------------------------------------------------- */

/* The ack file holds two fixed 128-byte text slots, written alternately (generation % 2) in
 * place and fdatasync'ed. Overwriting allocates no block, so acknowledging (which is what frees
 * space) still works on a full disk, where a write-temp-and-rename would fail; a torn write can
 * only damage the slot being written, and the other slot still holds the previous cursor. */
#define ACK_SLOT 128
#define ACK_FMT_BODY "attendd-spool-ack 1 %016" PRIx64 " %016" PRIx64 " %016" PRIx64

static bool parse_slot(const char *slot, uint64_t *gen, struct spool_pos *c)
{
    char line[ACK_SLOT + 1], body[ACK_SLOT];
    memcpy(line, slot, ACK_SLOT);
    line[ACK_SLOT] = '\0';
    uint64_t g, seg, off;
    unsigned crc;
    int used = 0;
    if (sscanf(line, "attendd-spool-ack 1 %16" SCNx64 " %16" SCNx64 " %16" SCNx64 " %8x%n", &g, &seg, &off, &crc,
               &used) != 4 ||
        line[used] != '\n')
        return false;
    int n = snprintf(body, sizeof body, ACK_FMT_BODY, g, seg, off);
    /* the canonical form must match byte for byte, and the checksum must agree */
    if (n <= 0 || strncmp(body, line, (size_t)n) != 0 || spool_crc32c(0, body, (size_t)n) != crc) return false;
    *gen = g;
    *c = (struct spool_pos){seg, off};
    return true;
}

/* Open (creating it if needed) the ack file and load the newest valid slot. */
static att_err open_cursor(spool *s, char *err, size_t errlen)
{
    char path[4200];
    file_path(s, ACK_FILE, path, sizeof path);
    s->cursor = (struct spool_pos){0, 0};
    s->ack_gen = 0;
    s->ack_fd = open(path, O_RDWR | O_CLOEXEC);
    if (s->ack_fd < 0 && errno == ENOENT) {
        /* first use: an empty cursor means "replay everything on disk" */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return fail(err, errlen, ATT_E_IO, "spool: create %s: %s", path, strerror(errno));
        char zero[2 * ACK_SLOT];
        memset(zero, '\n', sizeof zero);
        if (pwrite(fd, zero, sizeof zero, 0) != (ssize_t)sizeof zero || fsync(fd) != 0 || fsync(s->dir_fd) != 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return fail(err, errlen, ATT_E_IO, "spool: initialise %s: %s", path, strerror(e));
        }
        s->ack_fd = fd;
        return ATT_OK;
    }
    if (s->ack_fd < 0) return fail(err, errlen, ATT_E_IO, "spool: open %s: %s", path, strerror(errno));

    char buf[2 * ACK_SLOT];
    ssize_t r = pread(s->ack_fd, buf, sizeof buf, 0);
    if (r < 0) return fail(err, errlen, ATT_E_IO, "spool: read %s: %s", path, strerror(errno));
    if (r < (ssize_t)sizeof buf) memset(buf + r, '\n', sizeof buf - (size_t)r);
    bool any = false, blank = true;
    for (int i = 0; i < 2; i++) {
        uint64_t g;
        struct spool_pos c;
        if (parse_slot(buf + i * ACK_SLOT, &g, &c)) {
            if (!any || g > s->ack_gen) {
                s->ack_gen = g;
                s->cursor = c;
            }
            any = true;
        }
    }
    for (size_t i = 0; i < sizeof buf; i++) blank = blank && buf[i] == '\n';
    if (!any && !blank)
        log_error(MOD,
                  "%s is CORRUPT: replaying every record on disk (the database ignores "
                  "duplicates)",
                  path);
    return ATT_OK;
}

static att_err write_cursor(spool *s, struct spool_pos c, char *err, size_t errlen)
{
    char slot[ACK_SLOT], body[96], line[2 * ACK_SLOT];
    uint64_t gen = s->ack_gen + 1;
    int n = snprintf(body, sizeof body, ACK_FMT_BODY, gen, c.seg, c.off); /* 70 chars */
    int m = snprintf(line, sizeof line, "%s %08x\n", body, spool_crc32c(0, body, (size_t)n));
    memset(slot, '\n', sizeof slot); /* newline padding: the slot reads as text */
    memcpy(slot, line, (size_t)m < sizeof slot ? (size_t)m : sizeof slot);
    off_t at = (off_t)(gen % 2) * ACK_SLOT;
    ssize_t w = s->pwrite_fn(s->ack_fd, slot, sizeof slot, at);
    if (w != (ssize_t)sizeof slot) {
        int e = w < 0 ? errno : ENOSPC;
        return fail(err, errlen, ATT_E_IO, "spool: write %s/%s: %s", s->dir, ACK_FILE, strerror(e));
    }
    if (s->fdatasync_fn(s->ack_fd) != 0)
        return fail(err, errlen, ATT_E_IO, "spool: fdatasync %s/%s: %s", s->dir, ACK_FILE, strerror(errno));
    s->ack_gen = gen;
    return ATT_OK;
}

/* Delete segments wholly before the durable cursor. Failures only leave extra files behind
 * (retried on the next ack or open), so they are logged, not returned. */
static void delete_acked_segments(spool *s)
{
    bool any = false;
    while (s->oldest_seq < s->cursor.seg && s->oldest_seq < s->active_seq) {
        char path[4200];
        seg_path(s, s->oldest_seq, path, sizeof path);
        if (unlink(path) == 0) {
            any = true;
            if (s->segments) s->segments--;
        } else if (errno != ENOENT) {
            log_warn(MOD, "cannot delete acknowledged segment %s: %s", path, strerror(errno));
            break;
        }
        s->oldest_seq++;
    }
    if (any && fsync(s->dir_fd) != 0) log_warn(MOD, "fsync %s: %s", s->dir, strerror(errno));
}

/* ---- open / close ------------------------------------------------------------------------------ */

static att_err new_segment(spool *s, uint64_t seq, char *err, size_t errlen)
{
    char path[4200];
    seg_path(s, seq, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(err, errlen, ATT_E_IO, "spool: create %s: %s", path, strerror(errno));
    /* the directory entry must be durable before a record in the file can be called durable */
    if (fsync(s->dir_fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return fail(err, errlen, ATT_E_IO, "spool: fsync %s: %s", s->dir, strerror(e));
    }
    if (s->active_fd >= 0) close(s->active_fd);
    s->active_fd = fd;
    s->active_seq = seq;
    s->active_size = 0;
    s->tail_dirty = false;
    s->segments++;
    return ATT_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y);
}

/* List segment sequence numbers, ascending. */
static att_err list_segments(spool *s, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(s->dir);
    if (!d) return fail(err, errlen, ATT_E_IO, "spool: opendir %s: %s", s->dir, strerror(errno));
    uint64_t *v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *de;
    att_err rc = ATT_OK;
    while ((de = readdir(d))) {
        uint64_t seq;
        if (!parse_seg_name(de->d_name, &seq)) continue;
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = ATT_E_NOMEM;
                break;
            }
            v = nv;
        }
        v[len++] = seq;
    }
    closedir(d);
    if (rc != ATT_OK) {
        free(v);
        return fail(err, errlen, rc, "spool: out of memory listing %s", s->dir);
    }
    if (len > 1) qsort(v, len, sizeof *v, cmp_u64); /* v may be NULL when empty */
    *out = v;
    *n = len;
    return ATT_OK;
}

static att_err recover(spool *s, char *err, size_t errlen)
{
    att_err rc = open_cursor(s, err, errlen);
    if (rc != ATT_OK) return rc;

    uint64_t *seqs = NULL;
    size_t n = 0;
    rc = list_segments(s, &seqs, &n, err, errlen);
    if (rc != ATT_OK) return rc;

    uint64_t highest = s->cursor.seg;
    for (size_t i = 0; i < n && rc == ATT_OK; i++) {
        char path[4200];
        seg_path(s, seqs[i], path, sizeof path);
        if (seqs[i] > highest) highest = seqs[i];
        if (seqs[i] < s->cursor.seg) { /* acknowledged, deletion was interrupted */
            if (unlink(path) != 0) log_warn(MOD, "cannot delete %s: %s", path, strerror(errno));
            continue;
        }
        rc = scan_segment(s, seqs[i], i + 1 == n, err, errlen);
        if (rc != ATT_OK) break;
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size == 0) {
            unlink(path); /* empty (left by an earlier open, or all torn): nothing to keep */
            continue;
        }
        s->segments++;
    }
    /* the lowest segment that may still be on disk */
    s->oldest_seq = n ? seqs[0] : highest + 1;
    free(seqs);
    if (rc != ATT_OK) return rc;
    if (fsync(s->dir_fd) != 0) return fail(err, errlen, ATT_E_IO, "spool: fsync %s: %s", s->dir, strerror(errno));

    /* Never append to a file an earlier process wrote: a fresh segment past everything known
     * (and past the cursor) cannot collide with acknowledged positions. */
    return new_segment(s, highest + 1, err, errlen);
}

att_err spool_open(const char *dir, const struct spool_opts *opts, spool **out, char *err, size_t errlen)
{
    struct spool_opts o = {0};
    if (opts) o = *opts;
    if (!o.segment_bytes) o.segment_bytes = SPOOL_DEFAULT_SEGMENT_BYTES;
    if (o.segment_bytes < 4096 || o.segment_bytes > SEG_MAX_FILE_BYTES / 2) {
        if (err && errlen) snprintf(err, errlen, "spool: segment_bytes must be 4 KiB..512 MiB");
        return ATT_E_INVALID;
    }
    if (strlen(dir) > 4000) {
        if (err && errlen) snprintf(err, errlen, "spool: directory path too long");
        return ATT_E_INVALID;
    }

    spool *s = calloc(1, sizeof *s);
    if (!s) return fail(err, errlen, ATT_E_NOMEM, "spool: out of memory");
    s->dir = strdup(dir);
    s->dir_fd = s->lock_fd = s->active_fd = s->ack_fd = -1;
    s->segment_bytes = o.segment_bytes;
    s->pwrite_fn = o.pwrite_fn ? o.pwrite_fn : pwrite;
    s->fdatasync_fn = o.fdatasync_fn ? o.fdatasync_fn : fdatasync;
    att_err rc;
    if (!s->dir || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s->dir);
        free(s);
        return fail(err, errlen, ATT_E_NOMEM, "spool: out of memory");
    }

    if (mkdir(dir, 0700) == 0) {
        /* a new directory's own entry must be durable too, or the first events could vanish */
        char parent[4200];
        att_path_parent(dir, parent, sizeof parent);
        int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0 || fsync(pfd) != 0) {
            rc = fail(err, errlen, ATT_E_IO, "spool: fsync %s: %s", parent, strerror(errno));
            if (pfd >= 0) close(pfd);
            goto bad;
        }
        close(pfd);
    } else if (errno != EEXIST) {
        rc = fail(err, errlen, ATT_E_IO, "spool: mkdir %s: %s", dir, strerror(errno));
        goto bad;
    }
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        rc = fail(err, errlen, ATT_E_IO, "spool: open %s: %s", dir, strerror(errno));
        goto bad;
    }
    char lpath[4200];
    file_path(s, LOCK_FILE, lpath, sizeof lpath);
    s->lock_fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = fail(err, errlen, ATT_E_IO, "spool: open %s: %s", lpath, strerror(errno));
        goto bad;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = fail(err, errlen, ATT_E_IO, "spool: %s is in use by another process (%s)", dir, strerror(errno));
        goto bad;
    }
    rc = recover(s, err, errlen);
    if (rc != ATT_OK) goto bad;

    if (idx_count(s) || s->stats.corrupt_skipped || s->stats.torn_truncated)
        log_notice(MOD,
                   "%s opened: %zu pending event(s) to replay, %" PRIu64 " corrupt region(s) "
                   "skipped, %" PRIu64 " torn tail(s) cut",
                   dir, idx_count(s), s->stats.corrupt_skipped, s->stats.torn_truncated);
    *out = s;
    return ATT_OK;
bad:
    spool_close(s);
    return rc;
}

void spool_close(spool *s)
{
    if (!s) return;
    if (s->active_fd >= 0) close(s->active_fd);
    if (s->ack_fd >= 0) close(s->ack_fd);
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    if (s->dir_fd >= 0) close(s->dir_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->idx);
    free(s->dir);
    free(s);
}

/* ---- append ------------------------------------------------------------------------------------ */

/* Cut the active segment back to its last whole record after a failed append. */
static bool rollback_tail(spool *s)
{
    if (ftruncate(s->active_fd, (off_t)s->active_size) == 0) {
        s->tail_dirty = false;
        return true;
    }
    log_error(MOD, "cannot truncate a failed append (%s); will retry before the next append", strerror(errno));
    s->tail_dirty = true;
    return false;
}

att_err spool_append(spool *s, const struct att_event *ev, struct spool_pos *pos, char *err, size_t errlen)
{
    uint8_t rec[RECORD_MAX];
    size_t rlen;
    att_err rc = record_encode(ev, rec, &rlen);
    if (rc == ATT_E_TOO_LARGE) {
        if (err && errlen) snprintf(err, errlen, "spool: event payload too large");
        return ATT_E_INVALID;
    }
    if (rc != ATT_OK) {
        if (err && errlen) snprintf(err, errlen, "spool: bad event (kind or source)");
        return rc;
    }

    pthread_mutex_lock(&s->lock);
    if (s->tail_dirty && !rollback_tail(s)) {
        rc = fail(err, errlen, ATT_E_IO, "spool: segment tail still dirty after a failed append");
        goto out;
    }
    if (s->active_size > 0 && s->active_size + rlen > s->segment_bytes) {
        rc = new_segment(s, s->active_seq + 1, err, errlen);
        if (rc != ATT_OK) goto out;
    }

    size_t done = 0;
    int e = 0;
    while (done < rlen) {
        ssize_t w = s->pwrite_fn(s->active_fd, rec + done, rlen - done, (off_t)(s->active_size + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            e = w < 0 ? errno : ENOSPC; /* a zero-byte write means no room */
            break;
        }
        done += (size_t)w;
    }
    if (!e && s->fdatasync_fn(s->active_fd) != 0) e = errno;
    if (e) {
        rollback_tail(s);
        s->stats.append_errors++;
        rc = fail(err, errlen, ATT_E_IO, "spool: append to segment %016" PRIx64 " failed: %s%s", s->active_seq,
                  strerror(e), e == ENOSPC ? " (disk full: not appended)" : "");
        goto out;
    }
    rc = idx_push(s, s->active_seq, (uint32_t)s->active_size, (uint32_t)rlen);
    if (rc != ATT_OK) {
        /* durable on disk but not indexed: drop it again so memory and disk agree */
        rollback_tail(s);
        rc = fail(err, errlen, ATT_E_NOMEM, "spool: out of memory indexing an append");
        goto out;
    }
    if (pos) *pos = (struct spool_pos){s->active_seq, s->active_size};
    s->active_size += rlen;
    s->stats.appended++;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- pending / ack ----------------------------------------------------------------------------- */

static att_err read_record(int fd, const struct idx_ent *ie, uint8_t *buf)
{
    size_t got = 0;
    while (got < ie->len) {
        ssize_t r = pread(fd, buf + got, ie->len - got, (off_t)ie->off + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return ATT_E_IO;
        }
        got += (size_t)r;
    }
    return ATT_OK;
}

att_err spool_pending(spool *s, struct spool_record *out, size_t max, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    att_err rc = ATT_OK;
    int fd = -1;
    uint64_t fd_seq = 0;
    pthread_mutex_lock(&s->lock);
    size_t i = s->idx_head;
    while (i < s->idx_len && *n < max) {
        const struct idx_ent *ie = &s->idx[i];
        char path[4200];
        seg_path(s, ie->seg, path, sizeof path);
        if (fd < 0 || fd_seq != ie->seg) {
            if (fd >= 0) close(fd);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            fd_seq = ie->seg;
            if (fd < 0) {
                rc = fail(err, errlen, ATT_E_IO, "spool: open %s: %s", path, strerror(errno));
                break;
            }
        }
        uint8_t buf[RECORD_MAX];
        rc = read_record(fd, ie, buf);
        if (rc != ATT_OK) {
            rc = fail(err, errlen, rc, "spool: read %s offset %u: %s", path, ie->off, strerror(errno));
            break;
        }
        size_t len;
        if (spool_record_decode(buf, ie->len, &len, &out[*n].ev) != ATT_OK || len != ie->len) {
            /* it was whole when written or scanned; the medium changed it since */
            log_error(MOD,
                      "%s offset %u: record went CORRUPT after it was written; skipped "
                      "(event lost from the spool)",
                      path, ie->off);
            s->stats.corrupt_skipped++;
            idx_remove(s, i);
            continue;
        }
        out[*n].pos = (struct spool_pos){ie->seg, ie->off};
        (*n)++;
        i++;
    }
    if (fd >= 0) close(fd);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

att_err spool_ack(spool *s, struct spool_pos pos, char *err, size_t errlen)
{
    att_err rc = ATT_OK;
    pthread_mutex_lock(&s->lock);
    if (idx_count(s) == 0 || pos_cmp(pos.seg, pos.off, s->idx[s->idx_head].seg, s->idx[s->idx_head].off) < 0) {
        goto out; /* already acknowledged: acks are idempotent */
    }
    /* binary search for pos among the pending records (they are in position order) */
    size_t lo = s->idx_head, hi = s->idx_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos_cmp(s->idx[mid].seg, s->idx[mid].off, pos.seg, pos.off) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo == s->idx_len || s->idx[lo].seg != pos.seg || s->idx[lo].off != pos.off) {
        rc = ATT_E_NOT_FOUND;
        if (err && errlen)
            snprintf(err, errlen, "spool: no pending record at %016" PRIx64 ":%" PRIu64, pos.seg, pos.off);
        goto out;
    }
    size_t next = lo + 1;
    /* the cursor names the first byte still pending (or the end of the active segment) */
    struct spool_pos c = next < s->idx_len ? (struct spool_pos){s->idx[next].seg, s->idx[next].off}
                                           : (struct spool_pos){s->active_seq, s->active_size};
    rc = write_cursor(s, c, err, errlen);
    if (rc != ATT_OK) goto out; /* nothing changes: the records stay pending */
    s->stats.acked += next - s->idx_head;
    s->cursor = c;
    s->idx_head = next;
    if (s->idx_head == s->idx_len) s->idx_head = s->idx_len = 0;
    delete_acked_segments(s);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

size_t spool_depth(spool *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = idx_count(s);
    pthread_mutex_unlock(&s->lock);
    return n;
}

void spool_get_stats(spool *s, struct spool_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->depth = idx_count(s);
    out->segments = s->segments;
    pthread_mutex_unlock(&s->lock);
}
