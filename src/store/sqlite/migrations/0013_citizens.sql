-- Citizens' accounts (docs/citizens.md). The phone number is never kept: only its HMAC-SHA256
-- under a key derived from the master key (hex), so a number finds its account.
CREATE TABLE users (
  id         TEXT PRIMARY KEY NOT NULL,
  phone_mac  TEXT UNIQUE NOT NULL,
  language   TEXT NOT NULL DEFAULT 'ne' CHECK (language IN ('ne', 'en')),
  created_at INTEGER NOT NULL
) STRICT;

-- One sign-in code outstanding per phone (by its MAC): the code only as an HMAC, the wrong
-- guesses counted across the phone's codes, the lock-out's end. Pruned once nothing counts.
CREATE TABLE account_codes (
  phone_mac    TEXT PRIMARY KEY NOT NULL,
  code_mac     TEXT,
  expires_at   INTEGER NOT NULL,
  wrong        INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX account_codes_by_expiry ON account_codes (expires_at);

-- Refresh tokens as their SHA-256 (hex; 256 random bits), in families: every token rotated from
-- one sign-in. A used token presented again revokes its whole family.
CREATE TABLE refresh_tokens (
  hash       TEXT PRIMARY KEY NOT NULL,
  family_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id),
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- Link tokens (POST /api/v1/account/link-token): opaque random handles kept as their SHA-256
-- (hex) with the account, the request nonce they are bound to and their end; spent by one verify.
CREATE TABLE account_links (
  hash       TEXT PRIMARY KEY NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id),
  nonce      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX account_links_by_user ON account_links (user_id);
CREATE INDEX account_links_by_expiry ON account_links (expires_at);
