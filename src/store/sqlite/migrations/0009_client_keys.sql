-- A partner's API keys in their own table: a rotation adds a key and gives the old one an expiry
-- (both work during the overlap); revoke-key revokes them all. Today's key of every partner is
-- copied in, with its revocation and last use. api_clients.key_prefix/key_hash keep the current
-- key (a previous release reads them); find_client_by_prefix reads client_keys.
CREATE TABLE client_keys (
  prefix       TEXT PRIMARY KEY NOT NULL,
  client_id    TEXT NOT NULL REFERENCES api_clients (id),
  key_hash     BLOB NOT NULL CHECK (length(key_hash) = 32),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  revoked_at   INTEGER,
  last_used_at INTEGER
) STRICT;
CREATE INDEX client_keys_by_client ON client_keys (client_id, created_at);
INSERT INTO client_keys (prefix, client_id, key_hash, created_at, revoked_at, last_used_at)
  SELECT key_prefix, id, key_hash, created_at, revoked_at, last_used FROM api_clients;

-- A suspended partner (admin suspend-client): its API calls answer CLIENT_SUSPENDED and its
-- webhooks are held (not dropped) until it is resumed.
ALTER TABLE api_clients ADD COLUMN suspended_at INTEGER;
CREATE INDEX api_clients_by_creation ON api_clients (created_at, id);
