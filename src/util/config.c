/* Configuration parsing: one table of typed keys with ranges; file, environment and defaults. */
#include "attendd/config.h"

#include "attendd/cidr.h"
#include "attendd/time.h"
#include "attendd/tz.h"

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { K_STR, K_INT, K_LONG, K_BOOL, K_LEVEL, K_DOUBLE };

struct key_def {
    const char *name;
    enum key_type type;
    size_t off;
    size_t size;      /* for strings: buffer size */
    double min, max;  /* for numbers */
    const char *dflt; /* default as text */
    const char *help;
};

#define F(field) offsetof(struct att_config, field), sizeof(((struct att_config *)0)->field)

static const struct key_def keys[] = {
    {"listen_address", K_STR, F(listen_address), 0, 0, "127.0.0.1", "address to bind the HTTP API"},
    {"port", K_INT, F(port), 0, 65535, "8080", "TCP port of the HTTP API (0 = any free port)"},
    {"http_threads", K_INT, F(http_threads), 1, 256, "4", "HTTP worker threads"},
    {"max_connections", K_INT, F(max_connections), 1, 100000, "512", "concurrent HTTP connections"},
    {"max_connections_per_ip", K_INT, F(max_connections_per_ip), 0, 100000, "64",
     "concurrent HTTP connections from one address (0 = no limit)"},
    {"connection_timeout_s", K_INT, F(connection_timeout_s), 1, 3600, "30", "idle HTTP connection timeout, seconds"},
    {"body_deadline_s", K_INT, F(body_deadline_s), 1, 3600, "60",
     "seconds a request body may take to arrive, from the request's headers"},
    {"max_body_bytes", K_LONG, F(max_body_bytes), 1024, 1L << 30, "10485760", "largest accepted request body, bytes"},
    {"sse_max_streams", K_INT, F(sse_max_streams), 0, 10000, "32",
     "concurrent GET /api/v1/events/stream feeds (0 = none)"},
    {"sse_max_streams_per_token", K_INT, F(sse_max_streams_per_token), 1, 10000, "8",
     "concurrent event streams of one token"},
    {"sse_ping_s", K_INT, F(sse_ping_s), 1, 3600, "15",
     "SSE heartbeat interval, seconds (capped at half of connection_timeout_s)"},
    {"allow_remote_http", K_BOOL, F(allow_remote_http), 0, 1, "false", "allow plain HTTP on a non-loopback address"},
    {"tls_cert_file", K_STR, F(tls_cert_file), 0, 0, "",
     "PEM certificate (chain) for HTTPS; with tls_key_file, or neither"},
    {"tls_key_file", K_STR, F(tls_key_file), 0, 0, "", "PEM private key for HTTPS (not readable by group/other)"},
    {"auth_fail_limit", K_INT, F(auth_fail_limit), 0, 100000, "10",
     "failed authentications from one address, or with one token, before it gets 429 (0 = no limit)"},
    {"auth_fail_window_s", K_INT, F(auth_fail_window_s), 1, 86400, "60",
     "window of auth_fail_limit and length of the lock-out, seconds"},
    /* console sign-in (src/console, src/http/session.c) */
    {"console_session_idle_s", K_INT, F(console_session_idle_s), 1, 86400, "1800",
     "a console session unused this long ends, seconds"},
    {"console_session_max_s", K_INT, F(console_session_max_s), 1, 604800, "43200",
     "a console session ends this long after sign-in whatever its use, seconds"},
    {"console_lockout_failures", K_INT, F(console_lockout_failures), 1, 1000, "5",
     "consecutive failed sign-ins that lock a console account"},
    {"console_lockout_s", K_INT, F(console_lockout_s), 1, 86400, "900",
     "how long a locked console account stays locked, seconds"},
    {"database_url", K_STR, F(database_url), 0, 0, "", "libpq connection string or URI"},
    {"db_pool_size", K_INT, F(db_pool_size), 1, 256, "8", "PostgreSQL connections kept open"},
    {"db_statement_timeout_ms", K_INT, F(db_statement_timeout_ms), 0, 3600000, "30000",
     "statement_timeout of the daemon's pooled database sessions, ms (0 = the server's default)"},
    {"models_dir", K_STR, F(models_dir), 0, 0, ATTENDD_DATADIR "/models", "directory holding fr_*.onnx"},
    {"template_key_file", K_STR, F(template_key_file), 0, 0, "/etc/attendd/template.key",
     "template encryption key file (32 bytes, 0600)"},
    {"token_key_file", K_STR, F(token_key_file), 0, 0, "/etc/attendd/token.key",
     "API token hashing key file (32 bytes, 0600)"},
    {"state_dir", K_STR, F(state_dir), 0, 0, "/var/lib/attendd", "local state (event spool)"},
    {"log_level", K_LEVEL, F(log_level), 0, 0, "info", "debug, info, notice, warning or error"},
    {"shutdown_timeout_s", K_INT, F(shutdown_timeout_s), 1, 600, "10", "bound on a graceful stop, seconds"},
    {"watchdog_interval_s", K_INT, F(watchdog_interval_s), 0, 3600, "0",
     "watchdog ping interval; 0 = half of WATCHDOG_USEC"},
    {"vision_workers", K_INT, F(vision_workers), 1, 64, "2", "face pipelines for API requests (enrol, identify)"},
    {"vision_queue", K_INT, F(vision_queue), 1, 4096, "8",
     "enrolments and identifications accepted at once, running or waiting (beyond: 503 busy)"},
    {"test_vision_delay_ms", K_INT, F(test_vision_delay_ms), 0, 60000, "0",
     "test hook: every enrolment and identification waits this long before its vision work (keep 0)"},
    {"match_threshold", K_DOUBLE, F(match_threshold), 0.0, 1.0, "0.50",
     "cosine similarity at or above which a face matches"},
    {"max_image_pixels", K_LONG, F(max_image_pixels), 10000, 200000000, "50000000",
     "largest image accepted, pixels (checked before decoding)"},
    {"enrol_min_face_px", K_INT, F(enrol_min_face_px), 20, 4000, "80", "enrolment: shortest face box height, px"},
    {"enrol_min_sharpness", K_DOUBLE, F(enrol_min_sharpness), 0.0, 100000.0, "20",
     "enrolment: sharpness floor (variance of Laplacian)"},
    {"enrol_max_yaw_deg", K_DOUBLE, F(enrol_max_yaw_deg), 0.0, 90.0, "30",
     "enrolment: largest head turn (yaw) accepted, degrees"},
    {"enrol_max_pitch_deg", K_DOUBLE, F(enrol_max_pitch_deg), 0.0, 90.0, "25",
     "enrolment: largest head tilt up or down (pitch) accepted, degrees"},
    {"max_templates_per_person", K_INT, F(max_templates_per_person), 1, 100, "5",
     "enrolment: face templates one person may have (matching uses the best of them)"},
    {"enrol_min_liveness", K_DOUBLE, F(enrol_min_liveness), 0.0, 1.0, "0.5", "enrolment: liveness floor, P(real)"},
    {"analysis_workers", K_INT, F(analysis_workers), 0, 64, "0", "camera analysis threads (0 = one per CPU core)"},
    {"detect_min_face_px", K_INT, F(detect_min_face_px), 0, 4000, "0",
     "smallest face searched for in camera frames, px (0 = whole-frame pass only)"},
    {"analysis_idle_ms", K_INT, F(analysis_idle_ms), 0, 5000, "300",
     "a camera with no undecided track analyses a sampled frame at most every this many ms (0 = every sampled frame)"},
    {"track_match_threshold", K_DOUBLE, F(track_match_threshold), 0.0, 1.0, "0.40",
     "per-frame similarity a track recognition needs (a decision also needs track_agree_k agreeing frames)"},
    {"track_agree_k", K_INT, F(track_agree_k), 1, 16, "3",
     "a track decides when this many of its last track_window_m recognitions agree"},
    {"track_window_m", K_INT, F(track_window_m), 1, 16, "5", "recognitions a track's agreement looks back over"},
    {"track_confirm", K_BOOL, F(track_confirm), 0, 1, "true",
     "confirm each track decision with the confirming model (dlib_face_recognition_resnet_model_v1.dat in "
     "models_dir); false = the first model alone"},
    {"cooldown_s", K_INT, F(cooldown_s), 1, 86400, "120", "one punch per person within this many seconds"},
    {"max_shift_h", K_INT, F(max_shift_h), 1, 168, "16",
     "an open clock-in older than this many hours no longer counts"},
    {"timezone", K_STR, F(timezone), 0, 0, "UTC", "IANA time zone of attendance reports (e.g. Europe/Berlin)"},
    {"day_cutoff", K_STR, F(day_cutoff), 0, 0, "04:00", "local time HH:MM where one work day ends and the next begins"},
    {"report_max_days", K_INT, F(report_max_days), 1, 366, "62", "longest date range of one attendance report, days"},
    {"cluster", K_BOOL, F(cluster), 0, 1, "false",
     "several instances share this database: cameras by lease, changes by LISTEN/NOTIFY, punches decided in it"},
    {"instance_name", K_STR, F(instance_name), 0, 0, "",
     "this instance's name in GET /api/v1/instances (empty = the host name)"},
    {"instance_capacity", K_INT, F(instance_capacity), 1, 10000, "32",
     "cameras this instance processes at most (cluster)"},
    {"lease_timeout_s", K_INT, F(lease_timeout_s), 3, 3600, "10",
     "seconds after its holder's last heartbeat that a camera moves to another instance (cluster)"},
    {"payroll_columns", K_STR, F(payroll_columns), 0, 0,
     "person,employee_no,name,department,scheduled,worked,regular,ot_daily,ot_weekly,ot_rest_day,ot_holiday,night,"
     "holiday,leave_paid,leave_unpaid,leave:annual,leave:sick,leave:training,leave:unpaid,exceptions,absent_days",
     "payroll export columns, comma separated: field or PAYCODE=field (docs/reports.md, Payroll export)"},
    {"camera_allow", K_STR, F(camera_allow), 0, 0, CFG_CAMERA_ALLOW_DEFAULT,
     "address ranges (CIDR, space or comma separated) cameras may be reached in"},
    /* privacy: kiosks and retention */
    {"kiosk_pin_max_failures", K_INT, F(kiosk_pin_max_failures), 1, 100, "5",
     "wrong kiosk PINs in a row before the person's PIN is locked (an admin sets a new one)"},
    {"kiosk_attempts_per_min", K_INT, F(kiosk_attempts_per_min), 1, 10000, "30",
     "kiosk punch attempts one kiosk token may make per minute"},
    {"kiosk_person_attempts_per_min", K_INT, F(kiosk_person_attempts_per_min), 1, 1000, "5",
     "kiosk punch attempts for one employee number or badge per minute"},
    {"retention_templates_days", K_INT, F(retention_templates_days), 1, 36500, "365",
     "templates of a person inactive this many days are destroyed"},
    {"retention_events_years", K_INT, F(retention_events_years), 0, 100, "6",
     "events older than this many years are de-identified or deleted (0 = kept)"},
    {"retention_events_action", K_STR, F(retention_events_action), 0, 0, "deidentify",
     "what happens to events past retention_events_years: deidentify or delete"},
    {"retention_audit_years", K_INT, F(retention_audit_years), 1, 100, "10",
     "audit rows older than this many years are pruned"},
    {"retention_hour_utc", K_INT, F(retention_hour_utc), 0, 23, "3", "hour of the day (UTC) the retention job runs"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct key_def *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

static att_err set_value(struct att_config *cfg, const struct key_def *k, const char *value, char *err, size_t errlen)
{
    char *field = (char *)cfg + k->off;
    switch (k->type) {
    case K_STR:
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "%s: value too long (max %zu bytes)", k->name, k->size - 1);
            return ATT_E_CONFIG;
        }
        memcpy(field, value, strlen(value) + 1);
        return ATT_OK;
    case K_INT:
    case K_LONG: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end != '\0') {
            snprintf(err, errlen, "%s: '%s' is not an integer", k->name, value);
            return ATT_E_CONFIG;
        }
        if (v < k->min || v > k->max) {
            snprintf(err, errlen, "%s: %ld out of range [%.0f, %.0f]", k->name, v, k->min, k->max);
            return ATT_E_CONFIG;
        }
        if (k->type == K_INT) *(int *)field = (int)v;
        else *(long *)field = v;
        return ATT_OK;
    }
    case K_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end != '\0' || v != v) {
            snprintf(err, errlen, "%s: '%s' is not a number", k->name, value);
            return ATT_E_CONFIG;
        }
        if (v < k->min || v > k->max) {
            snprintf(err, errlen, "%s: %g out of range [%g, %g]", k->name, v, k->min, k->max);
            return ATT_E_CONFIG;
        }
        *(double *)field = v;
        return ATT_OK;
    }
    case K_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") || !strcmp(value, "1")) {
            *(bool *)field = true;
        } else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off") || !strcmp(value, "0")) {
            *(bool *)field = false;
        } else {
            snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", k->name, value);
            return ATT_E_CONFIG;
        }
        return ATT_OK;
    case K_LEVEL:
        if (log_level_parse(value, (enum log_level *)field) != 0) {
            snprintf(err, errlen, "%s: unknown level '%s' (debug, info, notice, warning, error)", k->name, value);
            return ATT_E_CONFIG;
        }
        return ATT_OK;
    }
    snprintf(err, errlen, "%s: internal: bad key type", k->name);
    return ATT_E_INTERNAL;
}

