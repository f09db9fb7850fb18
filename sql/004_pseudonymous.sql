-- Corrections, live feed, pseudonymous mode: pseudonymous API tokens, and events.seq, the
-- commit-ordered position behind the SSE feed's ids. Run by src/store/migrate.c in one transaction.

-- A pseudonymous token sees people.pseudonym instead of person ids, names and employee numbers.
ALTER TABLE api_tokens ADD COLUMN pseudonymous boolean NOT NULL DEFAULT false;

-- seq: assigned at insert under a transaction-scoped advisory lock held to commit, so inserting
-- transactions commit in seq order and a reader that has seen seq N never later finds a row < N.
-- (The lock serialises event inserts; the writer batches them and manual punches are rare.)
CREATE SEQUENCE events_seq_seq AS bigint;
ALTER TABLE events ADD COLUMN seq bigint;
UPDATE events e SET seq = o.n
  FROM (SELECT id, row_number() OVER (ORDER BY inserted_at, ts, id) AS n FROM events) o WHERE o.id = e.id;
SELECT setval('events_seq_seq', coalesce((SELECT max(seq) FROM events), 0) + 1, false);
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX events_seq_idx ON events (seq);

CREATE FUNCTION events_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7468796551);  -- 'attendd' events seq lock
    NEW.seq := nextval('events_seq_seq');
    RETURN NEW;
END
$$;
CREATE TRIGGER events_seq BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_assign_seq();
