-- Outbound notifications and rebuild triggers (palisade-notify).

-- Targets: `webhook` and `slack` receive events; `github_dispatch` and
-- `rebuild_webhook` receive rebuild requests. `secret` (the HMAC key) and
-- `token` (a bearer token) are write-only for the API: never returned.
-- `config` holds the rest (filter, allow_private, owner/repo...), JSON.
CREATE TABLE notify_targets (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    url         TEXT NOT NULL DEFAULT '',
    secret      TEXT,
    token       TEXT,
    config      TEXT NOT NULL DEFAULT '{}',
    enabled     BIGINT NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The delivery log: one row per notification per target, with its
-- attempts (JSON in `detail`).
CREATE TABLE notify_deliveries (
    id          TEXT PRIMARY KEY,
    target_id   TEXT NOT NULL REFERENCES notify_targets (id) ON DELETE CASCADE,
    event_id    TEXT,
    kind        TEXT NOT NULL,
    dedup_key   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    status      BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    error       TEXT,
    detail      TEXT NOT NULL DEFAULT '{}',
    at          BIGINT NOT NULL
);
CREATE INDEX notify_deliveries_target ON notify_deliveries (target_id, at);
CREATE INDEX notify_deliveries_at ON notify_deliveries (at);

-- Deduplication: the same key goes to a target once per window (rebuilds:
-- once). Claimed before sending, by every process through this table.
CREATE TABLE notify_dedup (
    target_id  TEXT NOT NULL REFERENCES notify_targets (id) ON DELETE CASCADE,
    dedup_key  TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    PRIMARY KEY (target_id, dedup_key)
);

-- Events already handled. Events are read from a little before the cursor
-- (an event committed late, with an older id, is still seen) and skipped
-- when listed here.
CREATE TABLE notify_seen (
    event_id  TEXT PRIMARY KEY,
    seen_at   BIGINT NOT NULL
);

-- `exception.expiring` is recorded once per exception.
CREATE INDEX events_kind_subject ON events (kind, subject);