void cfg_defaults(struct att_config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++) {
        att_err e = set_value(cfg, &keys[i], keys[i].dflt, err, sizeof err);
        (void)e; /* defaults are compile-time constants, checked by tests/unit/test_config.c */
    }
}

/* `camera.NAME = URL [role=in|out|auto] [fps=N] [enabled=true|false]`: one seeded camera; the same
 * NAME again replaces it (the last line wins, as for every key). */
static att_err set_camera(struct att_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl >= CFG_CAMERA_NAME_MAX ||
        strspn(name,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789._-") != nl) {
        snprintf(err, errlen, "camera.%.80s: the name must be 1-%d of A-Z a-z 0-9 . _ -", name,
                 CFG_CAMERA_NAME_MAX - 1);
        return ATT_E_CONFIG;
    }
    struct cfg_camera c = {.role = "auto", .fps = 6.0, .enabled = true}; /* the camera API's defaults */
    snprintf(c.name, sizeof c.name, "%s", name);
    char buf[CFG_LINE_MAX + 1];
    snprintf(buf, sizeof buf, "%s", value);
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        char *end;
        if (c.url[0] == '\0') {
            if (strlen(w) >= sizeof c.url) {
                snprintf(err, errlen, "camera.%s: URL too long", name);
                return ATT_E_CONFIG;
            }
            snprintf(c.url, sizeof c.url, "%s", w); /* never echoed: it may hold a password */
        } else if (!strncmp(w, "role=", 5) &&
                   (!strcmp(w + 5, "in") || !strcmp(w + 5, "out") || !strcmp(w + 5, "auto"))) {
            snprintf(c.role, sizeof c.role, "%s", w + 5);
        } else if (!strncmp(w, "fps=", 4) && (c.fps = strtod(w + 4, &end), end != w + 4 && *end == '\0') &&
                   c.fps >= 0.5 && c.fps <= 30) {
            continue;
        } else if (!strcmp(w, "enabled=true") || !strcmp(w, "enabled=false")) {
            c.enabled = w[8] == 't';
        } else {
            snprintf(err, errlen, "camera.%s: '%.40s' is not role=in|out|auto, fps=0.5..30 or enabled=true|false", name,
                     w);
            return ATT_E_CONFIG;
        }
    }
    if (c.url[0] == '\0') {
        snprintf(err, errlen, "camera.%s: a URL is required", name);
        return ATT_E_CONFIG;
    }
    int i = 0;
    while (i < cfg->n_cameras && strcmp(cfg->cameras[i].name, name) != 0) i++;
    if (i == CFG_CAMERAS_MAX) {
        snprintf(err, errlen, "camera.%s: more than %d cameras", name, CFG_CAMERAS_MAX);
        return ATT_E_CONFIG;
    }
    cfg->cameras[i] = c;
    if (i == cfg->n_cameras) cfg->n_cameras++;
    return ATT_OK;
}

