-- Initial attendd schema: roster, encrypted face templates, cameras, attendance events, API tokens
-- and the append-only audit log. src/store/migrate.c runs this in one transaction with its
-- attendd_schema row; no transaction control and nothing that cannot run in a transaction here.

-- ---- enums --------------------------------------------------------------------------------
CREATE TYPE camera_role  AS ENUM ('in', 'out', 'auto');
CREATE TYPE event_kind   AS ENUM ('in', 'out');
CREATE TYPE event_source AS ENUM ('camera', 'manual');
CREATE TYPE token_role   AS ENUM ('admin', 'hr');

-- Keeps updated_at honest whichever code path writes the row.
CREATE FUNCTION attendd_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- ---- people: the roster ------------------------------------------------------------------------
-- Erasure keeps the row (so past events still count, keyed by the pseudonym) but destroys every
-- personal field; the CHECK makes a half-erased row impossible. department may survive erasure:
-- on its own it names nobody and keeps per-department statistics right.
CREATE TABLE people (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_no text        UNIQUE,
    name        text,
    department  text,
    title       text,
    active      boolean     NOT NULL DEFAULT true,
    pseudonym   uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(), -- stable key for pseudonymous reports
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CONSTRAINT people_employee_no_len CHECK (char_length(employee_no) BETWEEN 1 AND 64),
    CONSTRAINT people_name_len        CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT people_department_len  CHECK (char_length(department) BETWEEN 1 AND 200),
    CONSTRAINT people_title_len       CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT people_identified_or_erased CHECK (
        (erased_at IS NULL AND employee_no IS NOT NULL AND name IS NOT NULL)
        OR (erased_at IS NOT NULL AND employee_no IS NULL AND name IS NULL AND title IS NULL
            AND NOT active))
);
CREATE INDEX people_department_idx  ON people (department);
-- `q` search: prefix matches on lower(name) and employee_no (text_pattern_ops serves LIKE 'x%'
-- whatever the database collation).
CREATE INDEX people_name_lower_idx  ON people (lower(name) text_pattern_ops);
CREATE INDEX people_employee_no_pattern_idx ON people (employee_no text_pattern_ops);
CREATE TRIGGER people_updated_at BEFORE UPDATE ON people
    FOR EACH ROW EXECUTE FUNCTION attendd_set_updated_at();

