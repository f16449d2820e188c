-- A verifier domain belongs to one partner (two partners on one domain would receive the same
-- nullifier for one person, linking them): its primary key is the last word, written with the
-- partner (SqliteStore::create_client). Existing partners' domains are copied in; should two
-- partners already share one, this migration fails on the primary key and the database stays at
-- the previous version until an operator resolves it (README "One domain, one partner").
CREATE TABLE verifier_domains (
  domain    TEXT PRIMARY KEY NOT NULL,
  client_id TEXT NOT NULL REFERENCES api_clients (id)
) STRICT;
INSERT INTO verifier_domains (domain, client_id)
  SELECT DISTINCT domains.value, api_clients.id
  FROM api_clients, json_each(api_clients.domains) AS domains;

-- A revoked API key (admin revoke-key): find_client_by_prefix no longer finds the partner.
ALTER TABLE api_clients ADD COLUMN revoked_at INTEGER;
