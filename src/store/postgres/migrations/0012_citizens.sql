-- Citizens' accounts (docs/citizens.md). The phone number is never kept: only its HMAC-SHA256
-- under a key derived from the master key (hex), so a number finds its account.
CREATE TABLE users (
  id         text PRIMARY KEY,
  phone_mac  text UNIQUE NOT NULL,
  language   text NOT NULL DEFAULT 'ne' CHECK (language IN ('ne', 'en')),
  created_at bigint NOT NULL
);

-- One sign-in code outstanding per phone (by its MAC): the code only as an HMAC, the wrong
-- guesses counted across the phone's codes, the lock-out's end. Pruned once nothing counts.
CREATE TABLE account_codes (
  phone_mac    text PRIMARY KEY,
  code_mac     text,
  expires_at   bigint NOT NULL,
  wrong        bigint NOT NULL DEFAULT 0,
  locked_until bigint NOT NULL DEFAULT 0
);
CREATE INDEX account_codes_by_expiry ON account_codes (expires_at);

-- Refresh tokens as their SHA-256 (hex; 256 random bits), in families: every token rotated from
-- one sign-in. A used token presented again revokes its whole family.
CREATE TABLE refresh_tokens (
  hash       text PRIMARY KEY,
  family_id  text NOT NULL,
  user_id    text NOT NULL REFERENCES users (id),
  issued_at  bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at    bigint,
  revoked_at bigint
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- Link tokens (POST /api/v1/account/link-token): opaque random handles kept as their SHA-256
-- (hex) with the account, the request nonce they are bound to and their end; spent by one verify.
CREATE TABLE account_links (
  hash       text PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id),
  nonce      text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX account_links_by_user ON account_links (user_id);
CREATE INDEX account_links_by_expiry ON account_links (expires_at);

-- A citizen's proofs (the account's list, deletion, anonymise-user) without scanning every
-- partition. Partial: user_id is NULL on every proof until accounts link one, so this builds from
-- an empty set on the tables that exist when it runs.
CREATE INDEX proofs_by_user ON proofs (user_id) WHERE user_id IS NOT NULL;
