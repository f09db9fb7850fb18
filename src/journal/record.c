/* The spool's record codec (src/journal/record.h, include/attendd/spool.h): CRC32C, the record
 * frame, and the versioned JSON payload of one event. */
#include "src/journal/record.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "attendd/event.h"
#include "attendd/uuid.h"

#define PAYLOAD_VERSION 1

/* The first byte is not ASCII, so the magic can never occur inside a JSON payload, which makes
 * the resync scan after a corrupt region land on real record starts only. */
static const uint8_t rec_magic[4] = {0xF3, 0xA7, 0x5D, 0x01};

/* ---- CRC32C (Castagnoli, reflected 0x82F63B78), table driven ----------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t spool_crc32c(uint32_t crc, const void *buf, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = buf;
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC over the length field and the payload, so a flipped length is caught as well. */
static uint32_t record_crc(const uint8_t *len_field, const uint8_t *payload, uint32_t len)
{
    return spool_crc32c(spool_crc32c(0, len_field, 4), payload, len);
}

/* ---- payload ----------------------------------------------------------------------------------- */

static bool source_ok(const char *s)
{
    size_t n = strnlen(s, EVENT_SOURCE_MAX);
    if (n == 0 || n >= EVENT_SOURCE_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

att_err spool_event_encode(const struct att_event *ev, char *buf, size_t cap, size_t *len)
{
    /* inf/nan would print as bare words: a record no decoder reads back (the event lost) */
    if ((ev->kind != EVENT_KIND_IN && ev->kind != EVENT_KIND_OUT) || !source_ok(ev->source) ||
        !isfinite(ev->similarity) || !isfinite(ev->liveness))
        return ATT_E_INVALID;
    char id[ATT_UUID_STR], person[ATT_UUID_STR], camera[ATT_UUID_STR];
    att_uuid_format(&ev->id, id);
    att_uuid_format(&ev->person, person);
    att_uuid_format(&ev->camera, camera);
    /* %.9g round-trips a float exactly; fixed key order keeps records byte-comparable. */
    int n = snprintf(buf, cap,
                     "{\"v\":%d,\"id\":\"%s\",\"person\":\"%s\",\"camera\":\"%s\",\"kind\":\"%s\","
                     "\"ts\":%" PRId64 ",\"sim\":%.9g,\"live\":%.9g,\"source\":\"%s\"}",
                     PAYLOAD_VERSION, id, person, camera, event_kind_name(ev->kind), ev->ts_us, (double)ev->similarity,
                     (double)ev->liveness, ev->source);
    if (n < 0) return ATT_E_INTERNAL;
    if ((size_t)n >= cap) return ATT_E_TOO_LARGE;
    *len = (size_t)n;
    return ATT_OK;
}

static bool get_uuid(json_t *o, const char *key, att_uuid *out)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && att_uuid_parse(json_string_value(v), out);
}

att_err spool_event_decode(const char *buf, size_t len, struct att_event *ev)
{
    json_error_t jerr;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) return ATT_E_INVALID;
    att_err rc = ATT_E_INVALID;
    memset(ev, 0, sizeof *ev);
    json_t *v = json_object_get(o, "v");
    json_t *kind = json_object_get(o, "kind");
    json_t *ts = json_object_get(o, "ts");
    json_t *sim = json_object_get(o, "sim");
    json_t *live = json_object_get(o, "live");
    json_t *src = json_object_get(o, "source");
    if (!json_is_object(o) || json_object_size(o) != 9) goto out; /* no unknown keys in v1 */
    if (!json_is_integer(v) || json_integer_value(v) != PAYLOAD_VERSION) goto out;
    if (!get_uuid(o, "id", &ev->id) || !get_uuid(o, "person", &ev->person) || !get_uuid(o, "camera", &ev->camera))
        goto out;
    if (!json_is_string(kind)) goto out;
    if (strcmp(json_string_value(kind), "in") == 0) ev->kind = EVENT_KIND_IN;
    else if (strcmp(json_string_value(kind), "out") == 0) ev->kind = EVENT_KIND_OUT;
    else goto out;
    if (!json_is_integer(ts) || !json_is_number(sim) || !json_is_number(live) || !json_is_string(src)) goto out;
    ev->ts_us = (int64_t)json_integer_value(ts);
    ev->similarity = (float)json_number_value(sim);
    ev->liveness = (float)json_number_value(live);
    /* 1e39 is valid JSON but no float: an event the encoder could not write back (found by fuzz/spool.c) */
    if (!isfinite(ev->similarity) || !isfinite(ev->liveness)) goto out;
    if (strlen(json_string_value(src)) >= EVENT_SOURCE_MAX) goto out;
    snprintf(ev->source, sizeof ev->source, "%s", json_string_value(src));
    if (!source_ok(ev->source)) goto out;
    rc = ATT_OK;
out:
    json_decref(o);
    return rc;
}

/* ---- frame ------------------------------------------------------------------------------------- */

att_err record_encode(const struct att_event *ev, uint8_t rec[RECORD_MAX], size_t *len)
{
    size_t plen;
    att_err rc = spool_event_encode(ev, (char *)rec + RECORD_HDR_BYTES, SPOOL_PAYLOAD_MAX + 1, &plen);
    if (rc == ATT_OK && plen > SPOOL_PAYLOAD_MAX) rc = ATT_E_TOO_LARGE;
    if (rc != ATT_OK) return rc;
    memcpy(rec, rec_magic, 4);
    put_le32(rec + 4, (uint32_t)plen);
    put_le32(rec + 8, record_crc(rec + 4, rec + RECORD_HDR_BYTES, (uint32_t)plen));
    *len = RECORD_HDR_BYTES + plen;
    return ATT_OK;
}

size_t record_valid_at(const uint8_t *buf, size_t size, size_t pos)
{
    if (size - pos < RECORD_HDR_BYTES || memcmp(buf + pos, rec_magic, 4) != 0) return 0;
    uint32_t len = get_le32(buf + pos + 4);
    if (len == 0 || len > SPOOL_PAYLOAD_MAX || len > size - pos - RECORD_HDR_BYTES) return 0;
    if (record_crc(buf + pos + 4, buf + pos + RECORD_HDR_BYTES, len) != get_le32(buf + pos + 8)) return 0;
    return RECORD_HDR_BYTES + len;
}

att_err spool_record_decode(const void *buf, size_t size, size_t *reclen, struct att_event *ev)
{
    *reclen = record_valid_at(buf, size, 0);
    if (*reclen == 0) return ATT_E_INVALID;
    return spool_event_decode((const char *)buf + RECORD_HDR_BYTES, *reclen - RECORD_HDR_BYTES, ev);
}

size_t record_next_valid(const uint8_t *buf, size_t size, size_t from)
{
    for (size_t p = from; p + RECORD_HDR_BYTES <= size; p++) {
        const uint8_t *m = memchr(buf + p, rec_magic[0], size - p);
        if (!m) break;
        p = (size_t)(m - buf);
        if (record_valid_at(buf, size, p)) return p;
    }
    return size;
}