att_err cfg_set(struct att_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(key, "camera.", 7) == 0) return set_camera(cfg, key + 7, value, err, errlen);
    const struct key_def *k = find_key(key);
    if (!k) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return ATT_E_CONFIG;
    }
    return set_value(cfg, k, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* One line (NUL-terminated, newline removed) of a config text; lineno and name label the error. */
static att_err parse_line(struct att_config *cfg, char *line, const char *name, int lineno, char *err, size_t errlen)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#') return ATT_OK;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s:%d: expected 'key = value'", name, lineno);
        return ATT_E_CONFIG;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t vl = strlen(value);
    /* optional double quotes keep leading/trailing spaces and '#' */
    if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
        value[vl - 1] = '\0';
        value++;
    }
    if (*key == '\0') {
        snprintf(err, errlen, "%s:%d: empty key", name, lineno);
        return ATT_E_CONFIG;
    }
    char kerr[512];
    if (cfg_set(cfg, key, value, kerr, sizeof kerr) != ATT_OK) {
        snprintf(err, errlen, "%s:%d: %s", name, lineno, kerr);
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}

att_err cfg_load_buffer(struct att_config *cfg, const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
    char line[CFG_LINE_MAX + 1];
    int lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        if (n > CFG_LINE_MAX) {
            snprintf(err, errlen, "%s:%d: line too long (max %d bytes)", name, lineno, CFG_LINE_MAX);
            return ATT_E_CONFIG;
        }
        if (memchr(buf + pos, '\0', n)) { /* a binary file, not text: nothing after the NUL would be seen */
            snprintf(err, errlen, "%s:%d: NUL byte in the line", name, lineno);
            return ATT_E_CONFIG;
        }
        memcpy(line, buf + pos, n);
        line[n] = '\0';
        att_err rc = parse_line(cfg, line, name, lineno, err, errlen);
        if (rc != ATT_OK) return rc;
        pos += n + (nl != NULL);
    }
    return ATT_OK;
}

