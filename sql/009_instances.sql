-- Several attendd instances on one database: who is alive (instances, heartbeat in database time),
-- which instance processes which camera (camera_leases, a row per camera with an expiry), and the
-- change feed every instance LISTENs to (NOTIFY attendd_sync), so an enrolment, an erasure, a camera
-- change or a token revocation made through one instance reaches the others at commit.
-- Run by src/store/migrate.c in one transaction.

CREATE TABLE instances (
    id           uuid        PRIMARY KEY,
    name         text        NOT NULL CONSTRAINT instances_name_len CHECK (char_length(name) BETWEEN 1 AND 200),
    host         text        NOT NULL CONSTRAINT instances_host_len CHECK (char_length(host) BETWEEN 1 AND 255),
    capacity     integer     NOT NULL CONSTRAINT instances_capacity_range CHECK (capacity BETWEEN 1 AND 10000),
    lease_s      integer     NOT NULL CONSTRAINT instances_lease_range CHECK (lease_s BETWEEN 1 AND 3600),
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz,                   -- a graceful stop; NULL while running (or killed)
    lease_moves  bigint      NOT NULL DEFAULT 0 -- leases this instance took over from another holder
);

-- One row per camera (made by the instances as cameras appear). A lease is held while expires_at is
-- in the future; instance_id NULL (or an expired lease) means free. Taken with FOR UPDATE SKIP LOCKED.
CREATE TABLE camera_leases (
    camera_id   uuid        PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    instance_id uuid        REFERENCES instances (id) ON DELETE SET NULL,
    since       timestamptz,                            -- when the current holder took it
    expires_at  timestamptz NOT NULL DEFAULT '-infinity'
);
CREATE INDEX camera_leases_instance_idx ON camera_leases (instance_id);

-- The change feed: payload "<what>:<id>:<µs since the epoch when the change was made>", delivered to
-- every listening session at commit (the time lets a listener measure how far behind it is).
CREATE FUNCTION attendd_sync_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    what text;
    row_id text;
BEGIN
    IF TG_TABLE_NAME = 'faces' THEN
        what := 'person';
        row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END;
    ELSIF TG_TABLE_NAME = 'people' THEN
        what := 'person';
        row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    ELSIF TG_TABLE_NAME = 'cameras' THEN
        what := 'camera';
        row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    ELSIF TG_TABLE_NAME = 'api_tokens' THEN
        IF NEW.revoked_at IS NULL OR OLD.revoked_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        what := 'token';
        row_id := NEW.id;
    ELSE
        RETURN NULL;
    END IF;
    PERFORM pg_notify('attendd_sync', what || ':' || row_id || ':' ||
                      (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
    RETURN NULL;
END
$$;

CREATE TRIGGER faces_sync AFTER INSERT OR UPDATE OR DELETE ON faces
    FOR EACH ROW EXECUTE FUNCTION attendd_sync_notify();
CREATE TRIGGER people_sync AFTER INSERT OR UPDATE OR DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION attendd_sync_notify();
CREATE TRIGGER cameras_sync AFTER INSERT OR UPDATE OR DELETE ON cameras
    FOR EACH ROW EXECUTE FUNCTION attendd_sync_notify();
CREATE TRIGGER api_tokens_sync AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION attendd_sync_notify();
