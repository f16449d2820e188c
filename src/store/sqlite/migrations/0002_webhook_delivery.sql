-- Webhook delivery: outbox rows without a proof (test events, account_deleted), leases for the
-- workers that claim them, the state of each delivery, one row per attempt, and a previous webhook
-- secret that keeps signing while partners switch over. Upgrades a populated 0001 database in
-- place; every outbox row keeps its id, state and attempt count.

-- SQLite cannot drop NOT NULL from proof_id nor add a CHECK to a column, so the outbox is rebuilt
-- (https://www.sqlite.org/lang_altertable.html#otheralter): new table, copy, drop, rename. Nothing
-- references webhooks_outbox before webhook_attempts is created below, so foreign keys stay on.
-- lease_until = 0 and lease_owner NULL: nobody holds the row. "attempt" becomes "attempts" (the
-- count made so far; webhook_attempts.attempt numbers each one).
CREATE TABLE webhooks_outbox_new (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT UNIQUE NOT NULL,
  verifier_id     TEXT NOT NULL REFERENCES api_clients (id),
  proof_id        TEXT REFERENCES proofs (id),
  event_type      TEXT NOT NULL,
  payload         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  last_error      TEXT,
  lease_owner     TEXT,
  lease_until     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- 0001 wrote only 'pending'; any other status fails the CHECK and the whole migration rolls back,
-- leaving the 0001 database as it was.
INSERT INTO webhooks_outbox_new (id, event_id, verifier_id, proof_id, event_type, payload, status,
                                 attempts, next_attempt_at, created_at)
SELECT id, event_id, verifier_id, proof_id, event_type, payload, status, attempt, next_attempt_at,
       created_at
FROM webhooks_outbox;

-- AUTOINCREMENT never reuses an id: carry over the old counter, which may exceed max(id) when the
-- newest rows were deleted. DROP TABLE removes the old counter; RENAME renames the new one.
DELETE FROM sqlite_sequence WHERE name = 'webhooks_outbox_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'webhooks_outbox_new', seq FROM sqlite_sequence WHERE name = 'webhooks_outbox';

DROP TABLE webhooks_outbox;
ALTER TABLE webhooks_outbox_new RENAME TO webhooks_outbox;

-- Claiming: pending rows by due time. Leases: a partner's live leases (per-partner cap).
CREATE INDEX webhooks_outbox_due ON webhooks_outbox (status, next_attempt_at);
CREATE INDEX webhooks_outbox_leases ON webhooks_outbox (verifier_id, lease_until);

-- One row per attempt, numbered from 1 per event. status_code NULL: no HTTP answer; error NULL on
-- a 2xx.
CREATE TABLE webhook_attempts (
  event_id    TEXT NOT NULL REFERENCES webhooks_outbox (event_id),
  attempt     INTEGER NOT NULL CHECK (attempt >= 1),
  started_at  INTEGER NOT NULL,
  status_code INTEGER,
  latency_ms  INTEGER NOT NULL,
  error       TEXT,
  PRIMARY KEY (event_id, attempt)
) STRICT, WITHOUT ROWID;

-- Secret rotation: the previous secret signs too until webhook_previous_until (0: no previous).
ALTER TABLE api_clients ADD COLUMN webhook_secret_previous_sealed BLOB;
ALTER TABLE api_clients ADD COLUMN webhook_previous_until INTEGER NOT NULL DEFAULT 0;
