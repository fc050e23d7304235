-- Fewer rows per new finding, so that an advisory touching thousands of
-- artifacts is written quickly.
--
-- A finding's detection is no longer a `finding_events` row: `detected_by`
-- (who stored it) and `first_seen` (when) are its detection event, which
-- the history and metrics queries synthesise. Findings stored before this
-- migration keep their `detected` rows and have no `detected_by`.
ALTER TABLE findings ADD COLUMN detected_by TEXT;

-- Served by the unique index on (artifact_digest, component_key,
-- advisory_id): look-ups by artifact use its prefix.
DROP INDEX findings_artifact_state;