-- ---- faces: encrypted templates ------------------------------------------------------------------
-- template = 24-byte XChaCha20 nonce || ciphertext || 16-byte tag; never a plaintext embedding.
-- The associated data binds person id, face id and model id, so a copied template fails to decrypt.
-- key_id names the template key that encrypted it (key rotation re-encrypts row by row).
CREATE TABLE faces (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id  uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    model_id   text        NOT NULL CONSTRAINT faces_model_id_len CHECK (char_length(model_id) BETWEEN 1 AND 64),
    key_id     integer     NOT NULL CONSTRAINT faces_key_id_range CHECK (key_id >= 0),
    template   bytea       NOT NULL CONSTRAINT faces_template_len CHECK (octet_length(template) > 24 + 16),
    quality    jsonb       NOT NULL DEFAULT '{}'
                           CONSTRAINT faces_quality_object CHECK (jsonb_typeof(quality) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faces_person_idx ON faces (person_id);
CREATE INDEX faces_key_id_idx ON faces (key_id);

-- ---- cameras -----------------------------------------------------------------------------------
-- url may carry RTSP credentials: treat it as a secret in logs and API answers.
-- roi: a region of interest in source pixels, all four set or none.
CREATE TABLE cameras (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text        NOT NULL UNIQUE CONSTRAINT cameras_name_len CHECK (char_length(name) BETWEEN 1 AND 100),
    url          text        NOT NULL CONSTRAINT cameras_url_len CHECK (char_length(url) BETWEEN 1 AND 2048),
    role         camera_role NOT NULL DEFAULT 'auto',
    analysis_fps real        NOT NULL DEFAULT 6
                             CONSTRAINT cameras_analysis_fps_range CHECK (analysis_fps > 0 AND analysis_fps <= 60),
    enabled      boolean     NOT NULL DEFAULT true,
    roi_x        integer,
    roi_y        integer,
    roi_w        integer,
    roi_h        integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cameras_roi CHECK (
        (roi_x IS NULL AND roi_y IS NULL AND roi_w IS NULL AND roi_h IS NULL)
        OR (roi_x IS NOT NULL AND roi_y IS NOT NULL AND roi_w IS NOT NULL AND roi_h IS NOT NULL
            AND roi_x >= 0 AND roi_y >= 0 AND roi_w > 0 AND roi_h > 0))
);
CREATE TRIGGER cameras_updated_at BEFORE UPDATE ON cameras
    FOR EACH ROW EXECUTE FUNCTION attendd_set_updated_at();

-- ---- events: clock-in/clock-out punches ------------------------------------------------------------
-- id is assigned by the daemon before the event reaches the spool, so a replay after an outage
-- inserts each event once (INSERT ... ON CONFLICT DO NOTHING): no default on purpose.
-- Corrections never delete: a wrong punch is voided (voided_at) and a manual one added with a reason.
CREATE TABLE events (
    id          uuid         PRIMARY KEY,
    person_id   uuid         REFERENCES people (id) ON DELETE SET NULL,
    camera_id   uuid         REFERENCES cameras (id) ON DELETE SET NULL,
    kind        event_kind   NOT NULL,
    ts          timestamptz  NOT NULL,
    similarity  real         CONSTRAINT events_similarity_range CHECK (similarity BETWEEN -1 AND 1),
    liveness    real         CONSTRAINT events_liveness_range CHECK (liveness BETWEEN 0 AND 1),
    source      event_source NOT NULL,
    reason      text         CONSTRAINT events_reason_len CHECK (char_length(reason) BETWEEN 1 AND 1000),
    created_by  text         CONSTRAINT events_created_by_len CHECK (char_length(created_by) BETWEEN 1 AND 200),
    voided_at   timestamptz,
    inserted_at timestamptz  NOT NULL DEFAULT now(),
    -- a manual punch always says why and who
    CONSTRAINT events_manual_has_reason CHECK (source <> 'manual' OR (reason IS NOT NULL AND created_by IS NOT NULL))
);
CREATE INDEX events_ts_idx        ON events (ts DESC, id DESC); -- newest-first listing, cursor pagination
CREATE INDEX events_person_ts_idx ON events (person_id, ts);    -- one person's punches, open shift lookup
CREATE INDEX events_camera_ts_idx ON events (camera_id, ts);

-- ---- api_tokens --------------------------------------------------------------------------------------
-- Only the keyed BLAKE2b hash of a token is stored; the secret is shown once at creation.
-- Tokens are revoked, not deleted, so the audit log keeps naming a real row.
CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text        NOT NULL CONSTRAINT api_tokens_name_len CHECK (octet_length(name) BETWEEN 1 AND 127),
    role         token_role  NOT NULL,
    hash         bytea       NOT NULL UNIQUE CONSTRAINT api_tokens_hash_len CHECK (octet_length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   uuid        REFERENCES api_tokens (id) ON DELETE SET NULL, -- NULL: made by attendctl
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_created_idx ON api_tokens (created_at DESC, id DESC);

-- ---- audit_log: append-only -------------------------------------------------------------------------
-- No foreign keys on purpose: an audit row must outlive whatever it mentions, and an ON DELETE
-- action would have to rewrite it.
CREATE TABLE audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts          timestamptz NOT NULL DEFAULT now(),
    token_id    uuid,                   -- acting API token; NULL for attendctl and the system
    actor       text        NOT NULL CONSTRAINT audit_log_actor_len CHECK (char_length(actor) BETWEEN 1 AND 200),
    action      text        NOT NULL CONSTRAINT audit_log_action_fmt
                            CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(action) <= 100),
    target_type text        CONSTRAINT audit_log_target_type_len CHECK (char_length(target_type) BETWEEN 1 AND 50),
    target_id   text        CONSTRAINT audit_log_target_id_len CHECK (char_length(target_id) BETWEEN 1 AND 200),
    outcome     text        NOT NULL CONSTRAINT audit_log_outcome_len CHECK (char_length(outcome) BETWEEN 1 AND 64),
    detail      jsonb       CONSTRAINT audit_log_detail_object CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX audit_log_ts_idx     ON audit_log (ts DESC, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, ts);

-- Statement-level, so even an UPDATE or DELETE that matches no row is refused, and TRUNCATE too.
-- (The table owner can still disable the trigger: in production the daemon's role should not own it.)
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
