-- Test and live modes (docs/partners.md, "Keys and modes"): a partner is a live client, and its
-- test twin is a client of its own (mode 'test', live_client_id its partner), so every per-client
-- rule (requests, nonces, idempotency, webhooks, rate limits) keeps the modes apart. Sandbox
-- issuers' roots (docs/issuers.md, "Sandbox feeds") form a chain of their own per issuer.
ALTER TABLE api_clients ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE api_clients ADD COLUMN live_client_id TEXT REFERENCES api_clients (id)
  CHECK (live_client_id IS NULL OR mode = 'test');
CREATE INDEX api_clients_live_client ON api_clients (live_client_id) WHERE live_client_id IS NOT NULL;

CREATE TABLE issuer_roots_sided (
  issuer_id     INTEGER NOT NULL,
  sandbox       INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
  root          TEXT NOT NULL,
  published_at  INTEGER NOT NULL,
  superseded_at INTEGER NOT NULL DEFAULT 0,
  seq           INTEGER NOT NULL DEFAULT 0,
  issued_at     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (issuer_id, sandbox, root)
) STRICT;
INSERT INTO issuer_roots_sided (issuer_id, sandbox, root, published_at, superseded_at, seq, issued_at)
  SELECT issuer_id, 0, root, published_at, superseded_at, seq, issued_at FROM issuer_roots;
DROP TABLE issuer_roots;
ALTER TABLE issuer_roots_sided RENAME TO issuer_roots;
CREATE UNIQUE INDEX issuer_roots_one_current ON issuer_roots (issuer_id, sandbox)
  WHERE superseded_at = 0;
CREATE UNIQUE INDEX issuer_roots_feed_seq ON issuer_roots (issuer_id, sandbox, seq) WHERE seq > 0;

CREATE TABLE feed_keys_sided (
  issuer_id     INTEGER NOT NULL CHECK (issuer_id BETWEEN 0 AND 4294967295),
  sandbox       INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
  key_id        TEXT NOT NULL CHECK (length(key_id) = 16),
  public_key    TEXT NOT NULL CHECK (length(public_key) = 43),
  valid_until   INTEGER NOT NULL DEFAULT 0 CHECK (valid_until >= 0),
  announced_seq INTEGER NOT NULL DEFAULT 0 CHECK (announced_seq >= 0),
  PRIMARY KEY (issuer_id, sandbox, key_id)
) STRICT;
INSERT INTO feed_keys_sided (issuer_id, sandbox, key_id, public_key, valid_until, announced_seq)
  SELECT issuer_id, 0, key_id, public_key, valid_until, announced_seq FROM feed_keys;
DROP TABLE feed_keys;
ALTER TABLE feed_keys_sided RENAME TO feed_keys;
