/* The registry of named prepared statements: every connection prepares all of them once, and
 * store code runs them by name only. Modules add their statements here, in their own section. */
#include "src/store/statements.h"

#include <stdio.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"

/* Timestamps leave the database as RFC 3339 UTC text, so C never parses time zones.
 * ORDER BY names are table-qualified: a bare `id` would sort by the output column `id::text`. */
#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define TOKEN_COLS                                                              \
    "id::text, name, role::text, " RFC3339("created_at") ", coalesce(" RFC3339( \
        "last_used_at") ", ''), revoked_at IS NOT NULL, pseudonymous,"          \
                        " coalesce(array_to_json(departments)::text, '')"

/* Microseconds since the epoch, exact (extract() returns numeric): the keyset cursors carry it. */
#define EPOCH_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint::text"

/* the subject access export's row times */
#define EXPORT_CREATED_AT RFC3339("created_at")
#define EXPORT_RESOLVED_AT RFC3339("resolved_at")

/* struct person, in fill order (src/store/people.c); the last column feeds the cursor */
#define PERSON_COLS                                                                                            \
    "id::text, coalesce(employee_no, ''), coalesce(name, ''), coalesce(department, ''),"                       \
    " coalesce(title, ''), active, " RFC3339("created_at") ", " RFC3339(                                       \
        "updated_at") ","                                                                                      \
                      " erased_at IS NOT NULL, " EPOCH_US(                                                     \
                          "created_at") ", consent::text,"                                                     \
                                        " coalesce(" RFC3339("consent_at") ", ''),"                            \
                                                                           " biometric, pin_hash IS NOT NULL," \
                                                                           " coalesce(badge_id, '')"

/* struct camera_row, in fill order (src/store/cameras.c); url is the full URL (credentials too) */
/* struct event_row, in fill order (src/store/events.c); column 10 feeds the cursor */
#define EVENT_COLS                                                                                        \
    "e.id::text, e.person_id::text, p.employee_no, p.name, e.camera_id::text, e.kind::text,"              \
    " to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), e.similarity::text,"         \
    " e.liveness::text, e.source::text, " EPOCH_US("e.ts") ", e.reason, e.created_by, p.pseudonym::text," \
                                                           " e.seq::text, " RFC3339("e.voided_at")

#define CAMERA_COLS                                                                           \
    "id::text, name, url, role::text, analysis_fps::text, enabled, roi_x::text, roi_y::text," \
    " roi_w::text, roi_h::text, " RFC3339("created_at") ", " RFC3339("updated_at")

/* struct shift_row / schedule_row, in fill order (src/store/shifts.c) */
#define SHIFT_COLS                                                                                        \
    "id::text, name, to_char(start_time, 'HH24:MI'), to_char(end_time, 'HH24:MI'), grace_late_min::text," \
    " grace_early_min::text, break_min::text, " RFC3339("created_at") ", " RFC3339(                       \
        "updated_at") ", round_min::text, round_favour, break_punched::text"
#define SCHEDULE_COLS                                                                              \
    "id::text, shift_id::text, coalesce(department, ''), coalesce(person_id::text, ''),"           \
    " to_char(valid_from, 'YYYY-MM-DD'), coalesce(to_char(valid_to, 'YYYY-MM-DD'), ''), " RFC3339( \
        "created_at") ", " RFC3339("updated_at")

/* struct console_user, in fill order (src/store/console.c) */
#define CONSOLE_USER_COLS                                                                                     \
    "u.id::text, u.username, u.display_name, u.role::text, coalesce(array_to_json(u.departments)::text, '')," \
    " u.totp_secret IS NOT NULL, u.disabled_at IS NOT NULL, " RFC3339("u.created_at")

