-- OAuth2 client credentials (docs/partners.md, "Tokens"): a partner's client secret, kept as its
-- SHA-256 (256 random bits: no slow hash needed), and the access tokens' Ed25519 signing keys,
-- shared by every instance, each private key sealed with the master key (context: its kid).
CREATE TABLE client_secrets (
  client_id   TEXT PRIMARY KEY NOT NULL REFERENCES api_clients (id),
  secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
  updated_at  INTEGER NOT NULL
) STRICT;

-- One current key (retired_at NULL); a rotation retires it, and it stays in the JWKS until the
-- last token it signed expires.
CREATE TABLE token_keys (
  kid            TEXT PRIMARY KEY NOT NULL,
  public_key     BLOB NOT NULL CHECK (length(public_key) = 32),
  private_sealed BLOB NOT NULL,
  created_at     INTEGER NOT NULL,
  retired_at     INTEGER
) STRICT;
CREATE UNIQUE INDEX token_keys_one_current ON token_keys ((coalesce(retired_at, 0)))
  WHERE retired_at IS NULL;
