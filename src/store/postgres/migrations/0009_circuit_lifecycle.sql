-- The circuit lifecycle (docs/circuits.md): a version's state, sunset and successor. A row that
-- only set_circuit_enabled wrote has no state: its enabled column decides. enabled stays in step
-- with state (true for enabled and deprecated), so every reader of enabled keeps working.
ALTER TABLE circuit_versions
  ADD COLUMN state text CHECK (state IN ('uploaded', 'enabled', 'deprecated', 'disabled')),
  ADD COLUMN sunset_at bigint NOT NULL DEFAULT 0,
  ADD COLUMN successor text,
  ADD COLUMN deprecated_at bigint NOT NULL DEFAULT 0;

-- Changes waiting for a second admin (the two-person rule, docs/admin.md "Approvals").
CREATE TABLE pending_actions (
  id                text PRIMARY KEY,
  kind              text NOT NULL,
  params            jsonb NOT NULL CHECK (jsonb_typeof(params) = 'object'),
  requested_by_type text NOT NULL,
  requested_by_id   text NOT NULL,
  requested_at      bigint NOT NULL,
  expires_at        bigint NOT NULL,
  state             text NOT NULL CHECK (state IN ('pending', 'approved', 'expired', 'cancelled')),
  decided_by_type   text,
  decided_by_id     text,
  decided_at        bigint
);
CREATE INDEX pending_actions_requested ON pending_actions (requested_at DESC);

-- A partner's oldest accepted version per claim type (docs/circuits.md "Minimum versions").
CREATE TABLE partner_min_versions (
  client_id   text NOT NULL REFERENCES api_clients (id),
  claim_type  text NOT NULL,
  min_version text NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (client_id, claim_type)
);
