/* Daemon configuration: `key = value` file, ATTENDD_<KEY> environment overrides, typed and
 * range-checked through one table of keys (src/util/config.c). docs/configuration.md lists every key. */
#ifndef ATTENDD_CONFIG_H
#define ATTENDD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CFG_PATH_MAX 512
#define CFG_STR_MAX 1024
/* camera_allow's default: loopback and the private ranges (RFC 1918, IPv6 unique local) */
#define CFG_CAMERA_ALLOW_DEFAULT "127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7"
#define CFG_CAMERAS_MAX 32 /* camera.NAME lines in one configuration */
#define CFG_CAMERA_NAME_MAX 65

struct att_config {
    /* http */
    char listen_address[64];          /* IPv4/IPv6 literal to bind; default 127.0.0.1 */
    int port;                         /* TCP port; 0 = pick a free one (tests) */
    int http_threads;                 /* libmicrohttpd thread pool size */
    int max_connections;              /* concurrent connections accepted */
    int max_connections_per_ip;       /* from one client address; 0 = no limit */
    int connection_timeout_s;         /* idle connection timeout */
    int body_deadline_s;              /* a request body must be in this long after its headers */
    long max_body_bytes;              /* request bodies above this get 413 */
    bool allow_remote_http;           /* plain HTTP on a non-loopback address only if true */
    char tls_cert_file[CFG_PATH_MAX]; /* PEM certificate chain: HTTPS when set (with tls_key_file) */
    char tls_key_file[CFG_PATH_MAX];  /* PEM private key, not group/other readable */
    int auth_fail_limit;              /* failed authentications from one address before 429; 0 = off */
    int auth_fail_window_s;           /* ... within this many seconds; the lock-out lasts as long */
    int sse_max_streams;              /* concurrent SSE feeds; more get 503 */
    int sse_max_streams_per_token;    /* concurrent SSE feeds of one token; more get 503 */
    int sse_ping_s;                   /* SSE heartbeat interval, seconds */
    /* console sign-in */
    int console_session_idle_s;   /* a session unused this long ends */
    int console_session_max_s;    /* a session ends this long after sign-in */
    int console_lockout_failures; /* consecutive failed sign-ins that lock an account */
    int console_lockout_s;        /* how long a locked account stays locked */
    /* database */
    char database_url[CFG_STR_MAX]; /* libpq conninfo or URI; empty = not configured */
    int db_pool_size;               /* connections kept open */
    int db_statement_timeout_ms;    /* statement_timeout of the daemon's pooled sessions (0 = server default) */
    /* files */
    char models_dir[CFG_PATH_MAX];        /* directory with fr_*.onnx */
    char template_key_file[CFG_PATH_MAX]; /* 32-byte template encryption key (0600) */
    char token_key_file[CFG_PATH_MAX];    /* 32-byte key for API token hashes (0600) */
    char state_dir[CFG_PATH_MAX];         /* spool and other local state */
    /* process */
    enum log_level log_level;
    int shutdown_timeout_s;  /* bound on a graceful stop */
    int watchdog_interval_s; /* 0 = from WATCHDOG_USEC, else this */
    /* vision and enrolment */
    int vision_workers;       /* pipelines shared by API requests */
    int vision_queue;         /* enrolments and identifications accepted at once (running or waiting) */
    int test_vision_delay_ms; /* test hook: every API vision job waits this long first (0 in production) */
    double match_threshold;   /* cosine similarity for a match */
    long max_image_pixels;    /* header-declared pixel limit, checked before decoding */
    int enrol_min_face_px;    /* enrolment policy (src/gallery/enrol.c) */
    double enrol_min_sharpness;
    double enrol_max_yaw_deg; /* pose limits, degrees */
    double enrol_max_pitch_deg;
    double enrol_min_liveness;
    int max_templates_per_person; /* enrolment: templates per person */
    /* analysis pipeline (src/attendance/pipeline.c) */
    int analysis_workers;         /* detection/recognition threads; 0 = one per online core */
    int detect_min_face_px;       /* smallest face searched for, px; 0 = whole-frame pass only */
    int analysis_idle_ms;         /* a camera with no undecided track: analyse a frame at most this often */
    double track_match_threshold; /* per-frame similarity inside a track (agreement adds evidence) */
    int track_agree_k;            /* a track decides when agree_k of ... */
    int track_window_m;           /* ... its last window_m recognitions agree */
    bool track_confirm;           /* a track's decision is confirmed by the confirming model (its file
                                     in models_dir is required then) */
    int cooldown_s;               /* one punch per person per this many seconds */
    int max_shift_h;              /* an open clock-in older than this no longer counts */
    /* attendance report (src/http/attendance.c, docs/reports.md) */
    char timezone[64];                 /* IANA zone of the hospital's wall clock; default UTC */
    char day_cutoff[8];                /* "HH:MM": local time where one work day ends and the next begins */
    int report_max_days;               /* longest from..to range of one report */
    char payroll_columns[CFG_STR_MAX]; /* pay-code columns of the payroll export (attendd/payroll.h) */
    /* several instances on one database (src/cluster, docs/scale-out.md) */
    bool cluster;            /* share cameras (leases), the gallery and punch decisions with other instances */
    char instance_name[201]; /* shown by GET /api/v1/instances; "" = the host name */
    int instance_capacity;   /* cameras this instance processes at most */
    int lease_timeout_s;     /* a camera whose holder stopped heartbeating moves after this long */
    /* cameras */
    char camera_allow[CFG_STR_MAX]; /* CIDR ranges camera URLs may reach (capture checks every address) */
    /* privacy: kiosks and retention (src/punch/kiosk.c, src/roster/retention.c) */
    int kiosk_pin_max_failures;        /* wrong PINs in a row before the PIN is locked */
    int kiosk_attempts_per_min;        /* punch attempts per kiosk token per minute */
    int kiosk_person_attempts_per_min; /* punch attempts per employee number or badge per minute */
    int retention_templates_days;      /* templates of people inactive this long are destroyed */
    int retention_events_years;        /* events older than this are de-identified or deleted; 0 = kept */
    char retention_events_action[16];  /* "deidentify" or "delete" */
    int retention_audit_years;         /* audit rows older than this are pruned */
    int retention_hour_utc;            /* the daily retention run's hour, UTC */
    /* cameras seeded from `camera.NAME = URL [role=…] [fps=…] [enabled=…]` lines (src/main.c applies
     * them to the database at start and on SIGHUP; docs/operations.md "Reload") */
    int n_cameras;
    struct cfg_camera {
        char name[CFG_CAMERA_NAME_MAX]; /* [A-Za-z0-9._-]{1,64} */
        char url[CFG_STR_MAX];          /* as the camera API takes it (no spaces) */
        char role[8];                   /* "in", "out" or "auto" */
        double fps;                     /* analysis_fps */
        bool enabled;
    } cameras[CFG_CAMERAS_MAX];
};

