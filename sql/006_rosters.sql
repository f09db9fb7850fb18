-- Rosters and pay: shift pay rules, weekly and rotating patterns, dated overrides, the site's holiday
-- calendar, leave types and leave, resolved exceptions, and pay periods whose close freezes every
-- change inside them (attendd_period_guard). Run by src/store/migrate.c in one transaction.

-- ---- shift pay rules -----------------------------------------------------------------------------------
ALTER TABLE shifts
    ADD COLUMN round_min     integer NOT NULL DEFAULT 0 CONSTRAINT shifts_round_range CHECK (round_min BETWEEN 0 AND 60),
    ADD COLUMN round_favour  text    NOT NULL DEFAULT 'employee'
        CONSTRAINT shifts_round_favour CHECK (round_favour IN ('employee', 'employer')),
    ADD COLUMN break_punched boolean NOT NULL DEFAULT false;

-- ---- pay periods ---------------------------------------------------------------------------------------
-- A closed period refuses every change of a date inside it (SQLSTATE AT409, ATT_E_PERIOD_CLOSED) until an
-- admin reopens it. from_ts/to_ts: local midnight of from_day and of the day after to_day in the zone
-- attendd was configured with when the period was made, for the punches' instants.
CREATE TABLE pay_periods (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL UNIQUE CONSTRAINT pay_periods_name_len CHECK (char_length(name) BETWEEN 1 AND 100),
    from_day    date        NOT NULL,
    to_day      date        NOT NULL,
    from_ts     timestamptz NOT NULL,
    to_ts       timestamptz NOT NULL,
    closed      boolean     NOT NULL DEFAULT false,
    closed_at   timestamptz,
    frozen      jsonb,                                    -- per-person totals computed at close, served while closed
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pay_periods_range CHECK (to_day >= from_day AND to_day - from_day < 62),
    CONSTRAINT pay_periods_no_overlap EXCLUDE USING gist (daterange(from_day, to_day, '[]') WITH &&)
);

-- Raise AT409 when [a, b] (b NULL: open-ended) touches a closed period.
CREATE FUNCTION attendd_period_guard(a date, b date) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF a IS NULL THEN RETURN; END IF;
    IF EXISTS (SELECT 1 FROM pay_periods p WHERE p.closed AND p.to_day >= a AND (b IS NULL OR p.from_day <= b)) THEN
        RAISE EXCEPTION 'the pay period is closed' USING ERRCODE = 'AT409';
    END IF;
END $$;

-- Raise AT409 when instant t lies in a closed period.
CREATE FUNCTION attendd_period_guard_ts(t timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pay_periods p WHERE p.closed AND t >= p.from_ts AND t < p.to_ts) THEN
        RAISE EXCEPTION 'the pay period is closed' USING ERRCODE = 'AT409';
    END IF;
END $$;

-- Rows carrying a date range (from_col, to_col): guarded on insert, delete, and both sides of an update.
CREATE FUNCTION attendd_guard_range() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f text := TG_ARGV[0];
    t text := TG_ARGV[1];
    r jsonb;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        r := to_jsonb(OLD);
        PERFORM attendd_period_guard((r ->> f)::date, (r ->> t)::date);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        r := to_jsonb(NEW);
        PERFORM attendd_period_guard((r ->> f)::date, (r ->> t)::date);
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;

-- Punches: manual ones added, any event voided or changed, inside a closed period. Camera events are
-- live and never dated in the past, so the writer is not held up by a close.
CREATE FUNCTION attendd_guard_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.source = 'manual' THEN PERFORM attendd_period_guard_ts(NEW.ts); END IF;
        RETURN NEW;
    END IF;
    IF NEW.voided_at IS DISTINCT FROM OLD.voided_at OR NEW.ts <> OLD.ts OR NEW.kind <> OLD.kind
       OR NEW.person_id IS DISTINCT FROM OLD.person_id THEN
        PERFORM attendd_period_guard_ts(OLD.ts);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER events_period_guard BEFORE INSERT OR UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_event();
CREATE TRIGGER schedules_period_guard BEFORE INSERT OR UPDATE OR DELETE ON schedules
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('valid_from', 'valid_to');

-- ---- patterns and overrides ----------------------------------------------------------------------------
-- cycle: a JSON array of days, each an array of shift ids (empty: a day off); weekly = 7 days from
-- Monday, rotation = N days from anchor_day. Exactly one of department / person_id.
CREATE TABLE roster_patterns (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    department  text        CONSTRAINT roster_patterns_department_len CHECK (char_length(department) BETWEEN 1 AND 200),
    person_id   uuid        REFERENCES people (id) ON DELETE CASCADE,
    kind        text        NOT NULL CONSTRAINT roster_patterns_kind CHECK (kind IN ('weekly', 'rotation')),
    anchor_day  date,
    valid_from  date        NOT NULL,
    valid_to    date,
    cycle       jsonb       NOT NULL CONSTRAINT roster_patterns_cycle CHECK (jsonb_typeof(cycle) = 'array'
                            AND jsonb_array_length(cycle) BETWEEN 1 AND 366),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roster_patterns_one_target CHECK ((department IS NULL) <> (person_id IS NULL)),
    CONSTRAINT roster_patterns_range CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT roster_patterns_weekly CHECK (kind <> 'weekly' OR jsonb_array_length(cycle) = 7),
    CONSTRAINT roster_patterns_anchor CHECK (kind <> 'rotation' OR anchor_day IS NOT NULL)
);
CREATE INDEX roster_patterns_person_idx ON roster_patterns (person_id);
CREATE TRIGGER roster_patterns_period_guard BEFORE INSERT OR UPDATE OR DELETE ON roster_patterns
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('valid_from', 'valid_to');

