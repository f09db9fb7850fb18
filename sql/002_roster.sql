-- Roster and templates: template key ids are 32-bit fingerprints (template_crypto.h), so
-- faces.key_id widens to bigint over 0..2^32-1; an index serves the roster's keyset pagination.
-- Run by src/store/migrate.c in one transaction: nothing here may need to run outside one.

ALTER TABLE faces DROP CONSTRAINT faces_key_id_range;
ALTER TABLE faces ALTER COLUMN key_id TYPE bigint;
ALTER TABLE faces ADD CONSTRAINT faces_key_id_range CHECK (key_id BETWEEN 0 AND 4294967295);

-- GET /people lists non-erased people oldest first, keyset on (created_at, id).
CREATE INDEX people_created_idx ON people (created_at, id) WHERE erased_at IS NULL;
