/* Durable event spool: attendance events are appended (and fdatasync'ed) to checksummed segment
 * files before they go to PostgreSQL, and acknowledged once the database has them. Survives
 * crashes and SIGKILL; format and recovery in docs/pipeline.md "Durable spool". Thread-safe. */
#ifndef ATTENDD_SPOOL_H
#define ATTENDD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attendd/errors.h"
#include "attendd/event.h"

#define SPOOL_PAYLOAD_MAX 1024 /* bytes; a record larger than this is corrupt */
#define SPOOL_DEFAULT_SEGMENT_BYTES (4u << 20)

/* Where a record lives: segment sequence number and byte offset. Totally ordered (seg, off). */
struct spool_pos {
    uint64_t seg;
    uint64_t off;
};

/* One pending event and where it lives. */
struct spool_record {
    struct spool_pos pos; /* pass to spool_ack() */
    struct att_event ev;  /* the event (payload version 1) */
};

/* Open options; zero/NULL fields take defaults. The function hooks exist for fault-injection
 * tests (ENOSPC, EIO) and must behave like pwrite(2)/fdatasync(2). */
struct spool_opts {
    size_t segment_bytes; /* rotate to a new segment past this size; default 4 MiB */
    ssize_t (*pwrite_fn)(int fd, const void *buf, size_t n, off_t off);
    int (*fdatasync_fn)(int fd);
};

struct spool_stats {
    size_t depth;             /* records appended and not yet acknowledged */
    size_t segments;          /* segment files on disk */
    uint64_t appended;        /* since open */
    uint64_t acked;           /* since open */
    uint64_t append_errors;   /* failed appends (disk full, I/O error) */
    uint64_t corrupt_skipped; /* corrupt records/regions skipped (open and reads) */
    uint64_t torn_truncated;  /* torn tails cut at open (0 or 1 per open) */
};

typedef struct spool spool;

/* Open (creating it if needed) the spool directory dir, e.g. "<state_dir>/spool", recover it
 * (torn tail truncated, corrupt records skipped with an error log, acknowledged segments
 * deleted) and lock it against a second process. err (may be NULL) receives a message on
 * failure: ATT_E_IO for file system errors or a spool already in use, ATT_E_INVALID for bad opts. */
att_err spool_open(const char *dir, const struct spool_opts *opts, spool **out, char *err, size_t errlen);
/* Close files and free; pending records stay on disk for the next open. NULL is a no-op. */
void spool_close(spool *s);

/* Append one event; durable (fdatasync'ed) when ATT_OK returns. pos (may be NULL) receives its
 * position. On ATT_E_IO (e.g. disk full) nothing was added and the files are as before the call.
 * ATT_E_INVALID for a bad kind or source. */
att_err spool_append(spool *s, const struct att_event *ev, struct spool_pos *pos, char *err, size_t errlen);

/* Copy up to max of the oldest unacknowledged records, in append order, into out; *n gets the
 * count. Does not consume them: the same records come back until acknowledged. */
att_err spool_pending(spool *s, struct spool_record *out, size_t max, size_t *n, char *err, size_t errlen);

/* Acknowledge every pending record up to and including pos (cumulative, like an offset commit),
 * durably. Positions already acknowledged are a no-op; ATT_E_NOT_FOUND if pos is not a pending
 * record. Segments left with no pending record are deleted. */
att_err spool_ack(spool *s, struct spool_pos pos, char *err, size_t errlen);

size_t spool_depth(spool *s);
void spool_get_stats(spool *s, struct spool_stats *out);

/* Payload codec (compact JSON, versioned; src/journal/record.c), exposed for tools and tests.
 * encode: ATT_E_INVALID for a bad event, ATT_E_TOO_LARGE if it does not fit cap. decode:
 * ATT_E_INVALID for anything but a well-formed version-1 payload. */
att_err spool_event_encode(const struct att_event *ev, char *buf, size_t cap, size_t *len);
att_err spool_event_decode(const char *buf, size_t len, struct att_event *ev);

/* Decode the one record at the start of buf[0..size): frame (magic, length, CRC32C) and payload,
 * as the open-time scan and spool_pending do. ATT_OK: *ev filled, *reclen = record length. Else
 * ATT_E_INVALID with *reclen = 0 (no sound frame starts here) or *reclen > 0 (a sound frame whose
 * payload is unreadable: skip that many bytes). */
att_err spool_record_decode(const void *buf, size_t size, size_t *reclen, struct att_event *ev);

/* CRC32C (Castagnoli) as used in the record header; exposed for tests that craft records. */
uint32_t spool_crc32c(uint32_t crc, const void *buf, size_t n);

#endif
