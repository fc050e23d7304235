-- Palisade's data model. One set of migrations for SQLite and PostgreSQL: the
-- SQL here is the portable subset both accept. Identifiers are text (sortable
-- ids made in Rust), times are BIGINT milliseconds since the Unix epoch, and
-- JSON documents are TEXT, booleans are BIGINT 0 or 1 (sqlx's Any driver
-- reads no SQLite BOOLEAN).

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    team_id     TEXT NOT NULL REFERENCES teams (id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (team_id, name)
);

-- An environment maps each policy to a mode; `parent_id` gives inheritance.
CREATE TABLE environments (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    parent_id     TEXT REFERENCES environments (id),
    policy_modes  TEXT NOT NULL DEFAULT '{}',
    production    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- A workload is an application in an environment (a Kubernetes namespace and
-- name, or any other place that runs it).
CREATE TABLE workloads (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id),
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'Deployment',
    internet_facing BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    UNIQUE (environment_id, namespace, name)
);

CREATE TABLE artifacts (
    digest      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Which artifact a workload runs, from when to when (NULL: still running).
CREATE TABLE deployments (
    id              TEXT PRIMARY KEY,
    workload_id     TEXT NOT NULL REFERENCES workloads (id),
    artifact_digest TEXT NOT NULL REFERENCES artifacts (digest),
    container       TEXT NOT NULL DEFAULT '',
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT
);
CREATE INDEX deployments_running ON deployments (workload_id, ended_at);
CREATE INDEX deployments_artifact ON deployments (artifact_digest);

CREATE TABLE sboms (
    id               TEXT PRIMARY KEY,
    artifact_digest  TEXT NOT NULL REFERENCES artifacts (digest),
    document_digest  TEXT NOT NULL,
    source_format    TEXT NOT NULL,
    inventory        TEXT NOT NULL,
    component_count  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (artifact_digest, document_digest)
);

-- Components of an SBOM, keyed for matching: `package_key` is
-- `<ecosystem>/<normalised name>`, the key the advisory index uses.
CREATE TABLE components (
    id          TEXT PRIMARY KEY,
    sbom_id     TEXT NOT NULL REFERENCES sboms (id) ON DELETE CASCADE,
    bom_ref     TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT,
    ecosystem   TEXT,
    purl        TEXT,
    package_key TEXT,
    license     TEXT
);
CREATE INDEX components_package_key ON components (package_key);
CREATE INDEX components_sbom ON components (sbom_id);

-- One finding per (artifact, component, advisory); aliases collapse into the
-- canonical advisory id. Triage state lives here, its history in
-- finding_events.
CREATE TABLE findings (
    id               TEXT PRIMARY KEY,
    artifact_digest  TEXT NOT NULL REFERENCES artifacts (digest),
    component_id     TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    purl             TEXT,
    package_key      TEXT,
    advisory_id      TEXT NOT NULL,
    aliases          TEXT NOT NULL DEFAULT '[]',
    summary          TEXT NOT NULL DEFAULT '',
    severity         TEXT NOT NULL DEFAULT 'unknown',
    score            DOUBLE PRECISION,
    fixed_versions   TEXT NOT NULL DEFAULT '[]',
    sources          TEXT NOT NULL DEFAULT '[]',
    state            TEXT NOT NULL DEFAULT 'open',
    justification    TEXT,
    first_seen       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    resolved_at      BIGINT,
    resolution       TEXT,
    UNIQUE (artifact_digest, component_id, advisory_id)
);
CREATE INDEX findings_advisory ON findings (advisory_id);
CREATE INDEX findings_artifact_state ON findings (artifact_digest, state);

-- Append-only: every triage change, automatic resolution and re-opening.
CREATE TABLE finding_events (
    id             TEXT PRIMARY KEY,
    finding_id     TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    from_state     TEXT,
    to_state       TEXT,
    justification  TEXT,
    comment        TEXT
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, at);

-- Attestations are verified at ingest; the verdict is stored per artifact.
CREATE TABLE attestations (
    id               TEXT PRIMARY KEY,
    artifact_digest  TEXT NOT NULL REFERENCES artifacts (digest),
    envelope_digest  TEXT NOT NULL,
    predicate_type   TEXT NOT NULL,
    verified         BIGINT NOT NULL,
    signer           TEXT,
    verdict          TEXT NOT NULL,
    statement        TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (artifact_digest, envelope_digest)
);

CREATE TABLE exceptions (
    id               TEXT PRIMARY KEY,
    team_id          TEXT REFERENCES teams (id),
    workload_id      TEXT,
    artifact_digest  TEXT,
    vulnerability    TEXT,
    policy           TEXT,
    reason           TEXT NOT NULL,
    requested_by     TEXT NOT NULL,
    requested_at     BIGINT NOT NULL,
    approved_by      TEXT,
    approved_at      BIGINT,
    expires_at       BIGINT NOT NULL,
    revoked_at       BIGINT
);

CREATE TABLE exception_events (
    id            TEXT PRIMARY KEY,
    exception_id  TEXT NOT NULL REFERENCES exceptions (id),
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    detail        TEXT
);

CREATE TABLE decisions (
    id               TEXT PRIMARY KEY,
    at               BIGINT NOT NULL,
    source           TEXT NOT NULL,
    environment      TEXT NOT NULL,
    workload_id      TEXT,
    artifact_digest  TEXT,
    input_digest     TEXT NOT NULL,
    bundle_digest    TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    reasons          TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX decisions_at ON decisions (at);
CREATE INDEX decisions_workload ON decisions (workload_id, at);

-- API tokens are stored as SHA-256 hashes; the secret is shown once.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    team_id     TEXT REFERENCES teams (id),
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Every mutating call: who, when, what.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Events for notifications (new, changed and resolved findings; denials;
-- expiring exceptions).
CREATE TABLE events (
    id        TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    payload   TEXT NOT NULL
);
CREATE INDEX events_at ON events (at);

-- The job queue. On PostgreSQL workers claim with FOR UPDATE SKIP LOCKED; a
-- job whose lease expires (its worker died) is claimed again.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedup_key    TEXT UNIQUE,
    state        TEXT NOT NULL DEFAULT 'queued',
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
