-- Console accounts for people (HR, ward managers, admins) signing in from a browser, and their
-- sessions. Passwords are argon2id hashes (libsodium crypto_pwhash_str); session secrets are stored
-- only as keyed hashes, like API tokens.
CREATE TYPE console_role AS ENUM ('admin', 'hr', 'manager');

CREATE TABLE console_users (
    id             uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text         NOT NULL UNIQUE
                                CONSTRAINT console_users_username_fmt CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name   text         NOT NULL
                                CONSTRAINT console_users_display_len CHECK (char_length(display_name) BETWEEN 1 AND 200),
    role           console_role NOT NULL,
    department     text         CONSTRAINT console_users_department_len CHECK (char_length(department) BETWEEN 1 AND 200),
    password_hash  text         NOT NULL, -- crypto_pwhash_str (argon2id, parameters inside)
    totp_secret    bytea        CONSTRAINT console_users_totp_len CHECK (octet_length(totp_secret) = 20), -- NULL: no second factor
    totp_last_step bigint,      -- the last accepted TOTP time step: a code is accepted once
    failed_logins  integer      NOT NULL DEFAULT 0, -- consecutive failed sign-ins
    locked_until   timestamptz, -- sign-in refused until then (lock-out after repeated failures)
    disabled_at    timestamptz,
    created_at     timestamptz  NOT NULL DEFAULT now(),
    updated_at     timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE console_sessions (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    hash         bytea       NOT NULL UNIQUE CONSTRAINT console_sessions_hash_len CHECK (octet_length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz -- signed out (or ended by an admin)
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
