-- The audit trail (admin actions, retention runs), as PostgreSQL's audit_logs (0001_init.sql) with
-- ip as TEXT. details is a JSON object; never secrets nor personal data (src/core/audit.hpp).
-- Rows older than the retention window are archived then deleted (docs/retention.md).
CREATE TABLE audit_logs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  actor_type TEXT NOT NULL,
  actor_id   TEXT,
  action     TEXT NOT NULL,
  details    TEXT CHECK (details IS NULL OR json_type(details) = 'object'),
  ip         TEXT,
  at         INTEGER NOT NULL
) STRICT;
-- Export by time range and retention's oldest-first batches.
CREATE INDEX audit_logs_at ON audit_logs (at, id);

-- Account anonymisation finds a user's proofs without scanning them all (user_id is mostly NULL).
CREATE INDEX proofs_by_user ON proofs (user_id) WHERE user_id IS NOT NULL;
