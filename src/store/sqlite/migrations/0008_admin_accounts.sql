-- Admin accounts and their sign-in sessions (docs/admin.md, "Admin accounts and sign-in"). No
-- secret in the clear: the password as an argon2id encoded hash, the TOTP key sealed with the
-- master key (context: the admin id), enrolment and session tokens as SHA-256 hex.
CREATE TABLE admin_accounts (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
  role                 TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver')),
  status               TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
  password_hash        TEXT,
  totp_secret_sealed   BLOB,
  totp_algorithm       TEXT NOT NULL DEFAULT 'SHA1' CHECK (totp_algorithm IN ('SHA1', 'SHA256')),
  totp_last_step       INTEGER NOT NULL DEFAULT -1,
  failed_sign_ins      INTEGER NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
  locked_until         INTEGER NOT NULL DEFAULT 0,
  enrolment_sha256     TEXT UNIQUE CHECK (enrolment_sha256 IS NULL OR length(enrolment_sha256) = 64),
  enrolment_expires_at INTEGER NOT NULL DEFAULT 0,
  created_at           INTEGER NOT NULL,
  version              INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE admin_sessions (
  token_sha256 TEXT PRIMARY KEY CHECK (length(token_sha256) = 64),
  admin_id     TEXT NOT NULL REFERENCES admin_accounts (id),
  csrf_sha256  TEXT NOT NULL CHECK (length(csrf_sha256) = 64),
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
