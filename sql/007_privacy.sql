-- Privacy by construction: the consent register (versioned consent texts, each person's state and
-- its history), the alternative to the face (biometric opt-out, kiosk PIN and badge, kiosk tokens
-- and kiosk punches), tokens limited to departments, and what the retention job needs (when a
-- person became inactive; pruning of old audit rows by that job only).
-- Run by src/store/migrate.c in one transaction: nothing here may need to run outside one.

-- ---- consent texts: what a person agreed to, word for word, kept for as long as any record names it
CREATE TABLE consent_texts (
    version    integer     PRIMARY KEY CONSTRAINT consent_texts_version_range CHECK (version >= 1),
    language   text        NOT NULL CONSTRAINT consent_texts_language_fmt CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
    body       text        NOT NULL CONSTRAINT consent_texts_body_len CHECK (char_length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL CONSTRAINT consent_texts_created_by_len CHECK (char_length(created_by) BETWEEN 1 AND 200)
);

-- ---- each person's consent and method ------------------------------------------------------------
-- consent: the current state (the history is consent_records). A template may exist only while
-- consent is 'given' and biometric is true: the face insert checks both under a row lock, and a
-- withdrawal or an opt-out deletes the templates in its own transaction.
-- biometric false: the person never uses the face (never enrolled, never matched); they punch at
-- a kiosk with employee number and PIN (pin_hash: libsodium argon2id string) or a badge.
-- inactive_since: when active last went false (the retention period of templates runs from it).
CREATE TYPE consent_state AS ENUM ('none', 'given', 'withdrawn');
ALTER TABLE people
    ADD COLUMN consent        consent_state NOT NULL DEFAULT 'none',
    ADD COLUMN consent_at     timestamptz,
    ADD COLUMN biometric      boolean       NOT NULL DEFAULT true,
    ADD COLUMN pin_hash       text          CONSTRAINT people_pin_hash_len CHECK (char_length(pin_hash) BETWEEN 1 AND 256),
    ADD COLUMN pin_failures   integer       NOT NULL DEFAULT 0 CONSTRAINT people_pin_failures_range CHECK (pin_failures >= 0),
    ADD COLUMN pin_locked_at  timestamptz,
    ADD COLUMN badge_id       text          UNIQUE CONSTRAINT people_badge_id_len CHECK (char_length(badge_id) BETWEEN 1 AND 64),
    ADD COLUMN inactive_since timestamptz;
UPDATE people SET inactive_since = updated_at WHERE NOT active;
-- erasure destroys the kiosk credentials with the other personal fields
ALTER TABLE people ADD CONSTRAINT people_erased_no_credentials
    CHECK (erased_at IS NULL OR (pin_hash IS NULL AND badge_id IS NULL));

CREATE FUNCTION people_track_inactive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.active AND NEW.inactive_since IS NOT NULL THEN
        NEW.inactive_since := NULL;
    ELSIF NOT NEW.active AND (TG_OP = 'INSERT' OR OLD.active) THEN
        NEW.inactive_since := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER people_inactive_since BEFORE INSERT OR UPDATE OF active ON people
    FOR EACH ROW EXECUTE FUNCTION people_track_inactive();
CREATE INDEX people_inactive_since_idx ON people (inactive_since) WHERE inactive_since IS NOT NULL;

CREATE TABLE consent_records (
    id           bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id    uuid          NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    state        consent_state NOT NULL CONSTRAINT consent_records_state CHECK (state <> 'none'),
    text_version integer       REFERENCES consent_texts (version),
    token_id     uuid,         -- the recording API token; NULL for attendctl
    actor        text          NOT NULL CONSTRAINT consent_records_actor_len CHECK (char_length(actor) BETWEEN 1 AND 200),
    recorded_at  timestamptz   NOT NULL DEFAULT now(),
    -- consent is given to one text
    CONSTRAINT consent_records_given_text CHECK (state <> 'given' OR text_version IS NOT NULL)
);
CREATE INDEX consent_records_person_idx ON consent_records (person_id, recorded_at, id);

-- ---- kiosks -----------------------------------------------------------------------------------------
-- A kiosk token may only punch (POST /api/v1/kiosk/punch); its punches are events of source kiosk.
ALTER TYPE token_role ADD VALUE 'kiosk';
ALTER TYPE event_source ADD VALUE 'kiosk';

-- ---- need-to-know ------------------------------------------------------------------------------------
-- departments: the token sees and edits only people of these departments (and their events and
-- reports); NULL: every department.
ALTER TABLE api_tokens ADD COLUMN departments text[]
    CONSTRAINT api_tokens_departments_nonempty CHECK (departments IS NULL OR cardinality(departments) BETWEEN 1 AND 32);

-- ---- audit pruning -------------------------------------------------------------------------------------
-- The audit log stays append-only for everyone but the retention job: a DELETE goes through only in a
-- transaction that set attendd.audit_prune_before (SET LOCAL) and only for rows older than that
-- moment, which itself must lie at least a year in the past.
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('attendd.audit_prune_before', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE FUNCTION audit_log_prune_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before timestamptz := current_setting('attendd.audit_prune_before', true)::timestamptz;
BEGIN
    IF before IS NULL OR before > now() - interval '1 year' OR OLD.ts >= before THEN
        RAISE EXCEPTION 'audit_log row % is not due for pruning', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_log_prune BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_prune_row();
