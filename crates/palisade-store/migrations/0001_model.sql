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

-- An artifact by content digest. `team_id` is the team that first uploaded
-- evidence for it (its owner, for visibility before it is deployed).
CREATE TABLE artifacts (
    digest      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    team_id     TEXT REFERENCES teams (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX artifacts_name ON artifacts (name);

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
    uploaded_by      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    UNIQUE (artifact_digest, document_digest)
);

-- Components of an artifact's SBOMs, keyed for matching: `package_key` is
-- `<OSV ecosystem>/<normalised name>` (the source package for Debian- and
-- Alpine-family packages), the key `advisory_keys` uses; `release` is the
-- distribution release it was installed on. `component_key` (the purl, or
-- name@version) identifies the component within its artifact.
CREATE TABLE components (
    id              TEXT PRIMARY KEY,
    sbom_id         TEXT NOT NULL REFERENCES sboms (id) ON DELETE CASCADE,
    artifact_digest TEXT NOT NULL REFERENCES artifacts (digest),
    component_key   TEXT NOT NULL,
    bom_ref         TEXT NOT NULL,
    name            TEXT NOT NULL,
    version         TEXT,
    purl            TEXT,
    package_key     TEXT,
    release         TEXT,
    match_version   TEXT,
    license         TEXT,
    UNIQUE (sbom_id, component_key)
);
CREATE INDEX components_package_key ON components (package_key);
CREATE INDEX components_artifact ON components (artifact_digest);

-- Advisories, as OSV records (the raw JSON), shared by every server process.
CREATE TABLE advisories (
    id         TEXT PRIMARY KEY,
    modified   BIGINT NOT NULL,
    published  BIGINT,
    withdrawn  BIGINT NOT NULL DEFAULT 0,
    summary    TEXT NOT NULL DEFAULT '',
    record     TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- The package keys each advisory names (the reverse index of matching).
CREATE TABLE advisory_keys (
    advisory_id  TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    package_key  TEXT NOT NULL,
    PRIMARY KEY (advisory_id, package_key)
);
CREATE INDEX advisory_keys_key ON advisory_keys (package_key);

-- Every id and alias of an advisory (for look-ups by CVE, GHSA...).
CREATE TABLE advisory_ids (
    vuln_id      TEXT NOT NULL,
    advisory_id  TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (vuln_id, advisory_id)
);

-- One finding per (artifact, component, vulnerability); aliases collapse
-- into one finding, whose every id is in finding_ids. Triage state lives
-- here, its history in finding_events.
CREATE TABLE findings (
    id                TEXT PRIMARY KEY,
    artifact_digest   TEXT NOT NULL REFERENCES artifacts (digest),
    component_key     TEXT NOT NULL,
    component_name    TEXT NOT NULL,
    component_version TEXT,
    purl              TEXT,
    package_key       TEXT,
    advisory_id       TEXT NOT NULL,
    aliases           TEXT NOT NULL DEFAULT '[]',
    summary           TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL DEFAULT 'unknown',
    score             DOUBLE PRECISION,
    fix_version       TEXT,
    fixed_versions    TEXT NOT NULL DEFAULT '[]',
    sources           TEXT NOT NULL DEFAULT '[]',
    state             TEXT NOT NULL DEFAULT 'open',
    justification     TEXT,
    first_seen        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    resolved_at       BIGINT,
    resolution        TEXT,
    rank              BIGINT NOT NULL DEFAULT 0,
    vector            TEXT,
    priority          TEXT NOT NULL DEFAULT '',
    due_at            BIGINT,
    factors           TEXT NOT NULL DEFAULT '[]',
    UNIQUE (artifact_digest, component_key, advisory_id)
);
CREATE INDEX findings_artifact_state ON findings (artifact_digest, state);
CREATE INDEX findings_package ON findings (package_key);
CREATE INDEX findings_rank ON findings (rank, id);

CREATE TABLE finding_ids (
    finding_id  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    vuln_id     TEXT NOT NULL,
    PRIMARY KEY (finding_id, vuln_id)
);
CREATE INDEX finding_ids_vuln ON finding_ids (vuln_id);

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

-- Findings of other scanners that are not about a component: code (SARIF),
-- dynamic (ZAP), runtime (Falco), misconfigurations and secrets. One row per
-- artifact, tool and stable fingerprint, so re-uploads do not duplicate; a
-- newer scan by the same tool that no longer reports one resolves it.
CREATE TABLE scan_findings (
    id               TEXT PRIMARY KEY,
    artifact_digest  TEXT NOT NULL REFERENCES artifacts (digest),
    tool             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    aliases          TEXT NOT NULL DEFAULT '[]',
    title            TEXT NOT NULL DEFAULT '',
    severity         TEXT NOT NULL DEFAULT 'unknown',
    score            DOUBLE PRECISION,
    location         TEXT NOT NULL,
    location_text    TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT 'open',
    first_seen       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    resolved_at      BIGINT,
    resolution       TEXT,
    UNIQUE (artifact_digest, tool, fingerprint)
);
CREATE INDEX scan_findings_artifact ON scan_findings (artifact_digest, state);

-- Which environment (and application) a Kubernetes namespace belongs to, for
-- the admission webhook.
CREATE TABLE namespaces (
    cluster         TEXT NOT NULL DEFAULT '',
    namespace       TEXT NOT NULL,
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    application_id  TEXT NOT NULL REFERENCES applications (id),
    PRIMARY KEY (cluster, namespace)
);

-- Exploit prediction (FIRST's EPSS) and known exploitation (CISA's KEV),
-- imported from their published files; prioritisation reads them.
CREATE TABLE epss_scores (
    cve         TEXT PRIMARY KEY,
    score       DOUBLE PRECISION NOT NULL,
    percentile  DOUBLE PRECISION NOT NULL,
    score_date  TEXT
);

CREATE TABLE kev_entries (
    cve         TEXT PRIMARY KEY,
    date_added  TEXT NOT NULL,
    due_date    TEXT,
    ransomware  BIGINT NOT NULL DEFAULT 0,
    name        TEXT NOT NULL DEFAULT ''
);

-- Small counters and settings shared by every process.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

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

-- Exceptions waive policy violations within a scope (every set field must
-- match; at least one is set) until they expire. The two-person rule: the
-- approver differs from the requester.
CREATE TABLE exceptions (
    id                   TEXT PRIMARY KEY,
    team_id              TEXT REFERENCES teams (id),
    scope_workload       TEXT,
    scope_artifact       TEXT,
    scope_vulnerability  TEXT,
    scope_policy         TEXT,
    reason               TEXT NOT NULL,
    requested_by         TEXT NOT NULL,
    requested_at         BIGINT NOT NULL,
    approved_by          TEXT,
    approved_at          BIGINT,
    expires_at           BIGINT NOT NULL,
    revoked_by           TEXT,
    revoked_at           BIGINT
);
CREATE INDEX exceptions_expiry ON exceptions (expires_at);

CREATE TABLE exception_events (
    id            TEXT PRIMARY KEY,
    exception_id  TEXT NOT NULL REFERENCES exceptions (id),
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    detail        TEXT
);
CREATE INDEX exception_events_exception ON exception_events (exception_id, at);

-- Every policy decision, whoever asked (admission, CI gate, audit): the
-- input's digest, the bundle's digest, the outcome and the whole record.
CREATE TABLE decisions (
    id               TEXT PRIMARY KEY,
    at               BIGINT NOT NULL,
    source           TEXT NOT NULL,
    environment      TEXT NOT NULL,
    team_id          TEXT,
    workload_id      TEXT,
    workload         TEXT,
    artifact_digest  TEXT,
    input_digest     TEXT NOT NULL,
    bundle_digest    TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    reasons          TEXT NOT NULL DEFAULT '[]',
    record           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX decisions_at ON decisions (at);
CREATE INDEX decisions_workload ON decisions (workload_id, at);
CREATE INDEX decisions_artifact ON decisions (artifact_digest, at);

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
    result       TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
