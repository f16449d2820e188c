-- The circuit lifecycle (docs/circuits.md): a version's state, sunset and successor. A row that
-- only set_circuit_enabled wrote has no state: its enabled column decides. enabled stays in step
-- with state (1 for enabled and deprecated), so every reader of enabled keeps working.
ALTER TABLE circuit_versions ADD COLUMN state TEXT
  CHECK (state IN ('uploaded', 'enabled', 'deprecated', 'disabled'));
ALTER TABLE circuit_versions ADD COLUMN sunset_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE circuit_versions ADD COLUMN successor TEXT;
ALTER TABLE circuit_versions ADD COLUMN deprecated_at INTEGER NOT NULL DEFAULT 0;

-- Changes waiting for a second admin (the two-person rule, docs/admin.md "Approvals").
CREATE TABLE pending_actions (
  id                TEXT PRIMARY KEY NOT NULL,
  kind              TEXT NOT NULL,
  params            TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object'),
  requested_by_type TEXT NOT NULL,
  requested_by_id   TEXT NOT NULL,
  requested_at      INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'expired', 'cancelled')),
  decided_by_type   TEXT,
  decided_by_id     TEXT,
  decided_at        INTEGER
) STRICT;
CREATE INDEX pending_actions_requested ON pending_actions (requested_at DESC);

-- A partner's oldest accepted version per claim type (docs/circuits.md "Minimum versions").
CREATE TABLE partner_min_versions (
  client_id   TEXT NOT NULL REFERENCES api_clients (id),
  claim_type  TEXT NOT NULL,
  min_version TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (client_id, claim_type)
) STRICT;