att_err cfg_load_file(struct att_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_CONFIG;
    }
    /* read it whole (bounded), then parse the text like any other buffer */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    att_err rc = ATT_OK;
    for (;;) {
        if (len == cap) {
            if (cap > CFG_FILE_MAX) { /* one byte past the limit was read */
                snprintf(err, errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
                rc = ATT_E_CONFIG;
                break;
            }
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > (size_t)CFG_FILE_MAX + 1) ncap = (size_t)CFG_FILE_MAX + 1;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = ATT_E_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (rc == ATT_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = ATT_E_CONFIG;
    }
    fclose(f);
    if (rc == ATT_OK) rc = cfg_load_buffer(cfg, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

att_err cfg_apply_env(struct att_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char var[96] = "ATTENDD_";
        size_t p = strlen(var);
        for (const char *c = keys[i].name; *c && p < sizeof var - 1; c++) var[p++] = (char)toupper((unsigned char)*c);
        var[p] = '\0';
        const char *v = getenv(var);
        if (!v) continue;
        char kerr[512];
        if (set_value(cfg, &keys[i], v, kerr, sizeof kerr) != ATT_OK) {
            snprintf(err, errlen, "environment %s: %s", var, kerr);
            return ATT_E_CONFIG;
        }
    }
    return ATT_OK;
}

static bool is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strcmp(addr, "localhost") == 0;
}

att_err cfg_validate(const struct att_config *cfg, char *err, size_t errlen)
{
    if (cfg->track_agree_k > cfg->track_window_m) {
        snprintf(err, errlen, "track_agree_k (%d) must not exceed track_window_m (%d)", cfg->track_agree_k,
                 cfg->track_window_m);
        return ATT_E_CONFIG;
    }
    if ((long)cfg->cooldown_s > (long)cfg->max_shift_h * 3600) {
        snprintf(err, errlen, "cooldown_s (%d) must not exceed max_shift_h (%d h)", cfg->cooldown_s, cfg->max_shift_h);
        return ATT_E_CONFIG;
    }
    struct cidr_list allow;
    char why[200];
    if (cidr_list_parse(cfg->camera_allow, &allow, why, sizeof why) != ATT_OK) {
        snprintf(err, errlen, "camera_allow: %s", why);
        return ATT_E_CONFIG;
    }
    int cutoff;
    if (!att_time_hhmm_parse(cfg->day_cutoff, &cutoff)) {
        snprintf(err, errlen, "day_cutoff: '%s' is not a local time HH:MM (00:00 to 23:59)", cfg->day_cutoff);
        return ATT_E_CONFIG;
    }
    att_tz *tz = NULL;
    if (att_tz_load(cfg->timezone, NULL, &tz) != ATT_OK) {
        snprintf(err, errlen, "timezone: '%s' is not a zone of the tz database (/usr/share/zoneinfo; package tzdata)",
                 cfg->timezone);
        return ATT_E_CONFIG;
    }
    att_tz_free(tz);
    if (strcmp(cfg->retention_events_action, "deidentify") != 0 &&
        strcmp(cfg->retention_events_action, "delete") != 0) {
        snprintf(err, errlen, "retention_events_action: '%s' must be deidentify or delete",
                 cfg->retention_events_action);
        return ATT_E_CONFIG;
    }
    /* HTTPS needs both halves; one alone is a mistake, not a reason to fall back to plain HTTP */
    if ((cfg->tls_cert_file[0] != '\0') != (cfg->tls_key_file[0] != '\0')) {
        snprintf(err, errlen, "%s is set but %s is not: HTTPS needs both (or neither, for plain HTTP)",
                 cfg->tls_cert_file[0] ? "tls_cert_file" : "tls_key_file",
                 cfg->tls_cert_file[0] ? "tls_key_file" : "tls_cert_file");
        return ATT_E_CONFIG;
    }
    bool tls = cfg->tls_cert_file[0] != '\0';
    if (!tls && !is_loopback(cfg->listen_address) && !cfg->allow_remote_http) {
        snprintf(err, errlen,
                 "listen_address %s is not loopback: plain HTTP there needs allow_remote_http = true "
                 "(or set tls_cert_file and tls_key_file for HTTPS)",
                 cfg->listen_address);
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}

size_t cfg_key_count(void) { return NKEYS; }
const char *cfg_key_name(size_t i) { return i < NKEYS ? keys[i].name : NULL; }
const char *cfg_key_help(size_t i) { return i < NKEYS ? keys[i].help : NULL; }
const char *cfg_key_default(size_t i) { return i < NKEYS ? keys[i].dflt : NULL; }

bool cfg_key_range(size_t i, double *min, double *max, bool *integer)
{
    if (i >= NKEYS) return false;
    const struct key_def *k = &keys[i];
    if (k->type != K_INT && k->type != K_LONG && k->type != K_DOUBLE) return false;
    *min = k->min;
    *max = k->max;
    *integer = k->type != K_DOUBLE;
    return true;
}

void cfg_key_value(const struct att_config *cfg, size_t i, char *buf, size_t len)
{
    if (i >= NKEYS) {
        snprintf(buf, len, "?");
        return;
    }
    const struct key_def *k = &keys[i];
    const char *field = (const char *)cfg + k->off;
    switch (k->type) {
    case K_STR: snprintf(buf, len, "%s", field); break;
    case K_INT: snprintf(buf, len, "%d", *(const int *)field); break;
    case K_LONG: snprintf(buf, len, "%ld", *(const long *)field); break;
    case K_BOOL: snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false"); break;
    case K_LEVEL: snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)field)); break;
    case K_DOUBLE: snprintf(buf, len, "%g", *(const double *)field); break;
    }
}
