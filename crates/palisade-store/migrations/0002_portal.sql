-- The portal: local users and server-side sessions.
--
-- Passwords are stored as argon2id PHC strings (the portal hashes them; the
-- store never sees a password). A user has a role and, like an API token, an
-- optional team that scopes what they see.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    team_id        TEXT REFERENCES teams (id),
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);

-- A signed-in browser. The cookie carries a random secret; only its SHA-256
-- is stored, so a leaked database holds no usable session. A session belongs
-- to a user or to an API token (sign-in with a token); the CSRF token is the
-- synchronizer token every form of the session must carry.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    token_id    TEXT REFERENCES api_tokens (id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
