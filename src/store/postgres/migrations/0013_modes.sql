-- Test and live modes (docs/partners.md, "Keys and modes"): a partner is a live client, and its
-- test twin is a client of its own (mode 'test', live_client_id its partner), so every per-client
-- rule (requests, nonces, idempotency, webhooks, rate limits) keeps the modes apart. Sandbox
-- issuers' roots (docs/issuers.md, "Sandbox feeds") form a chain of their own per issuer.
ALTER TABLE api_clients ADD COLUMN mode text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE api_clients ADD COLUMN live_client_id text REFERENCES api_clients (id);
ALTER TABLE api_clients ADD CONSTRAINT api_clients_twin_is_test
  CHECK (live_client_id IS NULL OR mode = 'test');
CREATE INDEX api_clients_live_client ON api_clients (live_client_id)
  WHERE live_client_id IS NOT NULL;

ALTER TABLE issuer_roots ADD COLUMN sandbox boolean NOT NULL DEFAULT false;
ALTER TABLE issuer_roots DROP CONSTRAINT issuer_roots_pkey;
ALTER TABLE issuer_roots ADD PRIMARY KEY (issuer_id, sandbox, root);
DROP INDEX issuer_roots_one_current;
CREATE UNIQUE INDEX issuer_roots_one_current ON issuer_roots (issuer_id, sandbox)
  WHERE superseded_at = 0;
DROP INDEX issuer_roots_feed_seq;
CREATE UNIQUE INDEX issuer_roots_feed_seq ON issuer_roots (issuer_id, sandbox, seq) WHERE seq > 0;

ALTER TABLE feed_keys ADD COLUMN sandbox boolean NOT NULL DEFAULT false;
ALTER TABLE feed_keys DROP CONSTRAINT feed_keys_pkey;
ALTER TABLE feed_keys ADD PRIMARY KEY (issuer_id, sandbox, key_id);
