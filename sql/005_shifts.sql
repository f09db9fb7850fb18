-- Shifts and schedules: named shifts (local wall times; end <= start = overnight) and their
-- assignment to a department or one person for a date range. Run by src/store/migrate.c in one transaction.

-- btree_gist lets one exclusion constraint say "no two overlapping assignments for the same target"
-- (trusted extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE shifts (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text        NOT NULL UNIQUE CONSTRAINT shifts_name_len CHECK (char_length(name) BETWEEN 1 AND 100),
    start_time      time(0)     NOT NULL,
    end_time        time(0)     NOT NULL,                     -- end_time <= start_time: ends the next day
    grace_late_min  integer     NOT NULL DEFAULT 0 CONSTRAINT shifts_grace_late_range CHECK (grace_late_min BETWEEN 0 AND 720),
    grace_early_min integer     NOT NULL DEFAULT 0 CONSTRAINT shifts_grace_early_range CHECK (grace_early_min BETWEEN 0 AND 720),
    break_min       integer     NOT NULL DEFAULT 0 CONSTRAINT shifts_break_range CHECK (break_min BETWEEN 0 AND 720),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shifts_whole_minutes CHECK (extract(second FROM start_time) = 0 AND extract(second FROM end_time) = 0)
);
CREATE TRIGGER shifts_updated_at BEFORE UPDATE ON shifts
    FOR EACH ROW EXECUTE FUNCTION attendd_set_updated_at();

-- Exactly one of department / person_id. valid_to NULL = open-ended; both ends inclusive.
-- A person's own schedule beats their department's (src/store/shifts.c, docs/reports.md).
CREATE TABLE schedules (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    shift_id    uuid        NOT NULL REFERENCES shifts (id) ON DELETE RESTRICT,
    department  text        CONSTRAINT schedules_department_len CHECK (char_length(department) BETWEEN 1 AND 200),
    person_id   uuid        REFERENCES people (id) ON DELETE CASCADE,
    valid_from  date        NOT NULL,
    valid_to    date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedules_one_target CHECK ((department IS NULL) <> (person_id IS NULL)),
    CONSTRAINT schedules_range CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT schedules_no_overlap_department EXCLUDE USING gist
        (department WITH =, daterange(valid_from, valid_to, '[]') WITH &&) WHERE (department IS NOT NULL),
    CONSTRAINT schedules_no_overlap_person EXCLUDE USING gist
        (person_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&) WHERE (person_id IS NOT NULL)
);
CREATE INDEX schedules_shift_idx ON schedules (shift_id);
CREATE TRIGGER schedules_updated_at BEFORE UPDATE ON schedules
    FOR EACH ROW EXECUTE FUNCTION attendd_set_updated_at();
