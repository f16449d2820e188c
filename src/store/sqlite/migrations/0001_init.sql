-- The initial schema of the embedded (SQLite) store: partners, proof requests, proof metadata, the
-- webhook outbox, idempotency records, issuer roots and circuit switches. Times are Unix
-- milliseconds (INTEGER); "absent" is NULL. STRICT tables refuse values of the wrong type.

CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT;

-- A partner. Only the public prefix and SHA-256 of the API key are kept.
CREATE TABLE api_clients (
  id                    TEXT PRIMARY KEY NOT NULL,
  name                  TEXT NOT NULL,
  key_prefix            TEXT UNIQUE NOT NULL,
  key_hash              BLOB NOT NULL CHECK (length(key_hash) = 32),
  scopes                TEXT NOT NULL CHECK (json_type(scopes) = 'array'),
  domains               TEXT NOT NULL CHECK (json_type(domains) = 'array'),
  webhook_url           TEXT,
  webhook_secret_sealed BLOB,
  created_at            INTEGER NOT NULL,
  last_used             INTEGER
) STRICT;

CREATE TABLE proof_requests (
  id              TEXT PRIMARY KEY NOT NULL,
  verifier_id     TEXT NOT NULL REFERENCES api_clients (id),
  nonce           TEXT NOT NULL,
  claim_type      TEXT NOT NULL,
  circuit_version TEXT NOT NULL,
  verifier_domain TEXT NOT NULL,
  params          TEXT NOT NULL CHECK (json_type(params) = 'object'),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  UNIQUE (verifier_id, nonce)
) STRICT;

-- One row per answered proof request; the unique (verifier_id, request_nonce) is the last word on
-- replays. Never the proof or the public signals: only their SHA-256.
CREATE TABLE proofs (
  id              TEXT PRIMARY KEY NOT NULL,
  verifier_id     TEXT NOT NULL REFERENCES api_clients (id),
  user_id         TEXT,
  claim_type      TEXT NOT NULL,
  circuit_version TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('verified', 'failed')),
  error_code      TEXT,
  public_hash     TEXT NOT NULL,
  request_nonce   TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  verified_at     INTEGER,
  UNIQUE (verifier_id, request_nonce)
) STRICT;
CREATE INDEX proofs_by_verifier_created ON proofs (verifier_id, created_at);

-- The transactional outbox: written in the proof's transaction, drained by the webhook worker.
CREATE TABLE webhooks_outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT UNIQUE NOT NULL,
  verifier_id     TEXT NOT NULL REFERENCES api_clients (id),
  proof_id        TEXT NOT NULL REFERENCES proofs (id),
  event_type      TEXT NOT NULL,
  payload         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending',
  attempt         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_outbox_due ON webhooks_outbox (status, next_attempt_at);

CREATE TABLE idempotency_keys (
  verifier_id TEXT NOT NULL REFERENCES api_clients (id),
  key         TEXT NOT NULL,
  body_hash   TEXT NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (verifier_id, key)
) STRICT, WITHOUT ROWID;

-- superseded_at = 0 while the root is its issuer's current one; at most one current root each.
CREATE TABLE issuer_roots (
  issuer_id     INTEGER NOT NULL,
  root          TEXT NOT NULL,
  published_at  INTEGER NOT NULL,
  superseded_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (issuer_id, root)
) STRICT;
CREATE UNIQUE INDEX issuer_roots_one_current ON issuer_roots (issuer_id) WHERE superseded_at = 0;

-- A circuit version is enabled unless a row here says otherwise.
CREATE TABLE circuit_versions (
  claim_type TEXT NOT NULL,
  semver     TEXT NOT NULL,
  enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (claim_type, semver)
) STRICT;