const struct db_statement db_statements[] = {
    /* ---- api tokens (src/store/tokens.c) ---- */
    {"token_insert",
     "INSERT INTO api_tokens (name, role, hash, created_by, pseudonymous, departments) "
     "VALUES ($1::text, $2::token_role, $3::bytea, $4::uuid, coalesce($5::boolean, false),"
     " (SELECT array_agg(d) FROM jsonb_array_elements_text($6::jsonb) d)) RETURNING id::text",
     6},
    {"token_lookup", "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = $1::bytea AND revoked_at IS NULL", 1},
    {"token_list", "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY api_tokens.created_at DESC, api_tokens.id DESC", 0},
    {"token_revoke", "UPDATE api_tokens SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL", 1},
    /* at most one write a minute per token: a busy client must not turn every request into an UPDATE */
    {"token_touch",
     "UPDATE api_tokens SET last_used_at = now() WHERE id = $1::uuid "
     "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
     1},

    /* ---- roster (src/store/people.c) ---- */
    {"person_insert",
     "INSERT INTO people (employee_no, name, department, title, active) "
     "VALUES ($1::text, $2::text, $3::text, $4::text, $5::boolean) RETURNING id::text",
     5},
    {"person_get", "SELECT " PERSON_COLS " FROM people WHERE id = $1::uuid AND erased_at IS NULL", 1},
    /* $2 is a LIKE pattern body with \\ % _ already escaped by the caller; $4/$5 the keyset position */
    {"person_list",
     "SELECT " PERSON_COLS " FROM people WHERE erased_at IS NULL"
     " AND ($1::text IS NULL OR department = $1::text)"
     " AND ($2::text IS NULL OR name ILIKE '%' || $2::text || '%' OR employee_no ILIKE '%' || $2::text || '%')"
     " AND ($3::boolean IS NULL OR active = $3::boolean)"
     " AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))"
     " AND ($7::jsonb IS NULL OR department IN (SELECT jsonb_array_elements_text($7::jsonb)))"
     " ORDER BY people.created_at, people.id LIMIT $6::integer",
     7},
    /* department/title: $4/$6 say whether to set them (possibly to NULL) */
    {"person_update",
     "UPDATE people SET employee_no = coalesce($2::text, employee_no), name = coalesce($3::text, name),"
     " department = CASE WHEN $4::boolean THEN $5::text ELSE department END,"
     " title = CASE WHEN $6::boolean THEN $7::text ELSE title END,"
     " active = coalesce($8::boolean, active), biometric = coalesce($9::boolean, biometric),"
     " badge_id = CASE WHEN $10::boolean THEN $11::text ELSE badge_id END"
     " WHERE id = $1::uuid AND erased_at IS NULL RETURNING " PERSON_COLS,
     11},
    /* erasure: tombstone first (row lock: a concurrent face insert waits, then sees it erased), then the faces */
    {"person_erase",
     "UPDATE people SET employee_no = NULL, name = NULL, department = NULL, title = NULL, active = false,"
     " pin_hash = NULL, badge_id = NULL, erased_at = now() WHERE id = $1::uuid AND erased_at IS NULL RETURNING "
     "id::text",
     1},
    {"person_erase_faces", "DELETE FROM faces WHERE person_id = $1::uuid", 1},
    /* a look-alike score is derived from the person's face: it goes with the templates */
    {"person_erase_lookalikes", "DELETE FROM person_lookalikes WHERE person_a = $1::uuid OR person_b = $1::uuid", 1},

    /* ---- faces (src/store/faces.c) ---- */
    /* FOR SHARE on the person: an erasure in progress blocks this insert until it commits, after
     * which the re-checked row no longer qualifies and nothing is inserted */
    {"face_insert",
     "INSERT INTO faces (id, person_id, model_id, key_id, template, quality) "
     "SELECT $2::uuid, p.id, $3::text, $4::bigint, $5::bytea, coalesce($6::jsonb, '{}'::jsonb) "
     "FROM people p WHERE p.id = $1::uuid AND p.erased_at IS NULL AND p.consent = 'given' AND p.biometric"
     " FOR SHARE OF p",
     6},
    /* why face_insert inserted nothing: no row (no such person), or the person's consent and method */
    {"face_insert_refusal", "SELECT consent::text, biometric FROM people WHERE id = $1::uuid AND erased_at IS NULL", 1},
    /* one row with NULL face columns: the person exists but has no face; no row: no such person */
    {"face_list",
     "SELECT f.id::text, f.model_id, " RFC3339(
         "f.created_at") ", f.quality::text FROM people p"
                         " LEFT JOIN faces f ON f.person_id = p.id WHERE p.id = $1::uuid AND p.erased_at IS NULL"
                         " ORDER BY f.created_at, f.id",
     1},
    {"face_delete", "DELETE FROM faces WHERE id = $2::uuid AND person_id = $1::uuid", 2},
    /* the confirming template of a face just inserted, under the row's own key */
    {"face_set_confirm",
     "UPDATE faces SET confirm_model_id = $3::text, confirm_template = $4::bytea"
     " WHERE id = $2::uuid AND person_id = $1::uuid AND key_id = $5::bigint",
     5},
    {"faces_count", "SELECT count(*) FROM faces f JOIN people p ON p.id = f.person_id WHERE p.erased_at IS NULL", 0},
    /* binary results (template as raw bytes): every other column is cast to text, whose binary form is its bytes */
    {"faces_load",
     "SELECT p.id::text, p.active::text, coalesce(p.employee_no, ''), coalesce(p.name, ''), f.id::text,"
     " f.model_id, f.key_id::text, f.template, f.confirm_model_id, f.confirm_template"
     " FROM faces f JOIN people p ON p.id = f.person_id"
     " WHERE p.erased_at IS NULL AND p.consent = 'given' AND p.biometric ORDER BY p.id, f.created_at, f.id",
     0},
    {"faces_load_person",
     "SELECT p.id::text, p.active::text, coalesce(p.employee_no, ''), coalesce(p.name, ''), f.id::text,"
     " f.model_id, f.key_id::text, f.template, f.confirm_model_id, f.confirm_template"
     " FROM faces f JOIN people p ON p.id = f.person_id"
     " WHERE p.erased_at IS NULL AND p.id = $1::uuid ORDER BY f.created_at, f.id",
     1},
    /* key rotation: the next batch of rows not yet under the new key ($1); run under a table lock */
    {"faces_rekey_batch",
     "SELECT id::text, person_id::text, model_id, key_id::text, template, confirm_model_id, confirm_template FROM faces"
     " WHERE key_id <> $1::bigint ORDER BY faces.id LIMIT $2::integer FOR UPDATE",
     2},
    {"faces_total", "SELECT count(*) FROM faces", 0},
    {"faces_rekey_update",
     "UPDATE faces SET template = $2::bytea, key_id = $3::bigint, confirm_template = $4::bytea WHERE id = $1::uuid", 4},

    /* ---- console accounts and sessions (src/store/console.c) ---- */
    {"console_user_insert",
     "INSERT INTO console_users (username, display_name, role, departments, password_hash, totp_secret)"
     " VALUES ($1::text, $2::text, $3::console_role,"
     " (SELECT array_agg(d) FROM jsonb_array_elements_text($4::jsonb) d), $5::text, $6::bytea) RETURNING id::text",
     6},
    {"console_user_set_totp",
     "UPDATE console_users SET totp_secret = $2::bytea, totp_last_step = NULL, updated_at = now()"
     " WHERE username = $1::text RETURNING id::text",
     2},
    {"console_user_set_password",
     "UPDATE console_users SET password_hash = $2::text, failed_logins = 0, locked_until = NULL, updated_at = now()"
     " WHERE username = $1::text RETURNING id::text",
     2},
    {"console_user_list", "SELECT " CONSOLE_USER_COLS " FROM console_users u ORDER BY u.username", 0},
    /* an account by id, and disabling one: its sessions end in the same statement */
    {"console_user_get", "SELECT " CONSOLE_USER_COLS " FROM console_users u WHERE u.id = $1::uuid", 1},
    {"console_user_disable",
     "WITH u AS (UPDATE console_users SET disabled_at = now(), updated_at = now()"
     " WHERE id = $1::uuid AND disabled_at IS NULL RETURNING *),"
     " s AS (UPDATE console_sessions SET ended_at = now() WHERE user_id IN (SELECT id FROM u) AND ended_at IS NULL)"
     " SELECT " CONSOLE_USER_COLS " FROM u",
     1},
    /* the row stays locked until the sign-in's transaction ends: guesses at one account queue */
    {"console_login_get",
     "SELECT " CONSOLE_USER_COLS ", u.password_hash, u.totp_secret, coalesce(u.totp_last_step, -1)::text,"
     " coalesce(ceil(extract(epoch FROM u.locked_until - now())), 0)::integer::text"
     " FROM console_users u WHERE u.username = $1::text FOR UPDATE",
     1},
    {"console_login_failed",
     "UPDATE console_users SET failed_logins = CASE WHEN failed_logins + 1 >= $2::integer THEN 0"
     " ELSE failed_logins + 1 END,"
     " locked_until = CASE WHEN failed_logins + 1 >= $2::integer THEN now() + $3::integer * interval '1 second'"
     " ELSE locked_until END WHERE id = $1::uuid RETURNING (failed_logins = 0)::text",
     3},
    {"console_login_ok",
     "UPDATE console_users SET failed_logins = 0, locked_until = NULL,"
     " totp_last_step = CASE WHEN $2::bigint >= 0 THEN $2::bigint ELSE totp_last_step END WHERE id = $1::uuid",
     2},
    {"console_session_insert",
     /* clock_timestamp(): the session starts now, not when its transaction (and the password hash) began */
     "INSERT INTO console_sessions (user_id, hash, created_at, last_seen_at)"
     " VALUES ($1::uuid, $2::bytea, clock_timestamp(), clock_timestamp()) RETURNING id::text",
     2},
    {"console_session_lookup",
     "SELECT s.id::text, " CONSOLE_USER_COLS " FROM console_sessions s JOIN console_users u ON u.id = s.user_id"
     " WHERE s.hash = $1::bytea AND s.ended_at IS NULL AND u.disabled_at IS NULL"
     " AND s.last_seen_at > now() - $2::integer * interval '1 second'"
     " AND s.created_at > now() - $3::integer * interval '1 second'",
     3},
    /* a busy console (polling, several tabs) writes its last use at most every $2 ms */
    {"console_session_touch",
     "UPDATE console_sessions SET last_seen_at = now() WHERE id = $1::uuid"
     " AND last_seen_at < now() - $2::integer * interval '1 millisecond'",
     2},
    {"console_session_end", "UPDATE console_sessions SET ended_at = now() WHERE id = $1::uuid AND ended_at IS NULL", 1},
    /* an open event stream's session still stands (a deleted account's sessions are gone with it) */
    {"console_session_open",
     "SELECT 1 FROM console_sessions s JOIN console_users u ON u.id = s.user_id"
     " WHERE s.id = $1::uuid AND s.ended_at IS NULL AND u.disabled_at IS NULL",
     1},

    /* ---- audit log (src/store/audit.c) ---- */
    {"audit_insert",
     "INSERT INTO audit_log (token_id, actor, action, target_type, target_id, outcome, detail) "
     "VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb)",
     7},
    /* newest first; $1 action or dotted prefix, $4/$5 the keyset position */
    {"audit_list",
     "SELECT id::text, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), token_id::text, actor,"
     " action, target_type, target_id, outcome, detail::text, " EPOCH_US(
         "ts") " FROM audit_log"
               " WHERE ($1::text IS NULL OR action = $1::text OR starts_with(action, $1::text || '.'))"
               " AND ($2::text IS NULL OR target_type = $2::text) AND ($3::text IS NULL OR target_id = $3::text)"
               " AND ($4::timestamptz IS NULL OR (ts, id) < ($4::timestamptz, $5::bigint))"
               " ORDER BY audit_log.ts DESC, audit_log.id DESC LIMIT $6::integer",
     6},

    /* ---- the consent register (src/store/consent.c) ---- */
    {"consent_text_insert",
     "INSERT INTO consent_texts (version, language, body, created_by)"
     " SELECT coalesce(max(version), 0) + 1, $1::text, $2::text, $3::text FROM consent_texts"
     " RETURNING version::text, language, body, " RFC3339("created_at") ", created_by",
     3},
    {"consent_text_list",
     "SELECT version::text, language, body, " RFC3339("created_at") ", created_by FROM consent_texts"
                                                                    " ORDER BY consent_texts.version",
     0},
    {"consent_text_get",
     "SELECT version::text, language, body, " RFC3339("created_at") ", created_by FROM consent_texts"
                                                                    " WHERE version = $1::integer",
     1},
    /* the state (row-locked: a face insert waiting on it re-checks consent after the commit);
     * given turns biometric on, withdrawn turns it off */
    {"consent_set",
     "UPDATE people SET consent = $2::consent_state, consent_at = now(),"
     " biometric = ($2::consent_state = 'given') WHERE id = $1::uuid AND erased_at IS NULL RETURNING id::text",
     2},
    {"consent_record_insert",
     "INSERT INTO consent_records (person_id, state, text_version, token_id, actor)"
     " VALUES ($1::uuid, $2::consent_state, $3::integer, $4::uuid, $5::text) RETURNING id::text",
     5},
    {"consent_history",
     "SELECT r.state::text, coalesce(r.text_version::text, ''), coalesce(r.token_id::text, ''), r.actor,"
     " to_char(r.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
     " FROM consent_records r JOIN people p ON p.id = r.person_id"
     " WHERE r.person_id = $1::uuid AND p.erased_at IS NULL ORDER BY r.recorded_at, r.id",
     1},

    /* ---- kiosks (src/store/kiosk.c) ---- */
    {"kiosk_pin_set",
     "UPDATE people SET pin_hash = $2::text, pin_failures = 0, pin_locked_at = NULL"
     " WHERE id = $1::uuid AND erased_at IS NULL RETURNING id::text",
     2},
    {"kiosk_person_by_employee_no",
     "SELECT id::text, coalesce(pin_hash, ''), pin_failures::text, pin_locked_at IS NOT NULL, active,"
     " coalesce(department, '') FROM people WHERE employee_no = $1::text AND erased_at IS NULL FOR UPDATE",
     1},
    {"kiosk_person_by_badge",
     "SELECT id::text, coalesce(pin_hash, ''), pin_failures::text, pin_locked_at IS NOT NULL, active,"
     " coalesce(department, '') FROM people WHERE badge_id = $1::text AND erased_at IS NULL FOR UPDATE",
     1},
    {"kiosk_pin_failed",
     "UPDATE people SET pin_failures = pin_failures + 1,"
     " pin_locked_at = CASE WHEN pin_failures + 1 >= $2::integer THEN coalesce(pin_locked_at, now()) ELSE NULL END"
     " WHERE id = $1::uuid RETURNING pin_failures::text, pin_locked_at IS NOT NULL",
     2},
    {"kiosk_pin_ok", "UPDATE people SET pin_failures = 0 WHERE id = $1::uuid AND pin_failures <> 0", 1},
    {"kiosk_punch_insert",
     "INSERT INTO events (id, person_id, camera_id, kind, ts, source, created_by)"
     " SELECT gen_random_uuid(), p.id, NULL, $2::event_kind, now(), 'kiosk', $3::text"
     " FROM people p WHERE p.id = $1::uuid AND p.erased_at IS NULL RETURNING id::text",
     3},

    /* ---- retention (src/roster/retention.c): $1 is "as of", µs since the epoch ---- */
    {"retention_templates",
     "DELETE FROM faces f USING people p WHERE p.id = f.person_id AND NOT p.active AND p.inactive_since IS NOT NULL"
     " AND p.inactive_since < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond' - $2::integer * interval '1 "
     "day'"
     " RETURNING f.id::text, f.person_id::text",
     2},
    {"retention_events_deidentify",
     "UPDATE events SET person_id = NULL, similarity = NULL, liveness = NULL,"
     " reason = CASE WHEN source = 'manual' THEN 'removed by retention' ELSE NULL END,"
     " created_by = CASE WHEN created_by IS NULL THEN NULL ELSE 'retention' END"
     " WHERE ts < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond' - $2::integer * interval '1 year'"
     " AND (person_id IS NOT NULL OR (source = 'manual' AND reason <> 'removed by retention'))",
     2},
    {"retention_events_delete",
     "DELETE FROM events WHERE ts < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'"
     " - $2::integer * interval '1 year'",
     2},
    /* the audit log lets the retention job (alone) delete rows older than this moment, never younger than a year */
    {"retention_audit_allow",
     "SELECT set_config('attendd.audit_prune_before', least('epoch'::timestamptz + $1::bigint * interval"
     " '1 microsecond' - $2::integer * interval '1 year', now() - interval '1 year')::text, true)",
     2},
    {"retention_audit_prune",
     "DELETE FROM audit_log WHERE ts < current_setting('attendd.audit_prune_before')::timestamptz", 0},
    /* a subject access export: the audit rows about one person (target, or named in the detail) */
    {"audit_about_person",
     "SELECT id::text, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), coalesce(token_id::text, "
     "''),"
     " actor, action, coalesce(target_type, ''), coalesce(target_id, ''), outcome, coalesce(detail::text, '')"
     " FROM audit_log WHERE (target_type = 'person' AND target_id = $1::text)"
     " OR (detail IS NOT NULL AND strpos(detail::text, $1::text) > 0) ORDER BY audit_log.ts, audit_log.id",
     1},
    {"retention_last",
     "SELECT coalesce(max(" EPOCH_US("ts") "::bigint), 0)::text FROM audit_log WHERE action = 'retention.run'"
                                           " AND outcome = 'ok'",
     0},

    /* ---- attendance events (src/store/events.c) ---- */
    /* idempotent on the daemon-made id; a person/camera without a row becomes NULL (as ON DELETE SET
     * NULL would have made it); ts from exact microseconds; RETURNING nothing means "already there" */
    {"event_insert",
     "INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source)"
     " SELECT $1::uuid, (SELECT p.id FROM people p WHERE p.id = $2::uuid),"
     " (SELECT c.id FROM cameras c WHERE c.id = $3::uuid), $4::event_kind,"
     " 'epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::real, $7::real, $8::event_source"
     " ON CONFLICT (id) DO NOTHING RETURNING events.person_id IS NULL, events.camera_id IS NULL",
     8},
    /* newest first; $5/$6 the keyset position; erased people have NULL employee_no and name */
    {"event_list",
     "SELECT " EVENT_COLS " FROM events e"
     " LEFT JOIN people p ON p.id = e.person_id WHERE e.voided_at IS NULL"
     " AND ($1::timestamptz IS NULL OR e.ts >= $1::timestamptz)"
     " AND ($2::timestamptz IS NULL OR e.ts < $2::timestamptz)"
     " AND ($3::uuid IS NULL OR e.person_id = $3::uuid) AND ($4::uuid IS NULL OR e.camera_id = $4::uuid)"
     " AND ($5::timestamptz IS NULL OR (e.ts, e.id) < ($5::timestamptz, $6::uuid))"
     " AND ($8::jsonb IS NULL OR p.department IN (SELECT jsonb_array_elements_text($8::jsonb)))"
     " ORDER BY e.ts DESC, e.id DESC LIMIT $7::integer",
     8},
    /* one event by id, voided or not (punches.c answers with it) */
    {"event_get", "SELECT " EVENT_COLS " FROM events e LEFT JOIN people p ON p.id = e.person_id WHERE e.id = $1::uuid",
     1},
    /* the SSE feed: live events committed after position $1, in commit order */
    {"event_since_seq",
     "SELECT " EVENT_COLS " FROM events e LEFT JOIN people p ON p.id = e.person_id"
     " WHERE e.seq > $1::bigint AND e.voided_at IS NULL"
     " AND ($3::jsonb IS NULL OR p.department IN (SELECT jsonb_array_elements_text($3::jsonb)))"
     " ORDER BY e.seq LIMIT $2::integer",
     3},
    /* one person's events, voided ones too, for a subject access export */
    {"event_of_person",
     "SELECT " EVENT_COLS " FROM events e LEFT JOIN people p ON p.id = e.person_id WHERE e.person_id = $1::uuid"
     " ORDER BY e.ts, e.id",
     1},
    {"event_max_seq", "SELECT coalesce(max(seq), 0)::text FROM events", 0},
    /* manual punches (src/store/punches.c): a person that is not erased, or no row */
    {"punch_insert",
     "INSERT INTO events (id, person_id, camera_id, kind, ts, source, reason, created_by)"
     " SELECT gen_random_uuid(), p.id, NULL, $2::event_kind,"
     " 'epoch'::timestamptz + $3::bigint * interval '1 microsecond', 'manual', $4::text, $5::text"
     " FROM people p WHERE p.id = $1::uuid AND p.erased_at IS NULL RETURNING id::text",
     5},
    {"punch_void",
     "UPDATE events SET voided_at = now() WHERE id = $1::uuid AND source = 'manual' AND voided_at IS NULL"
     " RETURNING person_id::text",
     1},
    {"event_state", "SELECT source::text, voided_at IS NOT NULL FROM events WHERE id = $1::uuid", 1},
    /* each person's latest punch since $1 (µs since the epoch), to seed the attendance rules */
    {"event_last_per_person",
     "SELECT DISTINCT ON (e.person_id) e.person_id::text, e.kind::text, " EPOCH_US(
         "e.ts") " FROM events e"
                 " WHERE e.person_id IS NOT NULL AND e.voided_at IS NULL"
                 " AND e.ts >= 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'"
                 " ORDER BY e.person_id, e.ts DESC, e.id DESC",
     1},

    /* ---- shifts, schedules and the attendance report (src/store/shifts.c) ---- */
    {"shift_insert",
     "INSERT INTO shifts (name, start_time, end_time, grace_late_min, grace_early_min, break_min)"
     " VALUES ($1::text, $2::time, $3::time, $4::integer, $5::integer, $6::integer) RETURNING " SHIFT_COLS,
     6},
    {"shift_get", "SELECT " SHIFT_COLS " FROM shifts WHERE id = $1::uuid", 1},
    {"shift_list", "SELECT " SHIFT_COLS " FROM shifts ORDER BY shifts.name, shifts.id", 0},
    {"shift_update",
     "UPDATE shifts SET name = coalesce($2::text, name), start_time = coalesce($3::time, start_time),"
     " end_time = coalesce($4::time, end_time), grace_late_min = coalesce($5::integer, grace_late_min),"
     " grace_early_min = coalesce($6::integer, grace_early_min), break_min = coalesce($7::integer, break_min),"
     " round_min = coalesce($8::integer, round_min), round_favour = coalesce($9::text, round_favour),"
     " break_punched = coalesce($10::boolean, break_punched)"
     " WHERE id = $1::uuid RETURNING " SHIFT_COLS,
     10},
    {"shift_delete", "DELETE FROM shifts WHERE id = $1::uuid RETURNING id::text", 1},
    {"shift_exists", "SELECT 1 FROM shifts WHERE id = $1::uuid", 1},
    {"schedule_person_exists", "SELECT 1 FROM people WHERE id = $1::uuid AND erased_at IS NULL", 1},
    {"schedule_insert",
     "INSERT INTO schedules (shift_id, department, person_id, valid_from, valid_to)"
     " VALUES ($1::uuid, $2::text, $3::uuid, $4::date, $5::date) RETURNING " SCHEDULE_COLS,
     5},
    {"schedule_get", "SELECT " SCHEDULE_COLS " FROM schedules WHERE id = $1::uuid", 1},
    {"schedule_list",
     "SELECT " SCHEDULE_COLS " FROM schedules WHERE ($1::text IS NULL OR department = $1::text)"
     " AND ($2::uuid IS NULL OR person_id = $2::uuid) ORDER BY schedules.valid_from, schedules.id",
     2},
    /* $4 says whether to set valid_to (possibly to NULL = open-ended) */
    {"schedule_update",
     "UPDATE schedules SET shift_id = coalesce($2::uuid, shift_id), valid_from = coalesce($3::date, valid_from),"
     " valid_to = CASE WHEN $4::boolean THEN $5::date ELSE valid_to END WHERE id = $1::uuid RETURNING " SCHEDULE_COLS,
     5},
    {"schedule_delete", "DELETE FROM schedules WHERE id = $1::uuid RETURNING id::text", 1},
    {"report_department_known",
     "SELECT EXISTS (SELECT 1 FROM people WHERE department = $1::text)"
     " OR EXISTS (SELECT 1 FROM schedules WHERE department = $1::text)",
     1},
    {"report_people",
     "SELECT id::text, employee_no, name, coalesce(department, '') FROM people WHERE erased_at IS NULL"
     " AND ($1::text IS NULL OR department = $1::text) AND ($2::uuid IS NULL OR id = $2::uuid)"
     " ORDER BY people.name, people.employee_no, people.id",
     2},
    /* dates as days since the epoch; an open end as '' */
    {"report_schedules",
     "SELECT coalesce(s.person_id::text, ''), s.department, (s.valid_from - date '1970-01-01')::text,"
     " coalesce((s.valid_to - date '1970-01-01')::text, ''), h.id::text, h.name,"
     " (extract(hour FROM h.start_time) * 60 + extract(minute FROM h.start_time))::integer::text,"
     " (extract(hour FROM h.end_time) * 60 + extract(minute FROM h.end_time))::integer::text,"
     " h.grace_late_min::text, h.grace_early_min::text, h.break_min::text"
     " FROM schedules s JOIN shifts h ON h.id = s.shift_id"
     " WHERE s.valid_from <= date '1970-01-01' + $2::integer"
     " AND (s.valid_to IS NULL OR s.valid_to >= date '1970-01-01' + $1::integer)",
     2},
    /* from people to their events: even the generic plan walks events_person_ts_idx per person
     * (the IN-subquery form scanned the whole window by ts: 86 ms instead of 27 ms for 1 of 8
     * departments of 1M events, bench/http.sh) */
    {"report_punches",
     "SELECT e.person_id::text, e.kind::text, " EPOCH_US(
         "e.ts") " FROM people p JOIN events e ON e.person_id = p.id"
                 " WHERE e.voided_at IS NULL"
                 " AND e.ts >= 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'"
                 " AND e.ts < 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
                 " AND ($4::uuid IS NULL OR p.id = $4::uuid)"
                 " AND ($3::text IS NULL OR p.department = $3::text)"
                 " ORDER BY e.person_id, e.ts, e.id",
     4},

    /* ---- rosters, holidays, leave, exceptions and pay periods (src/store/rosters.c): each write
     * returns its row as JSON text; a list returns a JSON array ---- */
    {"roster_pattern_refs",
     "SELECT CASE WHEN $1::uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people WHERE id = $1::uuid"
     " AND erased_at IS NULL) THEN 'person_id' WHEN EXISTS (SELECT 1 FROM jsonb_array_elements($2::jsonb) d,"
     " jsonb_array_elements_text(d) x WHERE NOT EXISTS (SELECT 1 FROM shifts WHERE id = x::uuid)) THEN 'cycle'"
     " ELSE '' END",
     2},
    {"roster_pattern_insert",
     "WITH r AS (INSERT INTO roster_patterns (department, person_id, kind, anchor_day, valid_from, valid_to, cycle)"
     " VALUES ($1::text, $2::uuid, $3::text, $4::date, $5::date, $6::date, $7::jsonb) RETURNING *)"
     " SELECT json_build_object('id', id, 'department', department, 'person_id', person_id, 'kind', kind,"
     " 'anchor', anchor_day, 'valid_from', valid_from, 'valid_to', valid_to, 'cycle', cycle)::text FROM r",
     7},
    {"roster_pattern_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'department', department, 'person_id', person_id,"
     " 'kind', kind, 'anchor', anchor_day, 'valid_from', valid_from, 'valid_to', valid_to, 'cycle', cycle)"
     " ORDER BY valid_from, id), '[]')::text FROM roster_patterns"
     " WHERE ($1::text IS NULL OR department = $1::text) AND ($2::uuid IS NULL OR person_id = $2::uuid)",
     2},
    {"roster_pattern_delete",
     "WITH r AS (DELETE FROM roster_patterns WHERE id = $1::uuid RETURNING id)"
     " SELECT json_build_object('id', id)::text FROM r",
     1},
    {"roster_override_refs",
     "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM people WHERE id = $1::uuid AND erased_at IS NULL) THEN 'person_id'"
     " WHEN EXISTS (SELECT 1 FROM jsonb_array_elements_text($2::jsonb) x WHERE NOT EXISTS"
     " (SELECT 1 FROM shifts WHERE id = x::uuid)) THEN 'shift_ids' ELSE '' END",
     2},
    {"roster_override_insert",
     "WITH r AS (INSERT INTO roster_overrides (person_id, day, shift_ids, reason) VALUES ($1::uuid, $2::date,"
     " ARRAY(SELECT x::uuid FROM jsonb_array_elements_text($3::jsonb) x), $4::text) RETURNING *)"
     " SELECT json_build_object('id', id, 'person_id', person_id, 'date', day, 'shift_ids', to_json(shift_ids),"
     " 'reason', reason)::text FROM r",
     4},
    {"roster_override_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'person_id', person_id, 'date', day, 'shift_ids',"
     " to_json(shift_ids), 'reason', reason) ORDER BY day, person_id), '[]')::text FROM roster_overrides"
     " WHERE day BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR person_id = $3::uuid)",
     3},
    {"roster_override_delete",
     "WITH r AS (DELETE FROM roster_overrides WHERE id = $1::uuid RETURNING id)"
     " SELECT json_build_object('id', id)::text FROM r",
     1},
    {"holiday_insert",
     "WITH r AS (INSERT INTO holidays (day, name) VALUES ($1::date, $2::text) RETURNING *)"
     " SELECT json_build_object('id', id, 'date', day, 'name', name)::text FROM r",
     2},
    {"holiday_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'date', day, 'name', name) ORDER BY day), '[]')::text"
     " FROM holidays WHERE day BETWEEN $1::date AND $2::date",
     2},
    {"holiday_delete",
     "WITH r AS (DELETE FROM holidays WHERE id = $1::uuid RETURNING id) SELECT json_build_object('id', id)::text FROM "
     "r",
     1},
    /* an import adds the days not yet holidays; a day already one keeps its name */
    {"holiday_import_one",
     "WITH r AS (INSERT INTO holidays (day, name) SELECT $1::date, $2::text"
     " WHERE NOT EXISTS (SELECT 1 FROM holidays WHERE day = $1::date) RETURNING id)"
     " SELECT json_build_object('added', count(*))::text FROM r",
     2},
    {"leave_refs",
     "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM people WHERE id = $1::uuid AND erased_at IS NULL) THEN 'person_id'"
     " WHEN NOT EXISTS (SELECT 1 FROM leave_types WHERE code = $2::text) THEN 'type' ELSE '' END",
     2},
    {"leave_insert",
     "WITH r AS (INSERT INTO leave (person_id, type, from_day, to_day, start_time, end_time, state)"
     " VALUES ($1::uuid, $2::text, $3::date, $4::date, $5::time, $6::time, $7::text) RETURNING *)"
     " SELECT json_build_object('id', id, 'person_id', person_id, 'type', type, 'from', from_day, 'to', to_day,"
     " 'start', to_char(start_time, 'HH24:MI'), 'end', to_char(end_time, 'HH24:MI'), 'state', state)::text FROM r",
     7},
    {"leave_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'person_id', person_id, 'type', type, 'from', from_day,"
     " 'to', to_day, 'start', to_char(start_time, 'HH24:MI'), 'end', to_char(end_time, 'HH24:MI'), 'state', state)"
     " ORDER BY from_day, id), '[]')::text FROM leave WHERE from_day <= $2::date AND to_day >= $1::date"
     " AND ($3::uuid IS NULL OR person_id = $3::uuid)",
     3},
    {"leave_set_state",
     "WITH r AS (UPDATE leave SET state = $2::text WHERE id = $1::uuid RETURNING *)"
     " SELECT json_build_object('id', id, 'person_id', person_id, 'type', type, 'from', from_day, 'to', to_day,"
     " 'start', to_char(start_time, 'HH24:MI'), 'end', to_char(end_time, 'HH24:MI'), 'state', state)::text FROM r",
     2},
    {"leave_delete",
     "WITH r AS (DELETE FROM leave WHERE id = $1::uuid RETURNING id) SELECT json_build_object('id', id)::text FROM r",
     1},
    /* a new type takes the next position; none past the 16 the totals count */
    {"leave_type_insert",
     "WITH r AS (INSERT INTO leave_types (code, paid, position) SELECT $1::text, $2::boolean,"
     " coalesce(max(position) + 1, 0) FROM leave_types HAVING coalesce(max(position) + 1, 0) <= 15 RETURNING *)"
     " SELECT json_build_object('code', code, 'paid', paid)::text FROM r",
     2},
    {"leave_type_list",
     "SELECT coalesce(json_agg(json_build_object('code', code, 'paid', paid) ORDER BY position), '[]')::text"
     " FROM leave_types",
     0},
    /* a subject access export: the person's leave, own patterns and overrides, and resolved exceptions */
    {"person_export_rosters",
     "SELECT json_build_object("
     "'leave', (SELECT coalesce(json_agg(json_build_object('id', id, 'type', type, 'from', from_day,"
     " 'to', to_day, 'start', to_char(start_time, 'HH24:MI'), 'end', to_char(end_time, 'HH24:MI'),"
     " 'state', state, 'created_at', " EXPORT_CREATED_AT ") ORDER BY from_day, id), '[]')"
     " FROM leave WHERE person_id = $1::uuid),"
     "'patterns', (SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind, 'anchor', anchor_day,"
     " 'valid_from', valid_from, 'valid_to', valid_to, 'cycle', cycle, 'created_at', " EXPORT_CREATED_AT ")"
     " ORDER BY valid_from, id), '[]') FROM roster_patterns WHERE person_id = $1::uuid),"
     "'overrides', (SELECT coalesce(json_agg(json_build_object('id', id, 'date', day,"
     " 'shift_ids', to_json(shift_ids), 'reason', reason, 'created_at', " EXPORT_CREATED_AT ")"
     " ORDER BY day, id), '[]') FROM roster_overrides WHERE person_id = $1::uuid),"
     "'exception_resolutions', (SELECT coalesce(json_agg(json_build_object('id', id, 'date', day,"
     " 'kind', kind, 'action', action, 'reason', reason, 'resolved_by', resolved_by,"
     " 'resolved_at', " EXPORT_RESOLVED_AT ") ORDER BY day, kind), '[]')"
     " FROM exception_resolutions WHERE person_id = $1::uuid))::text",
     1},
    {"exception_refs",
     "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM people WHERE id = $1::uuid AND erased_at IS NULL)"
     " THEN 'person_id' ELSE '' END",
     1},
    {"exception_resolve",
     "WITH r AS (INSERT INTO exception_resolutions (person_id, day, kind, action, reason, resolved_by)"
     " VALUES ($1::uuid, $2::date, $3::text, $4::text, $5::text, $6::text) RETURNING *)"
     " SELECT json_build_object('id', id, 'person_id', person_id, 'date', day, 'kind', kind, 'action', action,"
     " 'reason', reason, 'resolved_by', resolved_by, 'resolved_at', resolved_at)::text FROM r",
     6},
    {"period_insert",
     "WITH r AS (INSERT INTO pay_periods (name, from_day, to_day, from_ts, to_ts) VALUES ($1::text, $2::date,"
     " $3::date, 'epoch'::timestamptz + $4::bigint * interval '1 microsecond',"
     " 'epoch'::timestamptz + $5::bigint * interval '1 microsecond') RETURNING *)"
     " SELECT json_build_object('id', id, 'name', name, 'from', from_day, 'to', to_day, 'closed', closed,"
     " 'closed_at', closed_at)::text FROM r",
     5},
    {"period_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'from', from_day, 'to', to_day, 'closed',"
     " closed, 'closed_at', closed_at) ORDER BY from_day), '[]')::text FROM pay_periods",
     0},
    /* $2: close (true) or reopen (false); a period already in that state yields no row */
    {"period_set_closed",
     "WITH r AS (UPDATE pay_periods SET closed = $2::boolean, closed_at = CASE WHEN $2::boolean THEN now() END,"
     " frozen = NULL"
     " WHERE id = $1::uuid AND closed <> $2::boolean RETURNING *)"
     " SELECT json_build_object('id', id, 'name', name, 'from', from_day, 'to', to_day, 'closed', closed,"
     " 'closed_at', closed_at)::text FROM r",
     2},
    {"period_freeze", "UPDATE pay_periods SET frozen = $2::jsonb WHERE id = $1::uuid", 2},
    /* the period's dates (days since the epoch) and its frozen rows (null while open) */
    {"period_get",
     "SELECT json_build_object('id', id, 'name', name, 'from', from_day - date '1970-01-01', 'to',"
     " to_day - date '1970-01-01', 'from_date', from_day, 'to_date', to_day, 'closed', closed, 'frozen', frozen)::text"
     " FROM pay_periods WHERE id = $1::uuid",
     1},
    {"payroll_pseudonyms",
     "SELECT coalesce(json_object_agg(id, pseudonym), '{}')::text FROM people WHERE erased_at IS NULL", 0},
    /* a camera event marked as the wrong person: voided with its reason; the pair's look-alike score kept */
    {"event_misidentify_refs",
     "SELECT CASE WHEN $1::uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people WHERE id = $1::uuid"
     " AND erased_at IS NULL) THEN 'actual_person_id' ELSE '' END",
     1},
    {"event_misidentify",
     "WITH e AS (UPDATE events SET voided_at = now(), misidentified = true, void_reason = $2::text"
     " WHERE id = $1::uuid AND source = 'camera' AND voided_at IS NULL RETURNING id, person_id, similarity),"
     " l AS (INSERT INTO person_lookalikes (person_a, person_b, score) SELECT least(e.person_id, $3::uuid),"
     " greatest(e.person_id, $3::uuid), coalesce(e.similarity, 0) FROM e WHERE $3::uuid IS NOT NULL"
     " AND e.person_id IS NOT NULL AND e.person_id <> $3::uuid ON CONFLICT (person_a, person_b) DO UPDATE"
     " SET score = greatest(person_lookalikes.score, excluded.score), times = person_lookalikes.times + 1,"
     " last_at = now() RETURNING score)"
     " SELECT json_build_object('id', e.id, 'person_id', e.person_id, 'actual_person_id', $3::uuid,"
     " 'misidentified', true, 'similarity', e.similarity)::text FROM e",
     3},
    {"event_state_json",
     "SELECT json_build_object('source', source, 'voided', voided_at IS NOT NULL)::text FROM events WHERE id = "
     "$1::uuid",
     1},
    {"person_lookalikes",
     "SELECT coalesce(json_agg(json_build_object('person_id', CASE WHEN person_a = $1::uuid THEN person_b"
     " ELSE person_a END, 'score', score, 'times', times) ORDER BY score DESC, times DESC), '[]')::text"
     " FROM person_lookalikes WHERE person_a = $1::uuid OR person_b = $1::uuid",
     1},
    {"period_exists", "SELECT json_build_object('id', id)::text FROM pay_periods WHERE id = $1::uuid", 1},
/* the site's pay rule set (sql/010_pay_rules.sql): read, and changed member by member (NULL: kept) */
#define PAY_RULES_JSON                                                                                              \
    "json_build_object('night_start', to_char(night_start, 'HH24:MI'), 'night_end', to_char(night_end, 'HH24:MI')," \
    " 'daily_overtime_after_minutes', daily_ot_after_min, 'weekly_overtime_after_minutes', weekly_ot_after_min,"    \
    " 'min_rest_minutes', min_rest_min, 'updated_at', updated_at)::text"
    {"pay_rules_get", "SELECT " PAY_RULES_JSON " FROM pay_rules", 0},
    {"pay_rules_set",
     "UPDATE pay_rules SET night_start = coalesce($1::time, night_start), night_end = coalesce($2::time, night_end),"
     " daily_ot_after_min = coalesce($3::integer, daily_ot_after_min),"
     " weekly_ot_after_min = coalesce($4::integer, weekly_ot_after_min),"
     " min_rest_min = coalesce($5::integer, min_rest_min), updated_at = now() RETURNING " PAY_RULES_JSON,
     5},
#undef PAY_RULES_JSON
    /* everything the roster and pay engines need for days $1..$2 (dates as days since the epoch) */
    {"roster_definitions",
     "SELECT json_build_object("
     "'shifts', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name,"
     " 'start', (extract(hour FROM start_time) * 60 + extract(minute FROM start_time))::integer,"
     " 'end', (extract(hour FROM end_time) * 60 + extract(minute FROM end_time))::integer,"
     " 'grace_late', grace_late_min, 'grace_early', grace_early_min, 'break', break_min,"
     " 'break_punched', break_punched, 'round', round_min, 'favour', round_favour) ORDER BY id), '[]') FROM shifts),"
     "'schedules', (SELECT coalesce(json_agg(json_build_object('department', department, 'person_id', person_id,"
     " 'from', valid_from - date '1970-01-01', 'to', valid_to - date '1970-01-01', 'shift', shift_id)), '[]')"
     " FROM schedules WHERE valid_from <= date '1970-01-01' + $2::integer"
     " AND (valid_to IS NULL OR valid_to >= date '1970-01-01' + $1::integer)),"
     "'patterns', (SELECT coalesce(json_agg(json_build_object('department', department, 'person_id', person_id,"
     " 'kind', kind, 'anchor', anchor_day - date '1970-01-01', 'from', valid_from - date '1970-01-01',"
     " 'to', valid_to - date '1970-01-01', 'cycle', cycle)), '[]') FROM roster_patterns"
     " WHERE valid_from <= date '1970-01-01' + $2::integer"
     " AND (valid_to IS NULL OR valid_to >= date '1970-01-01' + $1::integer)),"
     "'overrides', (SELECT coalesce(json_agg(json_build_object('person_id', person_id,"
     " 'day', day - date '1970-01-01', 'shifts', to_json(shift_ids))), '[]') FROM roster_overrides"
     " WHERE day BETWEEN date '1970-01-01' + $1::integer AND date '1970-01-01' + $2::integer),"
     "'holidays', (SELECT coalesce(json_agg(day - date '1970-01-01' ORDER BY day), '[]') FROM holidays"
     " WHERE day BETWEEN date '1970-01-01' + $1::integer AND date '1970-01-01' + $2::integer),"
     "'leave', (SELECT coalesce(json_agg(json_build_object('person_id', l.person_id, 'type', t.position,"
     " 'paid', t.paid, 'from', l.from_day - date '1970-01-01', 'to', l.to_day - date '1970-01-01',"
     " 'start', (extract(hour FROM l.start_time) * 60 + extract(minute FROM l.start_time))::integer,"
     " 'end', (extract(hour FROM l.end_time) * 60 + extract(minute FROM l.end_time))::integer)), '[]')"
     " FROM leave l JOIN leave_types t ON t.code = l.type WHERE l.state = 'approved'"
     " AND l.from_day <= date '1970-01-01' + $2::integer AND l.to_day >= date '1970-01-01' + $1::integer),"
     "'leave_types', (SELECT coalesce(json_agg(json_build_object('code', code, 'position', position, 'paid', paid)"
     " ORDER BY position), '[]') FROM leave_types),"
     "'resolutions', (SELECT coalesce(json_agg(json_build_object('person_id', person_id,"
     " 'day', day - date '1970-01-01', 'kind', kind, 'action', action)), '[]') FROM exception_resolutions"
     " WHERE day BETWEEN date '1970-01-01' + $1::integer AND date '1970-01-01' + $2::integer),"
     "'pay_rules', (SELECT json_build_object("
     " 'night_start', (extract(hour FROM night_start) * 60 + extract(minute FROM night_start))::integer,"
     " 'night_end', (extract(hour FROM night_end) * 60 + extract(minute FROM night_end))::integer,"
     " 'daily_ot_after', daily_ot_after_min, 'weekly_ot_after', weekly_ot_after_min, 'min_rest', min_rest_min)"
     " FROM pay_rules)"
     ")::text",
     2},

    /* ---- cameras (src/store/cameras.c) ---- */
    {"camera_insert",
     "INSERT INTO cameras (name, url, role, analysis_fps, enabled, roi_x, roi_y, roi_w, roi_h)"
     " VALUES ($1::text, $2::text, $3::camera_role, $4::real, $5::boolean, $6::integer, $7::integer,"
     " $8::integer, $9::integer) RETURNING " CAMERA_COLS,
     9},
    {"camera_get", "SELECT " CAMERA_COLS " FROM cameras WHERE id = $1::uuid", 1},
    {"camera_list", "SELECT " CAMERA_COLS " FROM cameras ORDER BY cameras.created_at, cameras.id", 0},
    /* NULL leaves a column as it is; $7 says whether to set the roi (to $8..$11, all NULL = none) */
    {"camera_update",
     "UPDATE cameras SET name = coalesce($2::text, name), url = coalesce($3::text, url),"
     " role = coalesce($4::camera_role, role), analysis_fps = coalesce($5::real, analysis_fps),"
     " enabled = coalesce($6::boolean, enabled),"
     " roi_x = CASE WHEN $7::boolean THEN $8::integer ELSE roi_x END,"
     " roi_y = CASE WHEN $7::boolean THEN $9::integer ELSE roi_y END,"
     " roi_w = CASE WHEN $7::boolean THEN $10::integer ELSE roi_w END,"
     " roi_h = CASE WHEN $7::boolean THEN $11::integer ELSE roi_h END"
     " WHERE id = $1::uuid RETURNING " CAMERA_COLS,
     11},
    {"camera_delete", "DELETE FROM cameras WHERE id = $1::uuid RETURNING id::text", 1},

    /* ---- punches decided in the database among several instances (src/store/events.c) ---- */
    /* one writer at a time per person, until the transaction ends */
    {"punch_lock", "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 16))", 1},
    {"event_exists", "SELECT 1 FROM events WHERE id = $1::uuid", 1},
    /* the earliest live camera punch of the person within the cooldown around ts ($3 µs) */
    {"punch_nearby",
     "SELECT e.id::text, " EPOCH_US(
         "e.ts") " FROM events e WHERE e.person_id = $1::uuid AND e.voided_at IS NULL"
                 " AND e.source = 'camera' AND e.ts > 'epoch'::timestamptz + ($2::bigint - $3::bigint) * interval '1 "
                 "microsecond'"
                 " AND e.ts < 'epoch'::timestamptz + ($2::bigint + $3::bigint) * interval '1 microsecond'"
                 " ORDER BY e.ts, e.id LIMIT 1",
     3},
    /* later camera punches of the person within the cooldown: superseded by an earlier capture */
    {"punch_supersede",
     "UPDATE events SET voided_at = now(), reason = 'superseded by an earlier capture of the same pass'"
     " WHERE person_id = $1::uuid AND voided_at IS NULL AND source = 'camera'"
     " AND ts >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
     " AND ts < 'epoch'::timestamptz + ($2::bigint + $3::bigint) * interval '1 microsecond' AND id <> $4::uuid",
     4},
    /* the person's live punches from ts on (inclusive), oldest first, with their camera's role ('' when
     * manual or the camera is gone): the auto in/out chain recomputed in capture-time order */
    {"punch_chain",
     "SELECT e.id::text, e.kind::text, " EPOCH_US(
         "e.ts") ", coalesce(c.role::text, '') FROM events e"
                 " LEFT JOIN cameras c ON c.id = e.camera_id AND e.source = 'camera'"
                 " WHERE e.person_id = $1::uuid AND e.voided_at IS NULL"
                 " AND e.ts >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' ORDER BY e.ts, e.id LIMIT "
                 "1000",
     2},
    /* the live punch just before ts (µs): what an auto camera toggles */
    {"punch_before",
     "SELECT e.kind::text, " EPOCH_US("e.ts") " FROM events e WHERE e.person_id = $1::uuid AND e.voided_at IS NULL"
                                              " AND e.ts < 'epoch'::timestamptz + $2::bigint * interval '1 "
                                              "microsecond' ORDER BY e.ts DESC, e.id DESC LIMIT 1",
     2},
    {"punch_set_kind", "UPDATE events SET kind = $2::event_kind WHERE id = $1::uuid", 2},

    /* ---- instances and camera leases (src/store/instances.c); times are the database's ---- */
    {"instance_register",
     "INSERT INTO instances (id, name, host, capacity, lease_s) VALUES ($1::uuid, $2::text, $3::text, $4::integer,"
     " $5::integer) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, host = EXCLUDED.host,"
     " capacity = EXCLUDED.capacity, lease_s = EXCLUDED.lease_s, started_at = now(), heartbeat_at = now(),"
     " stopped_at = NULL",
     5},
    {"instance_heartbeat", "UPDATE instances SET heartbeat_at = now() WHERE id = $1::uuid RETURNING id::text", 1},
    {"instance_stop",
     "WITH gone AS (UPDATE camera_leases SET expires_at = '-infinity'"
     " WHERE instance_id = $1::uuid AND expires_at > now() RETURNING camera_id)"
     " UPDATE instances SET stopped_at = now() WHERE id = $1::uuid RETURNING (SELECT count(*) FROM gone)::text",
     1},
    {"instance_list",
     "SELECT i.id::text, i.name, i.host, i.capacity::text, i.lease_s::text, " RFC3339("i.started_at") ", " RFC3339(
         "i.heartbeat_at") ", coalesce(" RFC3339("i.stopped_at") ", ''),"
                                                                 " (i.stopped_at IS NULL AND i.heartbeat_at > now() - "
                                                                 "i.lease_s * interval '1 second'),"
                                                                 " (SELECT count(*) FROM camera_leases l WHERE "
                                                                 "l.instance_id = i.id"
                                                                 " AND l.expires_at > now())::text, "
                                                                 "i.lease_moves::text FROM instances i"
                                                                 " WHERE i.heartbeat_at > now() - interval '1 day'"
                                                                 " OR EXISTS (SELECT 1 FROM camera_leases l WHERE "
                                                                 "l.instance_id = i.id AND l.expires_at > now())"
                                                                 " ORDER BY 9 DESC, i.name, i.id",
     0},
    {"lease_fill",
     "INSERT INTO camera_leases (camera_id) SELECT c.id FROM cameras c"
     " WHERE NOT EXISTS (SELECT 1 FROM camera_leases l WHERE l.camera_id = c.id) ON CONFLICT DO NOTHING",
     0},
    /* a lease that expired but was not taken yet is still this instance's: nobody else runs it */
    {"lease_renew",
     "UPDATE camera_leases l SET expires_at = CASE WHEN c.enabled THEN now() + $2::integer * interval '1 second'"
     " ELSE '-infinity' END FROM cameras c WHERE c.id = l.camera_id AND l.instance_id = $1::uuid"
     " AND l.expires_at > '-infinity' RETURNING l.camera_id::text, c.enabled",
     2},
    {"lease_take",
     "WITH cand AS (SELECT l.camera_id, l.instance_id AS was FROM camera_leases l JOIN cameras c ON c.id = l.camera_id"
     " WHERE c.enabled AND l.expires_at <= now() ORDER BY l.expires_at, l.camera_id LIMIT $3::integer"
     " FOR UPDATE OF l SKIP LOCKED)"
     " UPDATE camera_leases l SET instance_id = $1::uuid, since = now(),"
     " expires_at = now() + $2::integer * interval '1 second' FROM cand WHERE l.camera_id = cand.camera_id"
     " RETURNING l.camera_id::text, (cand.was IS NOT NULL AND cand.was <> $1::uuid)",
     3},
    {"instance_moves", "UPDATE instances SET lease_moves = lease_moves + $2::bigint WHERE id = $1::uuid", 2},
    {"lease_release_one",
     "UPDATE camera_leases SET expires_at = '-infinity' WHERE camera_id = (SELECT camera_id FROM camera_leases"
     " WHERE instance_id = $1::uuid AND expires_at > now() ORDER BY since DESC, camera_id LIMIT 1)"
     " AND instance_id = $1::uuid RETURNING camera_id::text",
     1},
    {"lease_census",
     "SELECT (SELECT count(*) FROM cameras WHERE enabled)::text, coalesce(sum(capacity), 0)::text, count(*)::text"
     " FROM instances WHERE stopped_at IS NULL AND heartbeat_at > now() - lease_s * interval '1 second'",
     0},
    {"lease_list",
     "SELECT l.camera_id::text, i.id::text, i.name, " RFC3339(
         "l.since") " FROM camera_leases l"
                    " JOIN instances i ON i.id = l.instance_id WHERE l.expires_at > now()",
     0},
    {"lease_announce",
     "SELECT pg_notify('attendd_sync', 'lease:' || $1::text || ':' || (extract(epoch FROM clock_timestamp()) * "
     "1000000)::bigint)",
     1},
    /* ---- need to know (src/http/scope.c): the department of what an id names, as a JSON string ---- */
    {"scope_person_department",
     "SELECT to_json(coalesce(department, ''))::text FROM people WHERE id = $1::uuid AND erased_at IS NULL", 1},
    {"scope_event_department",
     "SELECT to_json(coalesce(p.department, ''))::text FROM events e LEFT JOIN people p ON p.id = e.person_id"
     " WHERE e.id = $1::uuid",
     1},
    {"scope_schedule_department",
     "SELECT to_json(coalesce(p.department, s.department, ''))::text FROM schedules s"
     " LEFT JOIN people p ON p.id = s.person_id WHERE s.id = $1::uuid",
     1},
    {"scope_pattern_department",
     "SELECT to_json(coalesce(p.department, r.department, ''))::text FROM roster_patterns r"
     " LEFT JOIN people p ON p.id = r.person_id WHERE r.id = $1::uuid",
     1},
    {"scope_override_department",
     "SELECT to_json(coalesce(p.department, ''))::text FROM roster_overrides o JOIN people p ON p.id = o.person_id"
     " WHERE o.id = $1::uuid",
     1},
    {"scope_leave_department",
     "SELECT to_json(coalesce(p.department, ''))::text FROM leave l JOIN people p ON p.id = l.person_id"
     " WHERE l.id = $1::uuid",
     1},
    /* the people of departments $1 (a JSON array) as an object keyed by id */
    {"scope_people_ids",
     "SELECT coalesce(json_object_agg(id::text, true), '{}')::text FROM people"
     " WHERE erased_at IS NULL AND department IN (SELECT jsonb_array_elements_text($1::jsonb))",
     1},
};