CREATE TABLE roster_overrides (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id   uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    day         date        NOT NULL,
    shift_ids   uuid[]      NOT NULL CONSTRAINT roster_overrides_shifts CHECK (cardinality(shift_ids) <= 4),
    reason      text        CONSTRAINT roster_overrides_reason_len CHECK (char_length(reason) BETWEEN 1 AND 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (person_id, day)
);
CREATE TRIGGER roster_overrides_period_guard BEFORE INSERT OR UPDATE OR DELETE ON roster_overrides
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('day', 'day');

-- ---- holidays and leave --------------------------------------------------------------------------------
CREATE TABLE holidays (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    day         date        NOT NULL UNIQUE,
    name        text        NOT NULL CONSTRAINT holidays_name_len CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER holidays_period_guard BEFORE INSERT OR UPDATE OR DELETE ON holidays
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('day', 'day');

CREATE TABLE leave_types (
    code        text        PRIMARY KEY CONSTRAINT leave_types_code CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    paid        boolean     NOT NULL,
    position    integer     NOT NULL UNIQUE CONSTRAINT leave_types_position CHECK (position BETWEEN 0 AND 15)
);
INSERT INTO leave_types (code, paid, position) VALUES
    ('annual', true, 0), ('sick', true, 1), ('training', true, 2), ('unpaid', false, 3);

CREATE TABLE leave (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id   uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    type        text        NOT NULL REFERENCES leave_types (code) ON DELETE RESTRICT,
    from_day    date        NOT NULL,
    to_day      date        NOT NULL,
    start_time  time(0),                                  -- part day: both set, start < end
    end_time    time(0),
    state       text        NOT NULL DEFAULT 'requested'
                            CONSTRAINT leave_state CHECK (state IN ('requested', 'approved', 'rejected')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leave_range CHECK (to_day >= from_day),
    CONSTRAINT leave_part CHECK ((start_time IS NULL) = (end_time IS NULL) AND (start_time IS NULL OR start_time < end_time))
);
CREATE INDEX leave_person_idx ON leave (person_id, from_day);
CREATE TRIGGER leave_period_guard BEFORE INSERT OR UPDATE OR DELETE ON leave
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('from_day', 'to_day');

-- ---- resolved exceptions -------------------------------------------------------------------------------
CREATE TABLE exception_resolutions (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id   uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    day         date        NOT NULL,
    kind        text        NOT NULL CONSTRAINT exception_resolutions_kind CHECK (kind IN ('missing_out', 'late',
                            'early_leave', 'absent', 'unscheduled_presence', 'short_rest', 'overtime_unapproved')),
    action      text        NOT NULL CONSTRAINT exception_resolutions_action CHECK (action IN ('accept', 'approve_overtime',
                            'corrected', 'mark_leave')),
    reason      text        NOT NULL CONSTRAINT exception_resolutions_reason_len CHECK (char_length(reason) BETWEEN 1 AND 1000),
    resolved_by text        NOT NULL,
    resolved_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (person_id, day, kind)
);
CREATE TRIGGER exception_resolutions_period_guard BEFORE INSERT OR UPDATE OR DELETE ON exception_resolutions
    FOR EACH ROW EXECUTE FUNCTION attendd_guard_range('day', 'day');

-- ---- misidentified camera events and look-alike staff --------------------------------------------------
-- A camera event HR marks as the wrong person is voided with its reason; the pair's similarity is kept
-- (ids and the score only) so look-alikes can be warned about.
ALTER TABLE events
    ADD COLUMN misidentified boolean NOT NULL DEFAULT false,
    ADD COLUMN void_reason   text CONSTRAINT events_void_reason_len CHECK (char_length(void_reason) BETWEEN 1 AND 1000);

CREATE TABLE person_lookalikes (
    person_a    uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    person_b    uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    score       real        NOT NULL CONSTRAINT person_lookalikes_score CHECK (score BETWEEN -1 AND 1),
    times       integer     NOT NULL DEFAULT 1,            -- misidentifications between the two
    last_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_a, person_b),
    CONSTRAINT person_lookalikes_ordered CHECK (person_a < person_b)
);
CREATE INDEX person_lookalikes_b_idx ON person_lookalikes (person_b);
