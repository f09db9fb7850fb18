/* Internal to src/journal: the spool's record frame. A record is magic(4) | payload length(4, LE) |
 * CRC32C over length and payload(4, LE) | payload (compact versioned JSON of one event). */
#ifndef ATTENDD_JOURNAL_RECORD_H
#define ATTENDD_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "attendd/spool.h"

#define RECORD_HDR_BYTES 12                               /* magic, length, checksum */
#define RECORD_MAX (RECORD_HDR_BYTES + SPOOL_PAYLOAD_MAX) /* largest sound record */

/* Frame ev into rec; *len receives the record's length. ATT_E_INVALID for a bad event (kind, source,
 * a non-finite number), ATT_E_TOO_LARGE when its payload exceeds SPOOL_PAYLOAD_MAX. */
att_err record_encode(const struct att_event *ev, uint8_t rec[RECORD_MAX], size_t *len);

/* Length of a sound frame (magic, length, checksum) starting at buf[pos], or 0. */
size_t record_valid_at(const uint8_t *buf, size_t size, size_t pos);

/* Offset of the next sound frame at or after from (a resync after a corrupt region), or size. */
size_t record_next_valid(const uint8_t *buf, size_t size, size_t from);

#endif