const size_t db_statements_count = sizeof db_statements / sizeof db_statements[0];

const struct db_statement *db_statement_find(const char *name)
{
    for (size_t i = 0; i < db_statements_count; i++)
        if (strcmp(db_statements[i].name, name) == 0) return &db_statements[i];
    return NULL;
}

/* SQLSTATEs meaning "the schema does not have what this statement names": not migrated (or a
 * binary newer than the database), not a bug in the statement. */
static bool sqlstate_is_missing_object(const char *st)
{
    return st &&
        (strcmp(st, "42P01") == 0      /* undefined_table */
         || strcmp(st, "42703") == 0   /* undefined_column */
         || strcmp(st, "42704") == 0   /* undefined_object (enum types) */
         || strcmp(st, "42883") == 0); /* undefined_function */
}

att_err db_prepare_all(PGconn *c, char *err, size_t errlen)
{
    if (!c) {
        snprintf(err, errlen, "no connection");
        return ATT_E_INTERNAL;
    }
    /* Idempotent: after a PQreset the session is new anyway, but a second call on a live session
     * must not fail on duplicate names. */
    att_err rc = db_exec_simple(c, "DEALLOCATE ALL");
    if (rc != ATT_OK) {
        snprintf(err, errlen, "DEALLOCATE ALL failed: %s", PQerrorMessage(c));
        return rc;
    }
    for (size_t i = 0; i < db_statements_count; i++) {
        const struct db_statement *s = &db_statements[i];
        PGresult *res = PQprepare(c, s->name, s->sql, s->nparams, NULL);
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            continue;
        }
        const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg) msg = PQerrorMessage(c);
        if (PQstatus(c) != CONNECTION_OK || !res) rc = ATT_E_DB;
        else if (sqlstate_is_missing_object(st)) rc = ATT_E_SCHEMA;
        else rc = ATT_E_DB_QUERY;
        if (rc == ATT_E_SCHEMA)
            snprintf(err, errlen, "database schema lacks what statement %s needs (%s): run `attendctl migrate`",
                     s->name, msg);
        else snprintf(err, errlen, "preparing statement %s failed: %s", s->name, msg);
        PQclear(res);
        return rc;
    }
    return ATT_OK;
}