/* Fill with built-in defaults. */
void cfg_defaults(struct att_config *cfg);

/* Set one key from its text value. On failure returns ATT_E_CONFIG and writes a message naming
 * the key into err. */
att_err cfg_set(struct att_config *cfg, const char *key, const char *value, char *err, size_t errlen);

#define CFG_LINE_MAX 4094      /* bytes of one config line, newline excluded */
#define CFG_FILE_MAX (1 << 20) /* a config file larger than this is refused */

/* Read a `key = value` file (# comments, blank lines). On failure err names the file and line. */
att_err cfg_load_file(struct att_config *cfg, const char *path, char *err, size_t errlen);
/* The same on text in memory (cfg_load_file reads the file and calls this); name labels the errors
 * ("name:line: ..."). A line longer than CFG_LINE_MAX or holding a NUL byte is an error. */
att_err cfg_load_buffer(struct att_config *cfg, const char *name, const char *buf, size_t len, char *err,
                        size_t errlen);

/* Apply ATTENDD_<KEY> environment variables (key upper-cased). */
att_err cfg_apply_env(struct att_config *cfg, char *err, size_t errlen);

/* Cross-key checks (e.g. remote plain HTTP). */
att_err cfg_validate(const struct att_config *cfg, char *err, size_t errlen);

/* Iterate key names and current values as text (for --help / docs / diagnostics).
 * Returns the number of keys; fills name/value for index i < count. */
size_t cfg_key_count(void);
const char *cfg_key_name(size_t i);
const char *cfg_key_help(size_t i);
/* The built-in default as text ("" when there is none) and, for numeric keys, the accepted range
 * (false for strings, booleans and levels). tests/unit/test_docs.c checks docs/configuration.md with them. */
const char *cfg_key_default(size_t i);
bool cfg_key_range(size_t i, double *min, double *max, bool *integer);
void cfg_key_value(const struct att_config *cfg, size_t i, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
